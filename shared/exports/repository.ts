import { and, asc, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { oneOrNull } from "../db/one-row.js";
import { lockProjectForCap } from "../db/project-lock.js";
import { type QuestionAnswerRow, questionAnswers, type ThreadExportRow, threadExports } from "../db/schema.js";
import type { ExportClaim, NewExport } from "./model.js";
import { EXPORT_QUEUED_EXPIRY_SECONDS, EXPORT_STALE_SECONDS } from "./queue.js";

/** A new export, or the oldest of the project's unfinished ones that are in its way. */
export type CreateOutcome = { created: ThreadExportRow } | { busy: ThreadExportRow };

/** Queued and still deliverable: younger than the export queue's retention. */
const deliverable = and(
  eq(threadExports.status, "queued"),
  sql`${threadExports.createdAt} > now() - make_interval(secs => ${EXPORT_QUEUED_EXPIRY_SECONDS})`,
);

/**
 * Unfinished and still alive: queued and still deliverable, or running with a live worker. The
 * same rule as the status the API shows (service.ts, publicStatus).
 */
const alive = or(
  deliverable,
  and(
    eq(threadExports.status, "running"),
    sql`${threadExports.updatedAt} > now() - make_interval(secs => ${EXPORT_STALE_SECONDS})`,
  ),
);

/** The port of export jobs and the questions they write: services take it, tests fake it; ExportsRepository is the Postgres adapter. */
export interface ExportsStore {
  create(input: NewExport): Promise<ThreadExportRow>;
  /** Creates the export unless its project already has `maxActive` unfinished ones. */
  createWithin(input: NewExport, maxActive: number): Promise<CreateOutcome>;
  get(projectId: string, exportId: string): Promise<ThreadExportRow | null>;
  claim(exportId: string): Promise<ExportClaim | null>;
  progress(claim: ExportClaim, rows: number): Promise<void>;
  finish(claim: ExportClaim, rows: number): Promise<boolean>;
  fail(exportId: string, error: string, claim?: ExportClaim): Promise<void>;
  questionAnswers(threadIds: readonly string[]): Promise<Map<string, QuestionAnswerRow[]>>;
}

/** The Postgres adapter of export jobs (thread_exports). Reads by the API are scoped to a project. */
export class ExportsRepository implements ExportsStore {
  constructor(private readonly db: Db) {}

  async create(input: NewExport): Promise<ThreadExportRow> {
    const [row] = await this.db.insert(threadExports).values(input).returning();
    if (!row) throw new Error("insert into thread_exports returned nothing");
    return row;
  }

  /** The project's row lock serialises the check and the insert, so the cap holds under concurrent requests. */
  async createWithin(input: NewExport, maxActive: number): Promise<CreateOutcome> {
    return this.db.transaction(async (tx) => {
      await lockProjectForCap(tx, input.projectId);
      const active = await tx
        .select()
        .from(threadExports)
        .where(and(eq(threadExports.projectId, input.projectId), alive))
        .orderBy(asc(threadExports.createdAt))
        .limit(maxActive);
      const [oldest] = active;
      if (oldest && active.length >= maxActive) return { busy: oldest };
      const [row] = await tx.insert(threadExports).values(input).returning();
      if (!row) throw new Error("insert into thread_exports returned nothing");
      return { created: row };
    });
  }

  async get(projectId: string, exportId: string): Promise<ThreadExportRow | null> {
    return oneOrNull(
      this.db
        .select()
        .from(threadExports)
        .where(and(eq(threadExports.id, exportId), eq(threadExports.projectId, projectId))),
    );
  }

  /**
   * Takes a queued export (or a running one whose message came back) for a new attempt, and marks
   * it running; null when it is finished (a duplicate message) or expired in the queue (it reads
   * failed already, and its project may have started another since).
   */
  async claim(exportId: string): Promise<ExportClaim | null> {
    const [row] = await this.db
      .update(threadExports)
      .set({ status: "running", attempts: sql`${threadExports.attempts} + 1`, rows: 0, updatedAt: sql`now()` })
      .where(and(eq(threadExports.id, exportId), or(deliverable, eq(threadExports.status, "running"))))
      .returning();
    return row ? { row, attempt: row.attempts } : null;
  }

  /** Progress (and a heartbeat) of the current attempt. */
  async progress(claim: ExportClaim, rows: number): Promise<void> {
    await this.db.update(threadExports).set({ rows, updatedAt: sql`now()` }).where(this.current(claim));
  }

  async finish(claim: ExportClaim, rows: number): Promise<boolean> {
    const done = await this.db
      .update(threadExports)
      .set({ status: "done", rows, updatedAt: sql`now()`, finishedAt: sql`now()` })
      .where(this.current(claim))
      .returning({ id: threadExports.id });
    return done.length > 0;
  }

  /** Marks the export failed (by the current attempt, or by anyone when no claim is given). */
  async fail(exportId: string, error: string, claim?: ExportClaim): Promise<void> {
    await this.db
      .update(threadExports)
      .set({ status: "failed", error: error.slice(0, 1000), updatedAt: sql`now()`, finishedAt: sql`now()` })
      .where(
        claim
          ? this.current(claim)
          : and(eq(threadExports.id, exportId), inArray(threadExports.status, ["queued", "running"])),
      );
  }

  /** The questions and answers of these threads, in each conversation's order. */
  async questionAnswers(threadIds: readonly string[]): Promise<Map<string, QuestionAnswerRow[]>> {
    const byThread = new Map<string, QuestionAnswerRow[]>();
    if (threadIds.length === 0) return byThread;
    const rows = await this.db
      .select()
      .from(questionAnswers)
      .where(inArray(questionAnswers.threadId, [...threadIds]))
      .orderBy(asc(questionAnswers.threadId), asc(questionAnswers.position));
    for (const row of rows) {
      const list = byThread.get(row.threadId);
      if (list) list.push(row);
      else byThread.set(row.threadId, [row]);
    }
    return byThread;
  }

  private current(claim: ExportClaim) {
    return and(
      eq(threadExports.id, claim.row.id),
      eq(threadExports.status, "running"),
      eq(threadExports.attempts, claim.attempt),
    );
  }
}
