import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { listThreads } from "../../shared/threads/service.js";
import { createTenant, useTestDb } from "../support/db.js";

const db = useTestDb();
const repo = new ThreadsRepository(db);

/** Threads with deliberately tied timestamps: the id must break ties so no page repeats or skips one. */
async function seedTies(projectId: string, count: number) {
  await db.execute(sql`
    insert into threads (project_id, created_at, first_question, question_count)
    select ${projectId}, timestamptz '2026-01-01T00:00:00Z' + ((g / 4) * interval '1 second'), 'q' || g, 1
    from generate_series(1, ${count}) g`);
  await db.execute(sql`update projects set thread_count = ${count} where id = ${projectId}`);
}

const linkTo = (query: Record<string, string>) => `https://api.test/threads/?${new URLSearchParams(query)}`;
const cursorOf = (link: string | null) => (link ? (new URL(link).searchParams.get("cursor") ?? undefined) : undefined);

describe("threads pagination", () => {
  it("walks every thread once by cursor, forwards and back, newest first", async () => {
    const { projectId } = await createTenant(db);
    await seedTies(projectId, 23);
    const expected = await db.execute<{ id: string }>(
      sql`select id from threads where project_id = ${projectId} order by created_at desc, id desc`,
    );

    const forward: string[][] = [];
    let page = await listThreads(repo, { projectId, limit: 5, linkTo });
    expect(page.count).toBe(23);
    expect(page.previous).toBeNull();
    forward.push(page.threads.map((r) => r.id));
    while (page.next) {
      page = await listThreads(repo, { projectId, limit: 5, cursor: cursorOf(page.next), linkTo });
      forward.push(page.threads.map((r) => r.id));
    }
    expect(forward.flat()).toEqual(expected.map((r) => r.id));
    expect(forward.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);

    const backward: string[][] = [];
    while (page.previous && cursorOf(page.previous)) {
      page = await listThreads(repo, { projectId, limit: 5, cursor: cursorOf(page.previous), linkTo });
      backward.unshift(page.threads.map((r) => r.id));
    }
    expect(backward).toEqual(forward.slice(0, -1));
    expect(page.previous).toBeNull();
  });

  it("does not leak other projects' threads into a page", async () => {
    const a = await createTenant(db);
    const b = await createTenant(db);
    await seedTies(a.projectId, 6);
    await seedTies(b.projectId, 6);
    const page = await listThreads(repo, { projectId: a.projectId, limit: 100, linkTo });
    expect(page.threads).toHaveLength(6);
    expect(page.threads.every((r) => r.projectId === a.projectId)).toBe(true);
  });
});
