import { classifyDbError } from "../shared/db/errors.js";

/** host:port of a database URL, without its credentials. */
function addressOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}`;
  } catch {
    return undefined;
  }
}

/**
 * Why `npm start` could not start, in words a user can act on: a database that cannot be reached
 * is named by its address with what to do, instead of the failed statement's text.
 */
export function startupFailure(error: unknown, databaseUrl: string | undefined): string {
  const db = classifyDbError(error);
  if (db?.retryable) {
    const address = db.address ?? addressOf(databaseUrl) ?? "DATABASE_URL";
    const what =
      db.code === "ECONNREFUSED"
        ? "refused the connection (nothing listens there)"
        : db.kind === "timeout"
          ? `did not answer in time (${db.code})`
          : `is unavailable (${db.code})`;
    return [
      `the database at ${address} ${what}.`,
      "  Start Postgres there (or check the host and port in DATABASE_URL),",
      "  or unset DATABASE_URL to use the embedded database in DATA_DIR.",
    ].join("\n");
  }
  if (db) return `the database failed (${db.kind}, SQLSTATE ${db.code}${db.statement ? ` in ${db.statement}` : ""})`;
  return error instanceof Error ? error.message : String(error);
}
