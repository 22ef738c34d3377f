import { and, asc, count, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { classifyDbError, retryTransient } from "../db/errors.js";
import { type CategoryRow, categories, projects, threads } from "../db/schema.js";
import { ConflictError, NotFoundError } from "../platform/errors.js";
import { categoryEvent, labelEventsFrom } from "../webhooks/outbox.js";
import { MAX_CATEGORIES_PER_PROJECT } from "./defaults.js";
import type { LabelCount } from "./model.js";

const isUniqueViolation = (error: unknown) => classifyDbError(error)?.kind === "unique";

const duplicateName = (name: string) => new ConflictError(`A category named "${name}" already exists in this project`);
const categoryNotFound = (id: string) => new NotFoundError(`Category ${id} not found`);

/** The port of a project's categories and its label counts: services take it, tests fake it; CategoriesRepository is the Postgres adapter. */
export interface CategoriesStore {
  list(projectId: string): Promise<CategoryRow[]>;
  create(projectId: string, input: { name: string; description?: string }): Promise<CategoryRow>;
  update(projectId: string, id: string, input: { name?: string; description?: string }): Promise<CategoryRow>;
  delete(projectId: string, id: string, returnIds: number): Promise<{ unlabelled: string[] }>;
  labelCounts(projectId: string, range: { after?: Date; before?: Date }): Promise<LabelCount[]>;
}

/** Categories of a project; every statement is scoped to the project. */
export class CategoriesRepository implements CategoriesStore {
  constructor(private readonly db: Db) {}

  list(projectId: string): Promise<CategoryRow[]> {
    return this.db
      .select()
      .from(categories)
      .where(eq(categories.projectId, projectId))
      .orderBy(asc(sql`lower(${categories.name})`), asc(categories.id));
  }

  /** The project's row lock serializes creations, so the cap holds under concurrent requests. */
  async create(projectId: string, input: { name: string; description?: string }): Promise<CategoryRow> {
    return this.db.transaction(async (tx) => {
      const [project] = await tx
        .select({ id: projects.id })
        .from(projects)
        .where(eq(projects.id, projectId))
        .for("update");
      // Deleted while its key was still cached by the authorizer.
      if (!project) throw new NotFoundError(`Project ${projectId} not found`);
      const [existing] = await tx.select({ n: count() }).from(categories).where(eq(categories.projectId, projectId));
      if ((existing?.n ?? 0) >= MAX_CATEGORIES_PER_PROJECT) {
        throw new ConflictError(`A project can have at most ${MAX_CATEGORIES_PER_PROJECT} categories`);
      }
      const [row] = await tx
        .insert(categories)
        .values({ projectId, name: input.name, description: input.description ?? "" })
        .onConflictDoNothing()
        .returning();
      if (!row) throw duplicateName(input.name);
      await tx.execute(categoryEvent("category.created", projectId, row));
      return row;
    });
  }

  async update(projectId: string, id: string, input: { name?: string; description?: string }): Promise<CategoryRow> {
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx
          .update(categories)
          .set({ ...input, updatedAt: sql`now()` })
          .where(and(eq(categories.id, id), eq(categories.projectId, projectId)))
          .returning();
        if (!row) throw categoryNotFound(id);
        await tx.execute(categoryEvent("category.updated", projectId, row));
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateName(input.name ?? "");
      throw error;
    }
  }

  /**
   * Deletes a category and unlabels its threads (user labels too: that choice no longer exists),
   * marking them as sent to the classifier. The category's row lock makes concurrent label writes
   * that point at it wait, then fail on the foreign key, so no label to a deleted category
   * survives. Returns up to `returnIds` of the unlabelled threads, for the caller to send.
   */
  async delete(projectId: string, id: string, returnIds: number): Promise<{ unlabelled: string[] }> {
    // A label written meanwhile can deadlock with the unlabelling: the loser is run again.
    return retryTransient(() => this.deleteOnce(projectId, id, returnIds));
  }

  private deleteOnce(projectId: string, id: string, returnIds: number): Promise<{ unlabelled: string[] }> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ id: categories.id, name: categories.name, description: categories.description })
        .from(categories)
        .where(and(eq(categories.id, id), eq(categories.projectId, projectId)))
        .for("update");
      if (!locked) throw categoryNotFound(id);
      const unlabelled = await tx.execute<{ id: string }>(sql`
        with unlabelled as (
          update threads
          set category_id = null, category_source = null, classified_at = null, classification_requested_at = now()
          where project_id = ${projectId} and category_id = ${id}
          returning id, project_id, category_id, 'system'::text as source,
            ${id}::uuid as previous_category_id, null::text as previous_source
        ), label_events as (${labelEventsFrom("unlabelled")})
        select id from unlabelled limit ${returnIds}`);
      await tx.execute(categoryEvent("category.deleted", projectId, locked));
      await tx.delete(categories).where(eq(categories.id, id));
      return { unlabelled: unlabelled.map((r) => r.id) };
    });
  }

  /** Thread counts by label and source for threads created in the range: one grouped index scan. */
  async labelCounts(projectId: string, range: { after?: Date; before?: Date }): Promise<LabelCount[]> {
    const conditions: SQL[] = [eq(threads.projectId, projectId)];
    if (range.after) conditions.push(gte(threads.createdAt, range.after));
    if (range.before) conditions.push(lt(threads.createdAt, range.before));
    const rows = await this.db
      .select({ categoryId: threads.categoryId, source: threads.categorySource, count: count() })
      .from(threads)
      .where(and(...conditions))
      .groupBy(threads.categoryId, threads.categorySource);
    return rows;
  }
}
