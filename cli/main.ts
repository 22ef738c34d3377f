import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import type { LocalDatabase } from "../local/operator.js";
import type { Env } from "../shared/platform/config.js";
import type { GlobalOptions, Output } from "./context.js";

/**
 * `npx kapa`: commander parses and documents the commands; each command's code (and the database
 * drivers, the AWS SDK, ...) is imported only when that command runs, so `kapa --help` loads
 * commander and nothing else. Exit codes: 0 done, 1 failed (not found, conflict, a failed job),
 * 2 usage (unknown command or flag, missing or invalid argument).
 */

type Run = (database: LocalDatabase, env: Env) => Promise<Output>;

/** Runs a command on the database; errors become `error: ...` and the documented exit code. */
async function onDatabase(
  command: { optsWithGlobals(): GlobalOptions },
  run: Run,
  migrate = true,
  to: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const options = command.optsWithGlobals();
  const context = await import("./context.js");
  try {
    await context.withDatabase(options, run, migrate, to);
  } catch (error) {
    process.exitCode = await context.reportError(options, error);
  }
}

const admin = () => import("./admin.js");

/** `<parent> create --team <team-id> ...`: a row a team owns; the caller adds its own options. */
function createInTeam(parent: typeof user, description: string, whose: string) {
  return parent.command("create").description(description).requiredOption("--team <team-id>", `the ${whose} team`);
}

/** `<parent> list [--team <team-id>]`: every row, or only one team's. */
function listByTeam(parent: typeof user, description: string, list: "userList" | "projectList"): void {
  parent
    .command("list")
    .description(description)
    .option("--team <team-id>", "only this team's")
    .action((o, cmd) => onDatabase(cmd, async (db) => (await admin())[list](db, o.team)));
}

const program = new Command("kapa")
  .description("Admin and operations for kapa-service.")
  .option("--json", 'print one JSON object (errors too: {"error": ...})')
  // Usage errors throw instead of exiting, to exit with 2 (commander's default is 1); inherited.
  .exitOverride()
  .showHelpAfterError("(add --help for usage)")
  .showSuggestionAfterError()
  .addHelpText(
    "after",
    `
The database is DATABASE_URL when set; otherwise the embedded one in DATA_DIR (default .data),
reached through the running \`npm start\` if there is one (migrated on the way; a DATABASE_URL
is migrated by \`kapa migrate\`).
Exit codes: 0 done, 1 failed (not found, conflict, failed job), 2 usage error.
Every command has --help, e.g. \`kapa key create --help\`.`,
  );

program
  .command("migrate")
  .description("apply the database migrations (DATABASE_URL: only this command migrates it)")
  .action((_, cmd) => onDatabase(cmd, async (database) => (await admin()).migrate(database), false));

const team = program.command("team").description("teams: the tenants that own projects and users");
team
  .command("create")
  .description("create a team")
  .requiredOption("--name <name>", "the team's name")
  .action((o, cmd) => onDatabase(cmd, async (db) => (await admin()).teamCreate(db, o.name)));
team
  .command("list")
  .description("list the teams")
  .action((_, cmd) => onDatabase(cmd, async (db) => (await admin()).teamList(db)));

const user = program.command("user").description("users of a team (report recipients)");
createInTeam(user, "create a user", "user's")
  .requiredOption("--email <email>", "the user's email address")
  .option("--first-name <name>", "the user's first name")
  .option("--last-name <name>", "the user's last name")
  .action((o, cmd) => onDatabase(cmd, async (db) => (await admin()).userCreate(db, o)));
listByTeam(user, "list users", "userList");

const project = program.command("project").description("projects: one bot each, with its threads and categories");
createInTeam(project, "create a project (with the default categories)", "project's")
  .requiredOption("--name <name>", "the project's name")
  .option("--product <product>", "the product the bot answers about")
  .action((o, cmd) => onDatabase(cmd, async (db) => (await admin()).projectCreate(db, o)));
