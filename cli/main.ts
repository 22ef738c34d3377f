import { parseArgs } from "node:util";
import { type LocalDatabase, openLocalDatabase } from "../local/database.js";
import { createProject, createTeam, createUser, listProjects, listTeams, listUsers } from "../shared/admin/tenants.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../shared/auth/api-keys.js";
import { syncUsagePlan, usagePlanFromEnv } from "../shared/auth/usage-plan.js";
import { loadEnv } from "../shared/config.js";
import { runMigrations } from "../shared/db/migrate.js";
import { DomainError } from "../shared/errors.js";
import { backfillCommand } from "./backfill.js";
import { exportCommand } from "./export.js";
import { reportCommand } from "./report.js";
import { seedCommand } from "./seed.js";

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
  key sync-usage-plan                            register every active key in the API's usage plan
                                                 (AWS: USAGE_PLAN_ID, the stack's UsagePlanId output)
  backfill start [--project ID] [--scope unlabelled|classifier] [--resume JOB] [--watch]
                                                 label existing threads (Step Functions; locally the
                                                 same definition, run by npm start or by this command)
  backfill status [--project ID] [--job JOB] [--watch]
                                                 progress: total, labelled, pending, queued, DLQ, rate, ETA
  seed threads --count N --projects P [--team ID]
                                                 unlabelled threads to backfill (e.g. 1000000 over 100)
  export --project ID --format csv|ndjson [--include-questions] [--category ID|none]
         [--source user|classifier] [--created-after ISO] [--created-before ISO] > FILE
                                                 the project's threads to stdout (a progress bar on stderr)
  report send [--team ID] [--period YYYY-Www] [--dry-run]
                                                 email the usage report now (dry run: print it);
                                                 a team and period already sent is skipped

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
  period?: string;
  "dry-run"?: boolean;
  scope?: string;
  resume?: string;
  job?: string;
  watch?: boolean;
  interval?: string;
  count?: string;
  projects?: string;
  format?: string;
  "include-questions"?: boolean;
  category?: string;
  source?: string;
  "created-after"?: string;
  "created-before"?: string;
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

async function run(database: LocalDatabase, command: string[], o: Options): Promise<Output> {
  const { db } = database;
  const [noun, verb, arg] = command;
  switch (`${noun} ${verb ?? ""}`.trim()) {
    case "backfill start":
    case "backfill status": {
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      return backfillCommand(
        database,
        verb,
        {
          project: o.project?.[0],
          scope: o.scope,
          resume: o.resume,
          job: o.job,
          watch: o.watch,
          interval: o.interval === undefined ? undefined : Number(o.interval),
        },
        { progress: process.stderr, signal: stop.signal },
      );
    }
    case "seed threads":
      return seedCommand(db, verb, { count: o.count, projects: o.projects, team: o.team }, process.stderr);
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
    case "key revoke": {
      const revoked = await revokeApiKey(db, needId(arg, "KEY_ID"));
      // The authorizer already refuses it; this frees its place among the account's API keys.
      await usagePlanFromEnv()?.unregister(revoked.id);
      return { json: { id: revoked.id, revoked_at: revoked.revokedAt }, text: `Revoked key ${revoked.id}` };
    }
    case "key list":
      return listed(await listApiKeys(db));
    case "key sync-usage-plan": {
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
    case "report send":
      return reportCommand(db, { team: o.team, period: o.period, dryRun: o["dry-run"] });
    default:
      throw new UsageError(command.length ? `Unknown command: ${command.join(" ")}` : "No command given");
  }
}

async function main(argv: string[]): Promise<number> {
  // The CLI runs on the operator's Node (20 here); the SDK's Node 22 reminder is noise for it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
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
        period: { type: "string" },
        "dry-run": { type: "boolean" },
        scope: { type: "string" },
        resume: { type: "string" },
        job: { type: "string" },
        watch: { type: "boolean" },
        interval: { type: "string" },
        count: { type: "string" },
        projects: { type: "string" },
        format: { type: "string" },
        "include-questions": { type: "boolean" },
        category: { type: "string" },
        source: { type: "string" },
        "created-after": { type: "string" },
        "created-before": { type: "string" },
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
    // The file is stdout: nothing else may be printed there.
    if (parsed.positionals[0] === "export") {
      const { rows } = await exportCommand(
        database.db,
        {
          project: need(options.project?.[0], "project"),
          format: need(options.format, "format"),
          includeQuestions: options["include-questions"],
          category: options.category,
          source: options.source,
          createdAfter: options["created-after"],
          createdBefore: options["created-before"],
        },
        { out: process.stdout, progress: process.stderr },
      );
      process.stderr.write(`Exported ${rows} threads\n`);
      return 0;
    }
    const out = await run(database, parsed.positionals, options);
    process.stdout.write(`${options.json ? JSON.stringify(out.json) : out.text}\n`);
    // A command that reports failures of its own (report send, a failed backfill) exits non-zero for scripts.
    const failed = (typeof out.json.failed === "number" && out.json.failed > 0) || out.json.ok === false;
    return failed ? 1 : 0;
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
