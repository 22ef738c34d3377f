import { asc, eq } from "drizzle-orm";
import { createApiKey } from "../auth/api-keys.js";
import { DEFAULT_CATEGORIES } from "../categories/defaults.js";
import type { Db } from "../db/client.js";
import { categories, projects, teams, users } from "../db/schema.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../platform/errors.js";

function required(value: string, what: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new InvalidInputError(`${what} must not be empty`);
  return trimmed;
}

async function requireTeam(db: Db, teamId: string): Promise<void> {
  const [team] = await db.select({ id: teams.id }).from(teams).where(eq(teams.id, teamId));
  if (!team) throw new NotFoundError(`No team with id ${teamId}`);
}

export async function createTeam(db: Db, input: { name: string }) {
  const [team] = await db
    .insert(teams)
    .values({ name: required(input.name, "name") })
    .returning();
  return team as typeof teams.$inferSelect;
}

export function listTeams(db: Db) {
  return db.select().from(teams).orderBy(asc(teams.createdAt), asc(teams.id));
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function createUser(
  db: Db,
  input: { teamId: string; email: string; firstName?: string; lastName?: string },
) {
  const email = required(input.email, "email");
  if (!EMAIL.test(email)) throw new InvalidInputError(`Not an email address: ${email}`);
  await requireTeam(db, input.teamId);
  const [user] = await db
    .insert(users)
    .values({ teamId: input.teamId, email, firstName: input.firstName ?? "", lastName: input.lastName ?? "" })
    .onConflictDoNothing()
    .returning();
  if (!user) throw new ConflictError(`A user with email ${email} already exists`);
  return user;
}

export function listUsers(db: Db, teamId?: string) {
  const query = db.select().from(users);
  return (teamId ? query.where(eq(users.teamId, teamId)) : query).orderBy(asc(users.createdAt), asc(users.id));
}

export async function createProject(db: Db, input: { teamId: string; name: string; product?: string }) {
  const projectName = required(input.name, "name");
  await requireTeam(db, input.teamId);
  return db.transaction(async (tx) => {
    const [project] = await tx
      .insert(projects)
      .values({ teamId: input.teamId, projectName, productName: input.product?.trim() ?? "" })
      .returning();
    if (!project) throw new Error("insert returned no row");
    await tx.insert(categories).values(DEFAULT_CATEGORIES.map((c) => ({ ...c, projectId: project.id })));
    return project;
  });
}

export function listProjects(db: Db, teamId?: string) {
  const query = db.select().from(projects);
  return (teamId ? query.where(eq(projects.teamId, teamId)) : query).orderBy(asc(projects.createdAt), asc(projects.id));
}

export interface Tenant {
  teamId: string;
  projectId: string;
  apiKey: string;
  apiKeyId: string;
}

let tenantCount = 0;

/**
 * A new team with one project (its default categories) and a key for it, named after `label`:
 * every test and benchmark works in a tenant of its own.
 */
export async function createTenant(db: Db, label = "test"): Promise<Tenant> {
  tenantCount++;
  const team = await createTeam(db, { name: `${label} team ${tenantCount}` });
  const project = await createProject(db, { teamId: team.id, name: `${label} project ${tenantCount}` });
  const key = await createApiKey(db, { name: `${label} key`, projectIds: [project.id] });
  return { teamId: team.id, projectId: project.id, apiKey: key.key, apiKeyId: key.id };
}
