import { parseArgs } from "node:util";
import { openLocalDatabase } from "../local/database.js";
import { createProject, createTeam, createUser, listProjects, listTeams, listUsers } from "../shared/admin/tenants.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../shared/auth/api-keys.js";
import { loadEnv } from "../shared/config.js";
import type { Db } from "../shared/db/client.js";
import { runMigrations } from "../shared/db/migrate.js";
import { DomainError } from "../shared/errors.js";

const USAGE = `kapa: admin and operations for kapa-service

Usage: npx kapa <command> [options] [--json]

  migrate                                        apply the database migrations
  team create --name NAME                        create a team
  team list
  user create --team ID --email EMAIL [--first-name F] [--last-name L]
  user list [--team ID]
  project create --team ID --name NAME [--product PRODUCT]
  project list [--team ID]
  key create --project ID [--project ID2 ...] --name NAME [--expires-at ISO-8601]
                                                 prints the key once: store it now
  key revoke KEY_ID
  key list

The database is DATABASE_URL when set; otherwise the embedded one in DATA_DIR (default .data),
reached through the running \`npm start\` if there is one.
With --json every command prints one JSON object.`;

type Options = {
  name?: string;
  team?: string;
  email?: string;
  "first-name"?: string;
  "last-name"?: string;
  product?: string;
  project?: string[];
  "expires-at"?: string;
  json?: boolean;
  help?: boolean;
};

class UsageError extends Error {}

function need(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`Missing --${flag}`);
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function needId(value: string | undefined, what: string): string {
  const id = need(value, what);
  if (!UUID.test(id)) throw new UsageError(`--${what} must be a UUID, got ${id}`);
  return id;
}

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--expires-at must be an ISO-8601 date, got ${value}`);
  return date;
}

type Output = { json: Record<string, unknown>; text: string };

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** The JSON output speaks the API's snake_case. */
function snakeKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [snake(k), v]));
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "(none)";
  const columns = Object.keys(rows[0] as object);
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(",") : String(v ?? ""));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

const listed = (rows: Record<string, unknown>[]): Output => ({
  json: { results: rows.map(snakeKeys) },
  text: table(rows.map(snakeKeys)),
});
const created = (what: string, row: Record<string, unknown> & { id: string }): Output => ({
  json: snakeKeys(row),
  text: `Created ${what} ${row.id}`,
});

async function run(db: Db, command: string[], o: Options): Promise<Output> {
  const [noun, verb, arg] = command;
  switch (`${noun} ${verb ?? ""}`.trim()) {
    case "migrate":
      await runMigrations(db);
      return { json: { migrated: true }, text: "Migrations applied" };
    case "team create":
      return created("team", await createTeam(db, { name: need(o.name, "name") }));
    case "team list":
      return listed(await listTeams(db));
    case "user create":
      return created(
        "user",
        await createUser(db, {
          teamId: needId(o.team, "team"),
          email: need(o.email, "email"),
          firstName: o["first-name"],
          lastName: o["last-name"],
        }),
      );
    case "user list":
      return listed(await listUsers(db, o.team ? needId(o.team, "team") : undefined));
    case "project create":
      return created(
        "project",
        await createProject(db, { teamId: needId(o.team, "team"), name: need(o.name, "name"), product: o.product }),
      );
    case "project list":
      return listed(await listProjects(db, o.team ? needId(o.team, "team") : undefined));
    case "key create": {
      const projectIds = (o.project ?? []).map((id) => needId(id, "project"));
      if (projectIds.length === 0) throw new UsageError("Missing --project");
      const key = await createApiKey(db, {
        name: need(o.name, "name"),
        projectIds,
        expiresAt: parseDate(o["expires-at"]),
      });
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
    case "key revoke": {
      const revoked = await revokeApiKey(db, needId(arg, "KEY_ID"));
      return { json: { id: revoked.id, revoked_at: revoked.revokedAt }, text: `Revoked key ${revoked.id}` };
    }
    case "key list":
      return listed(await listApiKeys(db));
    default:
      throw new UsageError(command.length ? `Unknown command: ${command.join(" ")}` : "No command given");
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: "string" },
        team: { type: "string" },
        email: { type: "string" },
        "first-name": { type: "string" },
        "last-name": { type: "string" },
        product: { type: "string" },
        project: { type: "string", multiple: true },
        "expires-at": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const options = parsed.values as Options;
  if (options.help || parsed.positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return parsed.positionals.length === 0 && !options.help ? 2 : 0;
  }
  const env = loadEnv();
  const database = await openLocalDatabase(env);
  try {
    if (parsed.positionals[0] !== "migrate") await runMigrations(database.db);
    const out = await run(database.db, parsed.positionals, options);
    process.stdout.write(`${options.json ? JSON.stringify(out.json) : out.text}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (options.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) {
      if (!options.json) process.stderr.write(`\n${USAGE}\n`);
      return 2;
    }
    return error instanceof DomainError ? 1 : 3;
  } finally {
    await database.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
