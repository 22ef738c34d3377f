import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { categories, threads } from "../db/schema.js";
import type { CategoryOption } from "./classifier.js";

export interface ThreadToClassify {
  id: string;
  projectId: string;
  firstQuestion: string;
  categoryId: string | null;
  categorySource: "classifier" | "user" | null;
}

/** A thread carries a user label only while the label's category exists. */
export const hasUserLabel = (t: Pick<ThreadToClassify, "categoryId" | "categorySource">) =>
  t.categoryId !== null && t.categorySource === "user";

const FOREIGN_KEY_VIOLATION = "23503";

function isForeignKeyViolation(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause ?? error;
  return (cause as { code?: string }).code === FOREIGN_KEY_VIOLATION;
}

/** The label writes and reads of the classification pipeline: the Postgres adapter. */
export class LabelsRepository {
  constructor(private readonly db: Db) {}

  async threadsByIds(ids: readonly string[]): Promise<Map<string, ThreadToClassify>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .select({
        id: threads.id,
        projectId: threads.projectId,
        firstQuestion: threads.firstQuestion,
        categoryId: threads.categoryId,
        categorySource: threads.categorySource,
      })
      .from(threads)
      .where(inArray(threads.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Every project's categories in one query: a batch loads each project's set once. */
  async categoriesOf(projectIds: readonly string[]): Promise<Map<string, CategoryOption[]>> {
    const byProject = new Map<string, CategoryOption[]>(projectIds.map((id) => [id, []]));
    if (projectIds.length === 0) return byProject;
    const rows = await this.db
      .select({
        id: categories.id,
        projectId: categories.projectId,
        name: categories.name,
        description: categories.description,
      })
      .from(categories)
      .where(inArray(categories.projectId, [...projectIds]))
      .orderBy(asc(categories.name));
    for (const { projectId, ...option } of rows) byProject.get(projectId)?.push(option);
    return byProject;
  }

  /**
   * The classifier's conditional write. It lands only if the thread is still unlabelled (or, when
   * reclassifying, labelled by the classifier), so a user's label is never replaced: under
   * concurrent writes Postgres re-checks the condition on the row's newest version. A category
   * deleted meanwhile makes it land nowhere (the existence check, or the foreign key once the
   * deletion holds the category's lock). Returns whether the label was written.
   */
  async writeClassifierLabel(
    threadId: string,
    categoryId: string,
    mode: "unlabelled" | "reclassify",
  ): Promise<boolean> {
    const replaceable =
      mode === "reclassify"
        ? sql`(${threads.categoryId} is null or ${threads.categorySource} = 'classifier')`
        : sql`${threads.categoryId} is null`;
    try {
      const rows = await this.db
        .update(threads)
        .set({ categoryId, categorySource: "classifier", classifiedAt: sql`now()` })
        .where(
          and(
            eq(threads.id, threadId),
            replaceable,
            sql`exists (select 1 from ${categories} where ${categories.id} = ${categoryId} and ${categories.projectId} = ${threads.projectId})`,
          ),
        )
        .returning({ id: threads.id });
      return rows.length > 0;
    } catch (error) {
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  /** Marks threads as just sent to the classifier, so the sweeper waits a grace period. */
  async markRequested(threadIds: readonly string[]): Promise<void> {
    if (threadIds.length === 0) return;
    await this.db
      .update(threads)
      .set({ classificationRequestedAt: sql`now()` })
      .where(and(inArray(threads.id, [...threadIds]), isNull(threads.categoryId)));
  }

  /**
   * Unlabelled threads whose last request to the classifier (or creation) is older than the
   * grace period but within the look-back window, in projects that have categories.
   */
  async dueForSweep(graceSeconds: number, lookbackHours: number, limit: number): Promise<string[]> {
    const due = sql`coalesce(${threads.classificationRequestedAt}, ${threads.createdAt})`;
    const rows = await this.db
      .select({ id: threads.id })
      .from(threads)
      .where(
        and(
          isNull(threads.categoryId),
          sql`${due} < now() - make_interval(secs => ${graceSeconds})`,
          sql`${due} >= now() - make_interval(hours => ${lookbackHours})`,
          sql`exists (select 1 from ${categories} where ${categories.projectId} = ${threads.projectId})`,
        ),
      )
      .orderBy(asc(due))
      .limit(limit);
    return rows.map((r) => r.id);
  }
}
