import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { getJob, startJob } from "../../shared/backfill/service.js";
import { runtime } from "../../shared/composition/runtime.js";
import { LAMBDA_TIMEOUT_ERROR } from "../../shared/platform/lambda.js";
import { executionOf, gate, labelsOf, startTestBackfill, type TestBackfill, wrapState } from "../support/backfill.js";
import { createTenant, useTestDb } from "../support/db.js";
import { eventually } from "../support/sqs.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();

/** EnqueueRange's function timeout here (the template's is minutes): an attempt held past it times out. */
const ENQUEUE_TIMEOUT_SECONDS = 2;

/** The first attempt at the second range hangs, as a function stuck on a slow dependency would. */
const attempts = new Map<string, number>();
let hung: string | undefined;
const hang = gate();
const wrapTask = wrapState("EnqueueRange", (task) => async (input) => {
  const last = (input as { range: { last: string } }).range.last;
  const attempt = (attempts.get(last) ?? 0) + 1;
  attempts.set(last, attempt);
  if (attempt === 1 && hung === undefined && attempts.size === 2) {
    hung = last;
    await hang.opened;
    throw new Error("the hung attempt was released after its timeout: its result is not used");
  }
  return task(input);
});

let backfill: TestBackfill;

beforeAll(async () => {
  backfill = await startTestBackfill({
    wrapTask,
    adjust: (topology) => {
      const fn = Object.values(topology.functions).find((f) => f.entry === "backfill-enqueue-range");
      if (fn) fn.timeoutSeconds = ENQUEUE_TIMEOUT_SECONDS;
    },
  });
  // Its environments started (Lambda's init phase, not counted in its timeout), around the fault hook.
  const fn = backfill.functionId("backfill-enqueue-range");
  await Promise.all([1, 2, 3].map(() => backfill.world.pool.invoke(fn, {}).catch(() => undefined)));
});
afterAll(async () => {
  hang.open();
  await backfill.stop();
});

async function jobDeps() {
  const { backfill: threads, backfillExecutions } = await runtime();
  return { threads, executions: backfillExecutions };
}

// Act and assess -----------------------------------------------------------------------------

describe("a backfill range whose function times out", () => {
  it("fails the attempt as Lambda does (Sandbox.Timedout), is retried by the synthesized definition, and the job completes", async () => {
    const tenant = await createTenant(db, "backfill-timeout");
    await seedThreads(db, { count: 300, projects: 0, projectIds: [tenant.projectId], chunk: 300 });

    const job = await startJob(await jobDeps(), { projectId: tenant.projectId, scope: "unlabelled" });
    const execution = await executionOf(backfill, job);

    expect(execution.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "{}")).toMatchObject({ enqueued: 300 });
    expect(hung).toBeDefined();
    // The hung range was tried twice, the others once; the one retry is the timeout's.
    expect(attempts.get(hung as string)).toBe(2);
    expect([...attempts.values()].sort()).toEqual([1, 1, 2]);
    expect(execution.events.StateRetried).toBe(1);

    const finished = await eventually(async () => {
      const current = await getJob(await jobDeps(), tenant.projectId, job.id);
      return current.status === "done" ? current : undefined;
    }, 30_000);
    expect(finished.progress).toMatchObject({ total: 300, pending: 0 });
    expect((await labelsOf(db, tenant.projectId)).every((t) => t.source === "classifier")).toBe(true);
  });

  it("names the timeout in the retry rules of both tasks", () => {
    const states = backfill.machine.definition.States;
    const enqueue = (states.EnqueueRanges as unknown as { ItemProcessor: { States: Record<string, unknown> } })
      .ItemProcessor.States.EnqueueRange;
    for (const task of [states.Plan, enqueue]) {
      const retried = ((task as { Retry: { ErrorEquals: string[] }[] }).Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried).toContain(LAMBDA_TIMEOUT_ERROR);
      expect(retried).toContain("States.Timeout");
    }
  });
});
