import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { executionArn } from "../../shared/backfill/executions.js";
import { jobExecutionName } from "../../shared/backfill/service.js";
import type { Classifier } from "../../shared/classification/classifier.js";
import { localClassifier } from "../../shared/classification/providers.js";
import type { ClassificationRequest } from "../../shared/classification/queue.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { classifyBatch } from "../../shared/classification/service.js";
import { backfillJobs, categories, projects, threads } from "../../shared/db/schema.js";
import { gate, startTestBackfill, type TestBackfill, wrapState } from "../support/backfill.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();

/** Holds every Plan task until released: the jobs stay running while the test starts others. */
const held = gate();
const wrapTask = wrapState("Plan", (task) => async (input) => {
  await held.opened;
  return task(input);
});

let backfill: TestBackfill;
beforeAll(async () => {
  backfill = await startTestBackfill({ wrapTask });
});
afterAll(async () => {
  held.open();
  await backfill.stop();
});

// Act and assess -----------------------------------------------------------------------------

describe("POST reclassify/", () => {
  it("starts one job per project and scope among simultaneous requests; the others answer 409 with its id", async () => {
    const tenant = await createTenant(db, "reclassify-race");
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => invoke("startReclassify", tenant, { body: { scope: "classifier" } })),
    );
    const started = replies.filter((r) => r.status === 202);
    expect(started).toHaveLength(1);
    const jobId = started[0]?.body.id as string;
    const conflicts = replies.filter((r) => r.status === 409);
    expect(conflicts).toHaveLength(5);
    for (const conflict of conflicts) {
      expect(conflict.body.id).toBe(jobId);
      expect(String(conflict.body.detail)).toContain(jobId);
    }
    // One execution of this project exists, the started job's.
    const arn = executionArn(backfill.stateMachineArn, jobExecutionName(tenant.projectId, jobId));
    expect(backfill.stepFunctions.execution(arn)?.status).toBe("RUNNING");

    // Another scope of the same project is another slot; another project too.
    expect((await invoke("startReclassify", tenant, { body: { scope: "unlabelled" } })).status).toBe(202);
    const other = await createTenant(db, "reclassify-other");
    expect((await invoke("startReclassify", other, { body: { scope: "classifier" } })).status).toBe(202);

    // Once the running job's execution has stopped, the slot is free again.
    held.open();
    await backfill.stepFunctions.waitFor(arn);
    const next = await invoke("startReclassify", tenant, { body: { scope: "classifier" } });
    expect(next.status).toBe(202);
    expect(next.body.id).not.toBe(jobId);
  });

  it("answers 404 for a project deleted since the authorizer cached its key, and claims nothing", async () => {
    const tenant = await createTenant(db, "reclassify-deleted");
    await db.delete(projects).where(eq(projects.id, tenant.projectId));

    const reply = await invoke("startReclassify", tenant, { body: { scope: "classifier" } });

    expect(reply.status).toBe(404);
    expect(String(reply.body.detail)).toContain(tenant.projectId);
    const claims = await db.select().from(backfillJobs).where(eq(backfillJobs.projectId, tenant.projectId));
    expect(claims).toEqual([]);
  });
});

describe("a reclassify job's duplicate message", () => {
  it("is skipped without classifying: the thread was re-labelled after the job's cutoff", async () => {
    const tenant = await createTenant(db, "reclassify-dup");
    await seedThreads(db, { count: 1, projects: 0, projectIds: [tenant.projectId], chunk: 1 });
    const [thread] = await db.select().from(threads).where(eq(threads.projectId, tenant.projectId));
    const [category] = await db.select().from(categories).where(eq(categories.projectId, tenant.projectId));
    const labelledAt = new Date(Date.now() - 3_600_000);
    await db
      .update(threads)
      .set({ categoryId: category?.id, categorySource: "classifier", classifiedAt: labelledAt })
      .where(eq(threads.id, thread?.id as string));

    let calls = 0;
    const local = localClassifier();
    const classifier: Classifier = {
      classify: (question, options, examples) => {
        calls++;
        return local.classify(question, options, examples);
      },
    };
    const cutoff = new Date(Date.now() - 60_000).toISOString();
    const request: ClassificationRequest = {
      threadId: thread?.id as string,
      projectId: thread?.projectId as string,
      reason: "backfill",
      mode: "reclassify",
      job: { id: crypto.randomUUID(), classifiedBefore: cutoff },
    };
    const message = (id: string) => ({ messageId: id, body: JSON.stringify(request), sentAt: Date.now() });
    const deps = { labels: new LabelsRepository(db), classifier };

    expect(await classifyBatch(deps, [message("first")])).toEqual([]);
    expect(calls).toBe(1);
    const classifiedAt = async () =>
      (
        await db
          .select()
          .from(threads)
          .where(eq(threads.id, thread?.id as string))
      )[0]?.classifiedAt?.getTime();
    const after = await classifiedAt();
    expect(after).toBeGreaterThan(new Date(cutoff).getTime());

    // The retried range's copy: nothing classified, nothing written, nothing to retry.
    expect(await classifyBatch(deps, [message("duplicate")])).toEqual([]);
    expect(calls).toBe(1);
    expect(await classifiedAt()).toBe(after);
  });
});
