import type { LocalDatabase } from "../local/operator.js";
import type { Env } from "../shared/platform/config.js";

/**
 * What every command shares: the database session, the output (text, or one JSON object with
 * --json) and the exit codes. Imported by the commands' modules only, never by cli/main.ts, so
 * `kapa --help` loads none of it.
 */
export type Output = { json: Record<string, unknown>; text: string };

/** The documented exit codes (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface GlobalOptions {
  json?: boolean;
}

export class UsageError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are stored lowercase: any spelling of a UUID is accepted and normalised. */
export function uuidArg(value: string, what: string): string {
  if (!UUID.test(value)) throw new UsageError(`${what} must be a UUID, got ${value}`);
  return value.toLowerCase();
}

/**
 * Opens the database (DATABASE_URL, else the embedded one of a running `npm start`, else the
 * embedded data directory), runs `command` on it and prints its output. The embedded database is
 * this tool's own and is migrated on the way; a DATABASE_URL is migrated by `kapa migrate` only.
 * The output goes to `to` (stderr for a command whose stdout is a file, such as `kapa export`).
 */
export async function withDatabase(
  options: GlobalOptions,
  command: (database: LocalDatabase, env: Env) => Promise<Output>,
  migrate = true,
  to: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const [{ loadEnv }, { openLocalDatabase }, { runMigrations }] = await Promise.all([
    import("../shared/platform/config.js"),
    import("../local/operator.js"),
    import("../shared/db/migrate.js"),
  ]);
  const env = loadEnv();
  const database = await openLocalDatabase(env);
  try {
    if (migrate && database.target.embedded) await runMigrations(database.db);
    print(options, await command(database, env), to);
  } finally {
    await database.close();
  }
}

export function print(options: GlobalOptions, out: Output, to: NodeJS.WritableStream = process.stdout): void {
  to.write(`${options.json ? JSON.stringify(out.json) : out.text}\n`);
  // A command that reports failures of its own (report send, a failed backfill) exits non-zero for scripts.
  const failed = (typeof out.json.failed === "number" && out.json.failed > 0) || out.json.ok === false;
  if (failed) process.exitCode = EXIT.failed;
}

/** An error of a command: `error: ...` (or {"error": ...} with --json) and its exit code. */
export async function reportError(options: GlobalOptions, error: unknown): Promise<number> {
  const { DomainError, InvalidInputError } = await import("../shared/platform/errors.js");
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  else process.stderr.write(`error: ${message}\n`);
  if (error instanceof UsageError || error instanceof InvalidInputError) return EXIT.usage;
  if (!(error instanceof DomainError) && !options.json && process.env.KAPA_DEBUG) console.error(error);
  return EXIT.failed;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** The JSON output speaks the API's snake_case. */
export function snakeKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [snake(k), v]));
}

export function table(rows: Record<string, unknown>[]): string {
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

export const listed = (rows: Record<string, unknown>[]): Output => ({
  json: { results: rows.map(snakeKeys) },
  text: table(rows.map(snakeKeys)),
});

export const created = (what: string, row: Record<string, unknown> & { id: string }): Output => ({
  json: snakeKeys(row),
  text: `Created ${what} ${row.id}`,
});
