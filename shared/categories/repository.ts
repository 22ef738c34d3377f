import { and, asc, count, eq, gte, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { classifyDbError } from "../db/errors.js";
import { lockProjectForCap } from "../db/project-lock.js";
import { type CategoryRow, categories, threads } from "../db/schema.js";
import { MAX_CATEGORIES_PER_PROJECT } from "../labels/limits.js";
import { ConflictError, NotFoundError } from "../platform/errors.js";
import { categoryEvent } from "../webhooks/outbox.js";
import type { LabelCount } from "./model.js";

const isUniqueViolation = (error: unknown) => classifyDbError(error)?.kind === "unique";

const duplicateName = (name: string) => new ConflictError(`A category named "${name}" already exists in this project`);
const categoryNotFound = (id: string) => new NotFoundError(`Category ${id} not found`);

/** The port of a project's categories and its label counts: services take it, tests fake it; CategoriesRepository is the Postgres adapter. */
export interface CategoriesStore {
  list(projectId: string): Promise<CategoryRow[]>;
  create(projectId: string, input: { name: string; description?: string }): Promise<CategoryRow>;
  update(projectId: string, id: string, input: { name?: string; description?: string }): Promise<CategoryRow>;
  /** Marks the category deleted (one row): its threads are unlabelled afterwards (unlabel.ts). */
  delete(projectId: string, id: string): Promise<void>;
  labelCounts(projectId: string, range: { after?: Date; before?: Date }): Promise<LabelCount[]>;
}

/** A category that exists for the API: not deleted (a deleted one waits for its threads to be unlabelled). */
const live = (projectId: string, id?: string) =>
  and(eq(categories.projectId, projectId), isNull(categories.deletedAt), id ? eq(categories.id, id) : undefined);

/** Categories of a project; every statement is scoped to the project. */
export class CategoriesRepository implements CategoriesStore {
  constructor(private readonly db: Db) {}

  list(projectId: string): Promise<CategoryRow[]> {
    return this.db
      .select()
      .from(categories)
      .where(live(projectId))
      .orderBy(asc(sql`lower(${categories.name})`), asc(categories.id));
  }

  /** The project's row lock serializes creations, so the cap holds under concurrent requests. */
  async create(projectId: string, input: { name: string; description?: string }): Promise<CategoryRow> {
    return this.db.transaction(async (tx) => {
      await lockProjectForCap(tx, projectId);
      const [existing] = await tx.select({ n: count() }).from(categories).where(live(projectId));
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
          .where(live(projectId, id))
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
   * Marks the category deleted, one row whatever its size: from now on it is not listed, not
   * offered to the classifier and refused as a label, and a thread's label pointing at it reads as
   * no label. Its threads are unlabelled in bounded batches afterwards (unlabel.ts).
   */
  async delete(projectId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(categories)
        .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(live(projectId, id))
        .returning({ id: categories.id, name: categories.name, description: categories.description });
      if (!row) throw categoryNotFound(id);
      await tx.execute(categoryEvent("category.deleted", projectId, row));
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
