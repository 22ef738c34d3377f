import { eq } from "drizzle-orm";
import { NotFoundError } from "../platform/errors.js";
import type { DbOrTx } from "./client.js";
import { projects } from "./schema.js";

/**
 * Locks the project's row for the rest of the transaction, so that a per-project cap (categories,
 * exports, webhook endpoints) holds under concurrent requests: each one counts after the last has
 * committed. NO KEY UPDATE, not UPDATE: chats inserting threads take the foreign key's KEY SHARE
 * lock on the row and are not blocked. A project deleted while its key was still cached by the
 * authorizer is not found.
 */
export async function lockProjectForCap(tx: DbOrTx, projectId: string): Promise<void> {
  const [project] = await tx
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.id, projectId))
    .for("no key update");
  if (!project) throw new NotFoundError(`Project ${projectId} not found`);
}
