import { logFormat, logger, logs } from "../shared/platform/logger.js";

/**
 * One line per request of the local gateway. Readable by default (`POST /query/v1/projects/3f1c2a9e…/chat
 * 200 52 ms`, coloured on a terminal); with LOG_FORMAT=json a structured line as in Lambda.
 */
export interface AccessEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestId: string;
}

const UUID = /([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function colour(status: number): (text: string) => string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return (text) => text;
  const code = status >= 500 ? 31 : status >= 400 ? 33 : 32;
  return (text) => `\x1b[${code}m${text}\x1b[0m`;
}

export function formatAccess(entry: AccessEntry, paint = colour(entry.status)): string {
  // Ids shortened to their first 8 characters: enough to tell requests apart by eye.
  const path = entry.path.replace(UUID, "$1…");
  return `${entry.method} ${path} ${paint(String(entry.status))} ${Math.round(entry.ms)} ms`;
}

export function accessLog(entry: AccessEntry): void {
  if (logFormat() === "json") {
    logger.info("request", {
      method: entry.method,
      path: entry.path,
      status: entry.status,
      duration_ms: Math.round(entry.ms * 10) / 10,
      request_id: entry.requestId,
    });
    return;
  }
  if (logs("info")) process.stdout.write(`${formatAccess(entry)}\n`);
}