listByTeam(project, "list projects", "projectList");

const key = program.command("key").description("API keys (X-API-KEY)");
key
  .command("create")
  .description("create a key; prints it once: store it now")
  .requiredOption("--project <project-id...>", "the project(s) it may use (repeat, or list several)")
  .requiredOption("--name <name>", "what the key is for")
  .option("--expires-at <date>", "ISO-8601 date or date-time after which it stops working")
  .action((o, cmd) => onDatabase(cmd, async (db) => (await admin()).keyCreate(db, o)));
key
  .command("revoke")
  .description("revoke a key (revoking it again changes nothing)")
  .argument("<key-id>", "the key's id (`kapa key list`)")
  .action((keyId, _, cmd) => onDatabase(cmd, async (db) => (await admin()).keyRevoke(db, keyId)));
key
  .command("list")
  .description("list keys (never the secrets)")
  .action((_, cmd) => onDatabase(cmd, async (db) => (await admin()).keyList(db)));
key
  .command("sync-usage-plan")
  .description("register every active key in the API's usage plan (AWS: USAGE_PLAN_ID, the UsagePlanId output)")
  .action((_, cmd) => onDatabase(cmd, async (db) => (await admin()).keySyncUsagePlan(db)));

const interval = new Option("--interval <seconds>", "seconds between progress updates").default(2).argParser(Number);
const backfillRun =
  (verb: "start" | "status", o: Record<string, unknown>): Run =>
  async (database, env) => {
    const { backfillCommand } = await import("./backfill.js");
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    return backfillCommand(database, verb, o, { progress: process.stderr, signal: stop.signal, env });
  };
const backfill = program
  .command("backfill")
  .description("label existing threads (Step Functions; locally the same definition, run by npm start or here)");
backfill
  .command("start")
  .description("start a backfill job (or --resume one): without npm start it runs in this process")
  .option("--project <project-id>", "one project (default: every project)")
  .addOption(new Option("--scope <scope>", "which threads").choices(["unlabelled", "classifier"]).default("unlabelled"))
  .option("--resume <job-id>", "do what is left of this job")
  .option("--watch", "show progress until it is done")
  .addOption(interval)
  .action((o, cmd) => onDatabase(cmd, backfillRun("start", o)));
backfill
  .command("status")
  .description("a job's progress: total, labelled, pending, queued, DLQ, rate, ETA")
  .option("--project <project-id>", "one project")
  .option("--job <job-id>", "this job (default: the newest)")
  .option("--watch", "keep showing progress until it is done")
  .addOption(interval)
  .action((o, cmd) => onDatabase(cmd, backfillRun("status", o)));

program
  .command("seed")
  .description("test data")
  .command("threads")
  .description("unlabelled threads in new projects, to backfill (e.g. --count 1000000 --projects 100)")
  .option("--count <n>", "threads to create", "1000")
  .option("--projects <n>", "new projects to spread them over", "10")
  .option("--team <team-id>", "the projects' team (default: a new one)")
  .action((o, cmd) =>
    onDatabase(cmd, async ({ db }) => (await import("./seed.js")).seedCommand(db, "threads", o, process.stderr)),
  );

program
  .command("report")
  .description("usage reports by email")
  .command("send")
  .description("email the usage report now; a team and period already sent is skipped")
  .option("--team <team-id>", "one team (default: every team)")
  .option("--period <week>", "YYYY-Www (default: the last complete week)")
  .option("--dry-run", "print the report(s): send nothing, record nothing")
  .action((o, cmd) =>
    onDatabase(cmd, async ({ db }) =>
      (await import("./report.js")).reportCommand(db, { team: o.team, period: o.period, dryRun: o.dryRun }),
    ),
  );

