import type { LocalDatabase } from "../local/operator.js";
import { createProject, createTeam, createUser, listProjects, listTeams, listUsers } from "../shared/admin/tenants.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../shared/auth/api-keys.js";
import { syncUsagePlan, usagePlanFromEnv } from "../shared/auth/usage-plan.js";
import { runMigrations } from "../shared/db/migrate.js";
import { created, listed, type Output, UsageError, uuidArg } from "./context.js";

/** The tenant and key commands of `kapa`, loaded when one of them runs. */

export async function migrate(database: LocalDatabase): Promise<Output> {
  await runMigrations(database.db);
  return { json: { migrated: true }, text: `Migrations applied to ${database.description}` };
}

export async function teamCreate({ db }: LocalDatabase, name: string): Promise<Output> {
  return created("team", await createTeam(db, { name }));
}

export async function teamList({ db }: LocalDatabase): Promise<Output> {
  return listed(await listTeams(db));
}

export async function userCreate(
  { db }: LocalDatabase,
  o: { team: string; email: string; firstName?: string; lastName?: string },
): Promise<Output> {
  return created(
    "user",
    await createUser(db, {
      teamId: uuidArg(o.team, "--team"),
      email: o.email,
      firstName: o.firstName,
      lastName: o.lastName,
    }),
  );
}

export async function userList({ db }: LocalDatabase, team?: string): Promise<Output> {
  return listed(await listUsers(db, team ? uuidArg(team, "--team") : undefined));
}

export async function projectCreate(
  { db }: LocalDatabase,
  o: { team: string; name: string; product?: string },
): Promise<Output> {
  return created(
    "project",
    await createProject(db, { teamId: uuidArg(o.team, "--team"), name: o.name, product: o.product }),
  );
}

export async function projectList({ db }: LocalDatabase, team?: string): Promise<Output> {
  return listed(await listProjects(db, team ? uuidArg(team, "--team") : undefined));
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO-8601 date or date-time that exists: `new Date("2027-02-30")` silently means March 2,
 * so the calendar fields are checked against what Date made of them.
 */
export function parseExpiry(value: string): Date {
  const match = ISO_DATE.exec(value.trim());
  const date = new Date(value.trim());
  const invalid = () => new UsageError(`--expires-at must be an ISO-8601 date that exists, got ${value}`);
  if (!match || Number.isNaN(date.getTime())) throw invalid();
  const [, year, month, day, hour = "0", minute = "0", second = "0"] = match;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > daysInMonth) throw invalid();
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) throw invalid();
  return date;
}

export async function keyCreate(
  { db }: LocalDatabase,
  o: { project: string[]; name: string; expiresAt?: string },
): Promise<Output> {
  const projectIds = o.project.map((id) => uuidArg(id, "--project"));
  const key = await createApiKey(db, {
    name: o.name,
    projectIds,
    expiresAt: o.expiresAt === undefined ? undefined : parseExpiry(o.expiresAt),
  });
  // In AWS the key must also be in the API's usage plan, or API Gateway refuses it.
  const usagePlan = usagePlanFromEnv();
  if (usagePlan) {
    try {
      await usagePlan.register(key.id);
    } catch (error) {
      throw new Error(
        `Key ${key.id} was created but not registered in usage plan ${process.env.USAGE_PLAN_ID} (${(error as Error).message}): run \`npx kapa key sync-usage-plan\``,
      );
    }
  }
  return {
    json: {
      id: key.id,
      prefix: key.prefix,
      key: key.key,
      name: key.name,
      project_ids: key.projectIds,
      expires_at: key.expiresAt,
    },
    text: `Created key ${key.id} for ${key.projectIds.join(", ")}\n\n  ${key.key}\n\nThis is the only time the key is shown: store it now.`,
  };
}

export async function keyRevoke({ db }: LocalDatabase, keyId: string): Promise<Output> {
  const revoked = await revokeApiKey(db, uuidArg(keyId, "key-id"));
  // The authorizer already refuses it; this frees its place among the account's API keys.
  await usagePlanFromEnv()?.unregister(revoked.id);
  const when = revoked.revokedAt.toISOString();
  return {
    json: { id: revoked.id, revoked_at: revoked.revokedAt, already_revoked: revoked.alreadyRevoked },
    text: revoked.alreadyRevoked
      ? `Key ${revoked.id} was already revoked (at ${when})`
      : `Revoked key ${revoked.id} (at ${when})`,
  };
}

export async function keyList({ db }: LocalDatabase): Promise<Output> {
  return listed(await listApiKeys(db));
}

export async function keySyncUsagePlan({ db }: LocalDatabase): Promise<Output> {
  const usagePlan = usagePlanFromEnv();
  if (!usagePlan) throw new UsageError("Set USAGE_PLAN_ID (the stack's UsagePlanId output)");
  const active = (await listApiKeys(db)).filter((k) => !k.revoked && (!k.expiresAt || k.expiresAt > new Date()));
  const result = await syncUsagePlan(
    usagePlan,
    active.map((k) => k.id),
  );
  return {
    json: { registered: result.registered, already_registered: result.already },
    text: `Registered ${result.registered.length} key(s); ${result.already} already in the usage plan`,
  };
}
