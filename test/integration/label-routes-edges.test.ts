import { describe, expect, it } from "vitest";
import { threads } from "../../shared/db/schema.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";

// Found by the outside probe on `npm start`, sending what a client could send.
const db = useTestDb();

const cursorOf = (text: string) => Buffer.from(text).toString("base64url");

describe("label routes at their edges", () => {
  it("label history: only a cursor the API wrote is accepted", async () => {
    const t = await createTenant(db);
    const [thread] = await db
      .insert(threads)
      .values({ projectId: t.projectId, firstQuestion: "Where is my invoice?" })
      .returning({ id: threads.id });
    const id = thread?.id as string;
    const [discovery] = (await invoke("listCategories", t)).body.results as { id: string }[];
    expect(
      (await invoke("updateThread", t, { params: { thread_id: id }, body: { category_id: discovery?.id } })).status,
    ).toBe(200);
    expect((await invoke("updateThread", t, { params: { thread_id: id }, body: { category_id: null } })).status).toBe(
      200,
    );

    const first = await invoke("threadLabels", t, { params: { thread_id: id }, query: { limit: "1" } });
    expect(first.status).toBe(200);
    const cursor = new URL(first.body.next as string).searchParams.get("cursor") as string;
    const next = await invoke("threadLabels", t, { params: { thread_id: id }, query: { cursor } });
    expect(next.status).toBe(200);
    expect(next.body.results).toHaveLength(1);

    // Number() reads these as 0, 1000, 16 and 1; base64url decoding skips the stray "!".
    for (const forged of [cursorOf("h|"), cursorOf("h|1e3"), cursorOf("h|0x10"), cursorOf("h| 1"), `${cursor}!`]) {
      const reply = await invoke("threadLabels", t, { params: { thread_id: id }, query: { cursor: forged } });
      expect({ forged, status: reply.status, detail: reply.body.detail }).toEqual({
        forged,
        status: 400,
        detail: "Invalid cursor: use the next link of a label history page",
      });
    }
  });

  it("review queue: confidence_below is a decimal between 0 and 1, nothing Number() would also read", async () => {
    const t = await createTenant(db);
    for (const value of ["0.5", ".5", "5e-1", "1", "0"]) {
      expect({
        value,
        status: (await invoke("listThreads", t, { query: { confidence_below: value } })).status,
      }).toEqual({
        value,
        status: 200,
      });
    }
    // "" read as 0 answered an empty queue with 200; "0x1" as 1.
    for (const value of ["", " 0.5", "0x1", "Infinity", "NaN", "1.5", "-0.1", "0.5abc"]) {
      const reply = await invoke("listThreads", t, { query: { confidence_below: value } });
      expect({ value, status: reply.status }).toEqual({ value, status: 400 });
      expect(reply.body.detail).toMatch(/^Invalid query\.confidence_below: confidence_below must be/);
    }
  });

  it("quality: a created_before in year 1's first month answers a window from 0001-01-01, not a database error", async () => {
    const t = await createTenant(db);
    const reply = await invoke("categoryQuality", t, { query: { created_before: "0001-01-15T00:00:00Z" } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      created_after: "0001-01-01T00:00:00.000Z",
      created_before: "0001-01-15T00:00:00.000Z",
      labels: 0,
      categories: [],
    });
  });
});