program
  .command("export")
  .description("write a project's threads as CSV or NDJSON to stdout (the API export's file), progress on stderr")
  .requiredOption("--project <project-id>", "the project")
  .addOption(new Option("--format <format>", "file format").choices(["csv", "ndjson"] as const).makeOptionMandatory())
  .option("--include-questions", "add each thread's questions and answers")
  .option("--category <category-id|none>", "only threads with this label (none: unlabelled)")
  .option("--source <source>", "only labels set by user or classifier")
  .option("--created-after <date>", "only threads created at or after this ISO-8601 date")
  .option("--created-before <date>", "only threads created before this ISO-8601 date")
  .action((o, cmd) =>
    // The file is stdout: the summary goes to stderr.
    onDatabase(
      cmd,
      async ({ db }) => {
        const { exportCommand } = await import("./export.js");
        const { rows } = await exportCommand(db, o, { out: process.stdout, progress: process.stderr });
        return { json: { rows }, text: `Exported ${rows} threads` };
      },
      true,
      process.stderr,
    ),
  );

const webhooks = program.command("webhooks").description("webhook endpoints: receive a project's events locally");
webhooks
  .command("listen")
  .description(
    "receive, verify (standardwebhooks) and print a project's webhook events on this machine, through the API of a running `npm start`",
  )
  .requiredOption("--project <project-id>", "the project")
  .option("--api-url <url>", "the API (default: http://127.0.0.1:$PORT, the local gateway of `npm start`)")
  .option("--api-key <key>", "an API key of the project (default: $KAPA_API_KEY; `npx kapa key create`)")
  .option("--port <port>", "the receiver's port on 127.0.0.1 (default: any free one)", "0")
  .action(async (o, cmd) => {
    const options = cmd.optsWithGlobals();
    const context = await import("./context.js");
    try {
      const { listen, formatEvent, ListenerStopped } = await import("./webhooks-listen.js");
      const apiKey = o.apiKey ?? process.env.KAPA_API_KEY;
      if (!apiKey)
        throw new context.UsageError("give --api-key or set KAPA_API_KEY (npx kapa key create --project ...)");
      // Handled from before the registration: a Ctrl-C during it deletes the endpoint too.
      const interrupted = new AbortController();
      process.once("SIGINT", () => interrupted.abort());
      const listener = await listen({
        project: context.uuidArg(o.project, "--project"),
        apiUrl: o.apiUrl ?? `http://127.0.0.1:${process.env.PORT || 8002}`,
        apiKey,
        port: Number(o.port),
        signal: interrupted.signal,
        onEvent: (event) => process.stdout.write(`${options.json ? JSON.stringify(event) : formatEvent(event)}\n`),
      }).catch((error: unknown) => {
        if (error instanceof ListenerStopped) return null;
        throw error;
      });
      if (!listener) return;
      process.stderr.write(`Listening on ${listener.url} (webhook ${listener.webhookId}); Ctrl-C to stop\n`);
      if (!interrupted.signal.aborted) {
        await new Promise((resolve) => interrupted.signal.addEventListener("abort", resolve, { once: true }));
      }
      const stopped = await listener.stop();
      if (!stopped.deleted) {
        process.stderr.write(
          `Could not delete webhook ${listener.webhookId} (${stopped.error}); it stays registered: DELETE .../webhooks/${listener.webhookId}/\n`,
        );
      }
    } catch (error) {
      process.exitCode = await context.reportError(options, error);
    }
  });

program
  .command("completion")
  .description('print a shell completion script: eval "$(npx kapa completion bash)"')
  .argument("<shell>", "bash or zsh")
  .action(async (shell, _, cmd) => {
    const [{ completionScript }, context] = await Promise.all([import("./completion.js"), import("./context.js")]);
    try {
      process.stdout.write(completionScript(program, shell));
    } catch (error) {
      process.exitCode = await context.reportError(cmd.optsWithGlobals(), error);
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // --help asked for is a success; the help shown for a missing subcommand is a usage error.
  process.exitCode = ["commander.helpDisplayed", "commander.version"].includes(error.code) ? 0 : 2;
}
