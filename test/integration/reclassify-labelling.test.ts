import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { executionArn } from "../../shared/backfill/executions.js";
import { BackfillRepository } from "../../shared/backfill/repository.js";
import { JobConflictError, jobExecutionName, startJob } from "../../shared/backfill/service.js";
import { localClassifier } from "../../shared/classification/providers.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { classifyBatch } from "../../shared/classification/service.js";
import { runtime } from "../../shared/composition/runtime.js";
import { startTestBackfill, type TestBackfill } from "../support/backfill.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { drainBodies } from "../support/sqs.js";

const db = useTestDb();
const labels = new LabelsRepository(db);

// No consumer on the backfill queue: the test is the classifier, so a job stays `labelling` until it runs it.
let backfill: TestBackfill;
beforeAll(async () => {
  backfill = await startTestBackfill({ consumers: [] });
});
afterAll(() => backfill.stop());

const waitForExecution = (projectId: string, jobId: string) =>
  backfill.stepFunctions.waitFor(executionArn(backfill.stateMachineArn, jobExecutionName(projectId, jobId)));

/** Every message on the backfill queue now, each of the project's thread ids once per message. */
async function drainBackfill(): Promise<{ threadId: string; projectId?: string }[]> {
  return (await drainBodies(backfill.queueUrl("BackfillQueueUrl"))).map((b) => JSON.parse(b));
}

describe("POST reclassify/ until the job's threads are labelled", () => {
  it("of five concurrent requests one starts; the job holds the slot while labelling; each thread is queued once", async () => {
    const tenant = await createTenant(db, "reclassify-labelling");
    await seedThreads(db, { count: 20, projects: 0, projectIds: [tenant.projectId], chunk: 20 });
    const post = () => invoke("startReclassify", tenant, { body: { scope: "unlabelled" } });

    const first = await Promise.all(Array.from({ length: 5 }, post));
    const started = first.filter((r) => r.status === 202);
    expect(started).toHaveLength(1);
    const jobId = started[0]?.body.id as string;
    expect(first.filter((r) => r.status === 409).map((r) => r.body.id)).toEqual(Array(4).fill(jobId));

    // Every thread enqueued: the execution stopped, the job is labelling, and still holds its slot.
    await waitForExecution(tenant.projectId, jobId);
    const status = await invoke("getReclassify", tenant, { params: { job_id: jobId } });
    expect(status.body).toMatchObject({ status: "labelling", progress: { pending: 20 } });
    const again = await Promise.all(Array.from({ length: 5 }, post));
    expect(again.map((r) => [r.status, r.body.id])).toEqual(Array(5).fill([409, jobId]));

    const queued = await drainBackfill();
    const mine = queued.filter((r) => r.projectId === tenant.projectId);
    expect(mine).toHaveLength(20);
    expect(new Set(mine.map((r) => r.threadId)).size).toBe(20);

    // The classifier labels them: the job is done and the slot is free.
    const failed = await classifyBatch(
      { labels, classifier: localClassifier() },
      queued.map((r, i) => ({ messageId: `m${i}`, body: JSON.stringify(r), sentAt: Date.now() })),
    );
    expect(failed).toEqual([]);
    const done = await invoke("getReclassify", tenant, { params: { job_id: jobId } });
    expect(done.body).toMatchObject({ status: "done", progress: { pending: 0 } });
    const next = await post();
    expect(next.status).toBe(202);
    expect(next.body.id).not.toBe(jobId);
    await waitForExecution(tenant.projectId, next.body.id as string);
  });

  it("frees the slot of a labelling job whose pending count stopped going down", async () => {
    const tenant = await createTenant(db, "reclassify-stalled");
    await seedThreads(db, { count: 3, projects: 0, projectIds: [tenant.projectId], chunk: 3 });
    const deps = { threads: new BackfillRepository(db), executions: (await runtime()).backfillExecutions };
    const request = { projectId: tenant.projectId, scope: "unlabelled" as const };
    const job = await startJob(deps, request);
    await waitForExecution(tenant.projectId, job.id);

    // Nothing consumes the queue: the first look records the count, and the job holds the slot.
    const stalledAfterNothing = { ...deps, labellingStallMs: 0 };
    await expect(startJob(stalledAfterNothing, request)).rejects.toBeInstanceOf(JobConflictError);
    // Looked at again without progress past the stall window (here none): the slot is taken over.
    const next = await startJob(stalledAfterNothing, request);
    expect(next.id).not.toBe(job.id);
    await waitForExecution(tenant.projectId, next.id);
    await drainBackfill();
  });
});
