import { PassThrough } from "node:stream";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { seedThreads } from "../../bench/threads-list.js";
import { exportCommand } from "../../cli/export.js";
import { InvalidInputError, NotFoundError } from "../../shared/platform/errors.js";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { listThreads } from "../../shared/threads/service.js";
import { parseCsv } from "../support/csv.js";
import { testDatabase } from "../support/database.js";
import { createTenant, useTestDb } from "../support/db.js";
import { shell } from "../support/processes.js";

/** `npx kapa export`: the project's threads to stdout, as the API's export writes them. */

const db = useTestDb();

function capture() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

const linkTo = () => "";

describe("kapa export", () => {
  it("streams the project's threads to its output in the list's order, with the list's filters", async () => {
    const tenant = await createTenant(db, "export-cli");
    await seedThreads(db, tenant.projectId, 2500);
    await db.execute(sql`update threads set first_question = 'Comma, "quote"' || chr(10) || 'newline ✓'
      where project_id = ${tenant.projectId} and question_count = 3`);
    const out = capture();
    const progress = capture();
    // A terminal, as an operator's stderr is: the bar is drawn.
    Object.assign(progress.stream, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true });
    const { rows } = await exportCommand(
      db,
      { project: tenant.projectId, format: "csv", pageSize: 1000 },
      { out: out.stream, progress: progress.stream },
    );
    expect(rows).toBe(2500);
    expect(progress.text()).toContain("2500/2500 threads");
    const records = parseCsv(out.text()).slice(1);
    const repo = new ThreadsRepository(db);
    const list = await listThreads(repo, { projectId: tenant.projectId, limit: 1000, linkTo });
    expect(records.slice(0, 1000).map((r) => [r[0], r[3]])).toEqual(list.threads.map((t) => [t.id, t.firstQuestion]));
    expect(new Set(records.map((r) => r[0])).size).toBe(2500);
    expect(records.filter((r) => r[3] === 'Comma, "quote"\nnewline ✓').length).toBeGreaterThan(0);

    const filtered = capture();
    const after = "2025-12-31T23:50:00.000Z"; // the newest 600 seeded threads
    await exportCommand(
      db,
      { project: tenant.projectId, format: "ndjson", createdAfter: after },
      { out: filtered.stream, progress: progress.stream },
    );
    const ids = filtered
      .text()
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { id: string }).id);
    const expected = await listThreads(repo, {
      projectId: tenant.projectId,
      limit: 1000,
      filters: { createdAfter: new Date(after) },
      linkTo,
    });
    expect(ids).toEqual(expected.threads.map((t) => t.id));
  });

  it("refuses bad options and unknown projects", async () => {
    const io = { out: capture().stream, progress: capture().stream };
    await expect(exportCommand(db, { project: crypto.randomUUID(), format: "csv" }, io)).rejects.toThrow(NotFoundError);
    const tenant = await createTenant(db, "export-cli-bad");
    await expect(exportCommand(db, { project: tenant.projectId, format: "xml" }, io)).rejects.toThrow(
      InvalidInputError,
    );
    await expect(exportCommand(db, { project: "nope", format: "csv" }, io)).rejects.toThrow(InvalidInputError);
  });

  it("works as `npx kapa export ... > file`, with nothing but the file on stdout", async () => {
    const tenant = await createTenant(db, "export-cli-shell");
    await seedThreads(db, tenant.projectId, 30);
    const stdout = await shell(`npx kapa export --project ${tenant.projectId} --format csv`, {
      DATABASE_URL: testDatabase().url,
    });
    const records = parseCsv(stdout);
    expect(records[0]?.[0]).toBe("id");
    expect(records).toHaveLength(31);
  });
});
