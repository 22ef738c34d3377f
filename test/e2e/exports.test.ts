import { describe, expect, it } from "vitest";
import { parseCsv } from "../support/csv.js";
import { shell, useLocalRuntime } from "../support/processes.js";
import { eventually } from "../support/sqs.js";

/**
 * Exports as a user runs them against `npm start`: ask a few questions, POST an export with curl,
 * poll it until done, and download the presigned URL with curl (the local S3 emulator serves it).
 */
const local = useLocalRuntime("exports");

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

describe("exports over HTTP", () => {
  it("exports CSV and NDJSON that curl downloads from the presigned URL", { timeout: 300_000 }, async () => {
    // A generous start: the embedded database and migrations are slow on a loaded machine.
    const { projectUrl: base, apiKey: key } = await local.start({ timeoutMs: 170_000 });
    const api = (method: string, path: string, body?: unknown) =>
      shell(
        `curl -s -X ${method} ${base}${path} -H 'X-API-KEY: ${key}'${body ? ` -d ${quote(JSON.stringify(body))}` : ""}`,
      ).then(json);

    const questions = ['Commas, "quotes" and\nnewlines?', "Ünïcödé ✓ 日本語"];
    for (const question of questions) await api("POST", "/chat", { question });

    const started = await api("POST", "/exports/", { format: "csv" });
    expect(started).toMatchObject({ id: expect.any(String), status: "queued" });
    const done = await eventually(async () => {
      const current = await api("GET", `/exports/${started.id}/`);
      return current.status === "queued" || current.status === "running" ? undefined : current;
    }, 60_000);
    expect(done).toMatchObject({ status: "done", rows: 2, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });

    const csv = await shell(`curl -s -f ${quote(done.url as string)}`);
    const records = parseCsv(csv);
    expect(records).toHaveLength(3);
    expect(records.slice(1).map((r) => r[3])).toEqual([...questions].reverse());

    const ndjson = await api("POST", "/exports/", { format: "ndjson", include_questions: true });
    const finished = await eventually(async () => {
      const current = await api("GET", `/exports/${ndjson.id}/`);
      return current.status === "done" ? current : undefined;
    }, 60_000);
    const lines = (await shell(`curl -s -f ${quote(finished.url as string)}`)).trimEnd().split("\n").map(json);
    expect(lines.map((l) => l.first_question)).toEqual([...questions].reverse());
    expect(lines.map((l) => (l.question_answers as unknown[]).length)).toEqual([1, 1]);
  });
});
