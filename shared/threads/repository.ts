import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { projects, type QuestionAnswerRow, questionAnswers, type ThreadRow, threads } from "../db/schema.js";
import type { Cursor } from "./cursor.js";

export interface StoredAnswer {
  threadId: string;
  questionAnswerId: string;
}

export type PagePosition = { kind: "offset"; offset: number } | { kind: "cursor"; cursor: Cursor };

export interface ThreadPage {
  rows: ThreadRow[];
  /** Whether more rows exist beyond the page in the direction it was read. */
  hasMore: boolean;
}

/** The Postgres adapter for threads and their question answers. Every query is scoped to a project. */
export class ThreadsRepository {
  constructor(private readonly db: Db) {}

  async exists(projectId: string, threadId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: threads.id })
      .from(threads)
      .where(and(eq(threads.id, threadId), eq(threads.projectId, projectId)));
    return rows.length > 0;
  }

  /**
   * A new thread, its first answer and the project's thread counter in one statement: either
   * all of it is stored or none of it.
   */
  async createThread(projectId: string, question: string, answer: string): Promise<StoredAnswer> {
    const threadId = randomUUID();
    const questionAnswerId = randomUUID();
    await this.db.execute(sql`
      with new_thread as (
        insert into threads (id, project_id, first_question, question_count)
        values (${threadId}, ${projectId}, ${question}, 1)
        returning id
      ), counted as (
        update projects set thread_count = thread_count + 1 where id = ${projectId}
      )
      insert into question_answers (id, thread_id, position, question, answer)
      select ${questionAnswerId}, id, 1, ${question}, ${answer} from new_thread`);
    return { threadId, questionAnswerId };
  }

  /**
   * Appends a follow-up; null when the thread is not in this project (nothing is written then).
   * The thread's row lock orders concurrent follow-ups, so positions never collide.
   */
  async appendAnswer(
    projectId: string,
    threadId: string,
    question: string,
    answer: string,
  ): Promise<StoredAnswer | null> {
    const questionAnswerId = randomUUID();
    const rows = await this.db.execute<{ id: string }>(sql`
      with thread as (
        update threads set question_count = question_count + 1
        where id = ${threadId} and project_id = ${projectId}
        returning id, question_count
      )
      insert into question_answers (id, thread_id, position, question, answer)
      select ${questionAnswerId}, id, question_count, ${question}, ${answer} from thread
      returning id`);
    return rows.length > 0 ? { threadId, questionAnswerId } : null;
  }

  async threadCount(projectId: string): Promise<number> {
    const [row] = await this.db
      .select({ count: projects.threadCount })
      .from(projects)
      .where(eq(projects.id, projectId));
    return row?.count ?? 0;
  }

  /** One index range scan: (project_id, created_at desc, id desc). */
  async listPage(projectId: string, limit: number, position: PagePosition): Promise<ThreadPage> {
    const inProject = eq(threads.projectId, projectId);
    const query = this.db.select().from(threads);
    if (position.kind === "offset") {
      const rows = await query
        .where(inProject)
        .orderBy(desc(threads.createdAt), desc(threads.id))
        .limit(limit + 1)
        .offset(position.offset);
      return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
    }
    const { cursor } = position;
    const edge = sql`(${cursor.createdAt.toISOString()}::timestamptz, ${cursor.id}::uuid)`;
    if (cursor.direction === "next") {
      const rows = await query
        .where(and(inProject, sql`(${threads.createdAt}, ${threads.id}) < ${edge}`))
        .orderBy(desc(threads.createdAt), desc(threads.id))
        .limit(limit + 1);
      return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
    }
    const rows = await query
      .where(and(inProject, sql`(${threads.createdAt}, ${threads.id}) > ${edge}`))
      .orderBy(asc(threads.createdAt), asc(threads.id))
      .limit(limit + 1);
    return { rows: rows.slice(0, limit).reverse(), hasMore: rows.length > limit };
  }

  async getWithAnswers(
    projectId: string,
    threadId: string,
  ): Promise<{ thread: ThreadRow; answers: QuestionAnswerRow[] } | null> {
    const [thread] = await this.db
      .select()
      .from(threads)
      .where(and(eq(threads.id, threadId), eq(threads.projectId, projectId)));
    if (!thread) return null;
    const answers = await this.db
      .select()
      .from(questionAnswers)
      .where(eq(questionAnswers.threadId, threadId))
      .orderBy(asc(questionAnswers.position));
    return { thread, answers };
  }
}
