import { and, asc, count, desc, eq, gte, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { classifyDbError } from "../db/errors.js";
import { oneOrNull } from "../db/one-row.js";
import { categories, projects, questionAnswers, threads } from "../db/schema.js";
import { uuidArray } from "../db/uuid-array.js";
import { exampleFromUserLabel, exampleRemovedWithLabel } from "../labels/examples.js";
import { lockedLabels, recordLabelChanges } from "../labels/history.js";
import { NotFoundError } from "../platform/errors.js";
import type { PagePosition, StoredAnswer, ThreadDetail, ThreadFilters, ThreadPage, ThreadView } from "./model.js";

const threadView = {
  id: threads.id,
  projectId: threads.projectId,
  createdAt: threads.createdAt,
  firstQuestion: threads.firstQuestion,
  questionCount: threads.questionCount,
  // Through the join, which finds only a category not deleted: a label pointing at a deleted
  // category (its threads not unlabelled yet) reads as no label.
  categoryId: categories.id,
  categoryName: categories.name,
  categorySource: sql<
    ThreadView["categorySource"]
  >`case when ${categories.id} is not null then ${threads.categorySource} end`,
  classifiedAt: sql<Date | null>`case when ${categories.id} is not null then ${threads.classifiedAt} end`.mapWith(
    threads.classifiedAt,
  ),
  categoryConfidence: sql<
    number | null
  >`case when ${categories.id} is not null then ${threads.categoryConfidence} end`.mapWith(threads.categoryConfidence),
};

/** The category of a thread's label, if it is not deleted. */
const labelCategory = and(eq(categories.id, threads.categoryId), isNull(categories.deletedAt));

/** Threads whose label points at a category being deleted do not count as labelled by a source. */
const notDeletedLabel = (projectId: string) =>
  sql`${threads.categoryId} <> all(array(select id from ${categories} where ${categories.projectId} = ${projectId} and ${categories.deletedAt} is not null))`;

/**
 * `deleted`: the project's categories being deleted (category=none only). Their threads are
 * unlabelled too; while there are none (nearly always), "none" stays one index range.
 */
function filterConditions(projectId: string, filters: ThreadFilters, deleted: readonly string[] = []): SQL[] {
  const conditions: SQL[] = [eq(threads.projectId, projectId)];
  if (filters.category === "none")
    conditions.push(
      deleted.length === 0
        ? isNull(threads.categoryId)
        : sql`(${threads.categoryId} is null or ${threads.categoryId} = any(${uuidArray(deleted)}))`,
    );
  else if (filters.category)
    conditions.push(
      eq(threads.categoryId, filters.category),
      sql`exists (select 1 from ${categories} where ${categories.id} = ${filters.category} and ${categories.deletedAt} is null)`,
    );
  if (filters.source)
    conditions.push(
      eq(threads.categorySource, filters.source),
      sql`${threads.categoryId} is not null`,
      notDeletedLabel(projectId),
    );
  if (filters.confidenceBelow !== undefined)
    conditions.push(
      eq(threads.categorySource, "classifier"),
      lt(threads.categoryConfidence, filters.confidenceBelow),
      notDeletedLabel(projectId),
    );
  if (filters.createdAfter) conditions.push(gte(threads.createdAt, filters.createdAfter));
  if (filters.createdBefore) conditions.push(lt(threads.createdAt, filters.createdBefore));
  return conditions;
}

const hasFilters = (filters: ThreadFilters) => Object.values(filters).some((v) => v !== undefined);

/** The port of threads and their question answers: services take it, tests fake it; ThreadsRepository is the Postgres adapter. */
export interface ThreadsStore {
  exists(projectId: string, threadId: string): Promise<boolean>;
  createThread(projectId: string, threadId: string, question: string, answer: string): Promise<StoredAnswer>;
  appendAnswer(projectId: string, threadId: string, question: string, answer: string): Promise<StoredAnswer | null>;
  count(projectId: string, filters: ThreadFilters): Promise<number>;
  listPage(projectId: string, filters: ThreadFilters, limit: number, position: PagePosition): Promise<ThreadPage>;
  getView(projectId: string, threadId: string): Promise<ThreadView | null>;
  getWithAnswers(projectId: string, threadId: string): Promise<ThreadDetail | null>;
  /** `actor`: the API key's id, for the label history. */
  setUserLabel(projectId: string, threadId: string, categoryId: string, actor: string): Promise<boolean>;
  clearLabel(projectId: string, threadId: string, actor: string): Promise<boolean>;
}

/** The Postgres adapter for threads and their question answers. Every query is scoped to a project. */
export class ThreadsRepository implements ThreadsStore {
  constructor(private readonly db: Db) {}

  /** For category=none: the project's categories being deleted (their threads read as unlabelled). */
  private async deletedCategories(projectId: string, filters: ThreadFilters): Promise<string[]> {
    if (filters.category !== "none") return [];
    const rows = await this.db
      .select({ id: categories.id })
      .from(categories)
      .where(and(eq(categories.projectId, projectId), isNotNull(categories.deletedAt)));
    return rows.map((r) => r.id);
  }

  async exists(projectId: string, threadId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: threads.id })
      .from(threads)
      .where(and(eq(threads.id, threadId), eq(threads.projectId, projectId)));
    return rows.length > 0;
  }

  /**
   * A new thread (with the id the caller chose, already sent to the classifier), its first answer
   * and the project's thread counter, in one statement: either all of it is stored or none of it.
   */
  async createThread(projectId: string, threadId: string, question: string, answer: string): Promise<StoredAnswer> {
    const questionAnswerId = crypto.randomUUID();
    await this.db
      .execute(sql`
      with new_thread as (
        insert into threads (id, project_id, first_question, question_count, classification_requested_at)
        values (${threadId}, ${projectId}, ${question}, 1, now())
        returning id
      ), counted as (
        update projects set thread_count = thread_count + 1 where id = ${projectId}
      )
      insert into question_answers (id, thread_id, position, question, answer)
      select ${questionAnswerId}, id, 1, ${question}, ${answer} from new_thread`)
      .catch((error: unknown) => {
        // The project was deleted while its key was still cached by the authorizer.
        if (classifyDbError(error)?.kind === "foreign-key") throw new NotFoundError(`Project ${projectId} not found`);
        throw error;
      });
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
    const questionAnswerId = crypto.randomUUID();
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

  /**
   * The list's count: the project's counter when unfiltered (no million-row count), else a count
   * over the same index the page uses.
   */
  async count(projectId: string, filters: ThreadFilters): Promise<number> {
    if (!hasFilters(filters)) {
      const [row] = await this.db
        .select({ count: projects.threadCount })
        .from(projects)
        .where(eq(projects.id, projectId));
      return row?.count ?? 0;
    }
    const [row] = await this.db
      .select({ count: count() })
      .from(threads)
      .where(and(...filterConditions(projectId, filters, await this.deletedCategories(projectId, filters))));
    return row?.count ?? 0;
  }

  /** One index range scan: (project_id[, category_id | category_source], created_at, id), backwards. */
  async listPage(
    projectId: string,
    filters: ThreadFilters,
    limit: number,
    position: PagePosition,
  ): Promise<ThreadPage> {
    const conditions = filterConditions(projectId, filters, await this.deletedCategories(projectId, filters));
    const query = () => this.db.select(threadView).from(threads).leftJoin(categories, labelCategory);
    if (position.kind === "offset") {
      // The review queue: along threads_review_idx (project_id, category_confidence, id), least confident first.
      const order =
        filters.confidenceBelow === undefined
          ? [desc(threads.createdAt), desc(threads.id)]
          : [asc(threads.categoryConfidence), asc(threads.id)];
      const rows = await query()
        .where(and(...conditions))
        .orderBy(...order)
        .limit(limit + 1)
        .offset(position.offset);
      return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
    }
    const { cursor } = position;
    const edge = sql`(${cursor.createdAt.toISOString()}::timestamptz, ${cursor.id}::uuid)`;
    if (cursor.direction === "next") {
      const rows = await query()
        .where(and(...conditions, sql`(${threads.createdAt}, ${threads.id}) < ${edge}`))
        .orderBy(desc(threads.createdAt), desc(threads.id))
        .limit(limit + 1);
      return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
    }
    const rows = await query()
      .where(and(...conditions, sql`(${threads.createdAt}, ${threads.id}) > ${edge}`))
      .orderBy(asc(threads.createdAt), asc(threads.id))
      .limit(limit + 1);
    return { rows: rows.slice(0, limit).reverse(), hasMore: rows.length > limit };
  }

  async getView(projectId: string, threadId: string): Promise<ThreadView | null> {
    return oneOrNull(
      this.db
        .select(threadView)
        .from(threads)
        .leftJoin(categories, labelCategory)
        .where(and(eq(threads.id, threadId), eq(threads.projectId, projectId))),
    );
  }

  async getWithAnswers(projectId: string, threadId: string): Promise<ThreadDetail | null> {
    const thread = await this.getView(projectId, threadId);
    if (!thread) return null;
    const answers = await this.db
      .select()
      .from(questionAnswers)
      .where(eq(questionAnswers.threadId, threadId))
      .orderBy(asc(questionAnswers.position));
    return { thread, answers };
  }

  /**
   * A user's label. The category must be one of the thread's project (checked in the statement);
   * false when it is not, or when the thread is not in this project.
   */
  async setUserLabel(projectId: string, threadId: string, categoryId: string, actor: string): Promise<boolean> {
    try {
      return await this.writeUserLabel(projectId, threadId, categoryId, actor);
    } catch (error) {
      // The category was deleted between the existence check and the write (its lock, then the
      // foreign key): it is not a category of this project any more.
      if (classifyDbError(error)?.kind === "foreign-key") return false;
      throw error;
    }
  }

  private async writeUserLabel(
    projectId: string,
    threadId: string,
    categoryId: string,
    actor: string,
  ): Promise<boolean> {
    const rows = await this.db.execute<{ id: string }>(
      userLabelWrite(
        projectId,
        threadId,
        actor,
        sql`category_id = ${categoryId}::uuid, category_source = 'user', classified_at = now(),
          category_confidence = null, category_rationale = null`,
        sql`t.id = ${threadId} and t.project_id = ${projectId}
          and exists (select 1 from ${categories} where ${categories.id} = ${categoryId}
            and ${categories.projectId} = ${projectId} and ${categories.deletedAt} is null)`,
        exampleFromUserLabel(),
      ),
    );
    return rows.length > 0;
  }

  /** Removes any label and marks the thread as sent to the classifier; false if not in this project. */
  async clearLabel(projectId: string, threadId: string, actor: string): Promise<boolean> {
    const rows = await this.db.execute<{ id: string }>(
      userLabelWrite(
        projectId,
        threadId,
        actor,
        sql`category_id = null, category_source = null, classified_at = null, classification_requested_at = now(),
          category_confidence = null, category_rationale = null`,
        sql`t.id = ${threadId} and t.project_id = ${projectId}`,
        exampleRemovedWithLabel(),
      ),
    );
    return rows.length > 0;
  }
}

/**
 * A user's label write with its history entry, webhook event and example (corrections teach), in
 * one statement; `old` is the row before it.
 */
function userLabelWrite(projectId: string, threadId: string, actor: string, set: SQL, where: SQL, example: SQL): SQL {
  return sql`
    with old as materialized (${lockedLabels(sql`id = ${threadId}::uuid and project_id = ${projectId}::uuid`)}),
    changed as (
      update threads t set ${set}
      from old
      where old.id = t.id and ${where}
      returning t.id, t.project_id, t.category_id, 'user'::text as source, ${actor}::text as actor,
        null::real as confidence, null::text as rationale,
        old.category_id as previous_category_id, old.category_source as previous_source
    ), ${recordLabelChanges()}, ${example}
    select id from changed`;
}
