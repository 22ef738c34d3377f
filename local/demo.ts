import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { createProject, createTeam, createUser } from "../shared/admin/tenants.js";
import { authenticateKey, createApiKey } from "../shared/auth/api-keys.js";
import type { Db } from "../shared/db/client.js";
import { projects } from "../shared/db/schema.js";

export interface Demo {
  teamId: string;
  projectId: string;
  apiKey: string;
}

/**
 * The demo team, project and key of a first start. The key is shown once by the API, so the
 * local runtime keeps it in DATA_DIR/demo.json (a developer convenience, never done in AWS) to
 * print a working curl on every start. A demo whose key no longer works is made anew.
 */
export async function ensureDemo(db: Db, dataDir: string): Promise<Demo & { created: boolean }> {
  const file = join(dataDir, "demo.json");
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Demo;
    const key = await authenticateKey(db, saved.apiKey);
    const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.id, saved.projectId));
    if (key?.projectIds.includes(saved.projectId) && project) return { ...saved, created: false };
  } catch {
    // no demo yet, or one from another database: make one
  }
  const team = await createTeam(db, { name: "Demo Team" });
  await createUser(db, { teamId: team.id, email: `demo+${team.id.slice(0, 8)}@example.com`, firstName: "Demo" });
  const project = await createProject(db, { teamId: team.id, name: "Demo Project", product: "Demo Product" });
  const key = await createApiKey(db, { name: "demo", projectIds: [project.id] });
  const demo: Demo = { teamId: team.id, projectId: project.id, apiKey: key.key };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return { ...demo, created: true };
}
