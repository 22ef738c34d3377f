/**
 * What a log line may say about an error. Logs must never carry a user's question, and a failed
 * statement's error can quote its parameters: drizzle's message is "Failed query: ... params: ...",
 * postgres.js attaches `parameters` and `args`, and a server error's message can quote the value
 * it could not parse. So an error whose chain carries a statement's parameters is logged by name,
 * code and stack frames only, whatever its kind; the rest keep name, message and stack. A domain
 * that knows its errors better describes them itself (`describeErrorsWith`): the database's
 * errors get their class, SQLSTATE and statement name (shared/db/errors.ts). This module knows
 * no domain, so the logger depends on nothing but it.
 */
export type ErrorDescriber = (error: Error) => Record<string, unknown> | null;

const describers: ErrorDescriber[] = [];

/** Lets a domain describe its own errors in log lines (first describer to answer wins). */
export function describeErrorsWith(describer: ErrorDescriber): void {
  if (!describers.includes(describer)) describers.push(describer);
}

interface Link {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The errors of the chain, outermost first (causes, and an AggregateError's inner errors). */
export function errorChain(error: unknown): Link[] {
  const out: Link[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 8) {
    const e = queue.shift();
    if (!e || typeof e !== "object") continue;
    const link = e as Link;
    out.push(link);
    if (link.cause) queue.push(link.cause);
    if (Array.isArray(link.errors)) queue.push(...link.errors);
  }
  return out;
}

/** Fields under which drivers and ORMs keep a statement's text or values (often non-enumerable). */
const STATEMENT_FIELDS = ["query", "params", "parameters", "args"] as const;

/** Whether some error of the chain ran a statement: its message may quote the statement's values. */
export function carriesStatement(error: unknown): boolean {
  return errorChain(error).some((link) => STATEMENT_FIELDS.some((field) => field in link));
}

/** The stack's frame lines only: its first line repeats the message. */
export function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== "string") return undefined;
  return stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 8)
    .join("\n");
}

export function loggableError(error: Error): Record<string, unknown> {
  for (const describe of describers) {
    const described = describe(error);
    if (described) return described;
  }
  if (!carriesStatement(error)) return { name: error.name, message: error.message, stack: error.stack };
  return {
    name: error.name,
    // Names and codes of the chain, never a message: enough to tell a driver error from a bug.
    chain: errorChain(error).map((link) => ({
      name: typeof link.name === "string" ? link.name : "Error",
      ...(typeof link.code === "string" ? { code: link.code } : {}),
    })),
    stack: framesOf(error.stack),
  };
}
