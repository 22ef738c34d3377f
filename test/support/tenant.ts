import { createProject, createTeam } from "../../shared/admin/tenants.js";
import { createApiKey } from "../../shared/auth/api-keys.js";
import type { Db } from "../../shared/db/client.js";

export interface Tenant {
  teamId: string;
  projectId: string;
  apiKey: string;
  apiKeyId: string;
}

let counter = 0;

/** A new team with one project and a key for it: every test (and benchmark) gets its own tenant. */
export async function createTenant(db: Db, label = "test"): Promise<Tenant> {
  counter++;
  const team = await createTeam(db, { name: `${label} team ${counter}` });
  const project = await createProject(db, { teamId: team.id, name: `${label} project ${counter}` });
  const key = await createApiKey(db, { name: `${label} key`, projectIds: [project.id] });
  return { teamId: team.id, projectId: project.id, apiKey: key.key, apiKeyId: key.id };
}
