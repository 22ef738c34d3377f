import { describe, expect, it } from "vitest";
import {
  asBackfillTask,
  BackfillDatabaseError,
  BackfillQueueError,
  InvalidBackfillInput,
} from "../../shared/backfill/errors.js";
import { executionArn } from "../../shared/backfill/executions.js";
import type { BackfillTarget, LoopState, RangeBound } from "../../shared/backfill/model.js";
import type { BackfillStore } from "../../shared/backfill/repository.js";
import { jobExecutionName, parseJobExecutionName, toJobResource } from "../../shared/backfill/service.js";
import { ENQUEUE_CHUNK, enqueueRange, planPage } from "../../shared/backfill/steps.js";
import type { ClassificationQueue, ClassificationRequest } from "../../shared/classification/queue.js";

// Prepare ------------------------------------------------------------------------------------

/** Sorted fake thread ids: "00000000-0000-4000-8000-000000000001" ... */
const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`);

const PROJECT = "00000000-0000-4000-8000-000000000001";
const notUsed = () => Promise.reject(new Error("not used by the backfill steps"));

/** The repository's walks over an in-memory list of the target's ids. */
function fakeRepository(all: readonly string[]) {
  const after = (cursor: string | null) => all.filter((id) => cursor === null || id > cursor);
  const reads: number[] = [];
  const repository: BackfillStore = {
    async nextRange(_target: BackfillTarget, cursor: string | null, size: number): Promise<RangeBound | null> {
      const page = after(cursor).slice(0, size);
      const last = page.at(-1);
      return last ? { last, count: page.length } : null;
    },
    async idsInRange(_target: BackfillTarget, from: string | null, last: string, limit: number) {
      const chunk = after(from)
        .filter((id) => id <= last)
        .slice(0, limit);
      reads.push(chunk.length);
      return chunk.map((id) => ({ id, projectId: PROJECT }));
    },
    // The steps only walk ids: the job bookkeeping is the service's.
    progress: notUsed,
    projectExists: notUsed,
    claimJob: notUsed,
    finishJob: notUsed,
    releaseJob: notUsed,
    notePending: notUsed,
  };
  return { repository, reads };
}

const startedAt = "2026-01-01T00:00:00.000Z";

// Act and assess -----------------------------------------------------------------------------

describe("Plan", () => {
  it("cuts a page into ranges of rangeSize that cover every id once, and loops while the page was full", async () => {
    const all = ids(2500);
    const { repository } = fakeRepository(all);
    const event = { startedAt, pageSize: 1000, rangeSize: 300 };
    await expect(planPage(repository, { ...event, state: { scope: "unlabelled" } })).rejects.toBeInstanceOf(
      InvalidBackfillInput,
    );

    const sizes = { ...event, pageSize: 900 };
    let state: LoopState = await planPage(repository, { ...sizes, state: { scope: "unlabelled" } });
    expect(state.job).toEqual({ projectId: null, scope: "unlabelled", classifiedBefore: startedAt });
    const covered: string[] = [];
    for (;;) {
      for (const range of state.ranges)
        covered.push(...all.filter((id) => (range.after === null || id > range.after) && id <= range.last));
      if (!state.more) break;
      state = await planPage(repository, { ...sizes, state });
    }
    expect(covered).toEqual(all);
    expect(state).toMatchObject({ pages: 3, planned: 2500, cursor: all.at(-1) });
  });

  it("takes the project, scope and cutoff from the input, the start time as the default cutoff", async () => {
    const { repository } = fakeRepository([]);
    const project = "11111111-1111-4111-8111-111111111111";
    const state = await planPage(repository, {
      startedAt,
      pageSize: 10,
      rangeSize: 10,
      state: { project_id: project, scope: "classifier", classified_before: "2025-06-01T00:00:00Z" },
    });
    expect(state).toMatchObject({
      job: { projectId: project, scope: "classifier", classifiedBefore: "2025-06-01T00:00:00.000Z" },
      ranges: [],
      more: false,
    });
  });

  it("refuses input that is not a backfill request, naming the field", async () => {
    const { repository } = fakeRepository([]);
    const bad = planPage(repository, { startedAt, pageSize: 10, rangeSize: 10, state: { scope: "all" } });
    await expect(asBackfillTask(() => bad)).rejects.toThrow(/Invalid backfill input: scope/);
  });
});

describe("EnqueueRange", () => {
  const job: BackfillTarget = { projectId: null, scope: "classifier", classifiedBefore: startedAt };

  it("streams the range in chunks, at most 40 SendMessageBatch calls in flight, each id once", async () => {
    const all = ids(2 * ENQUEUE_CHUNK + 500);
    const { repository, reads } = fakeRepository(all);
    const sent: ClassificationRequest[] = [];
    let inFlight = 0;
    let peak = 0;
    const queue: ClassificationQueue = {
      async send(requests) {
        inFlight += Math.ceil(requests.length / 10);
        peak = Math.max(peak, inFlight);
        // Answers on a later turn of the event loop, as a network call would: the sends overlap.
        await new Promise((resolve) => setImmediate(resolve));
        sent.push(...requests);
        inFlight -= Math.ceil(requests.length / 10);
      },
    };
    const range = { after: all[9] as string, last: all.at(-1) as string };
    const result = await enqueueRange({ threads: repository, queue }, { job, range });
    expect(result).toEqual({ enqueued: all.length - 10 });
    expect(sent.map((r) => r.threadId).sort()).toEqual(all.slice(10));
    expect(new Set(sent.map((r) => `${r.reason}/${r.mode}`))).toEqual(new Set(["backfill/reclassify"]));
    // Each carries its thread's project: the fair queues' message group.
    expect(new Set(sent.map((r) => r.projectId))).toEqual(new Set([PROJECT]));
    expect(reads).toEqual([ENQUEUE_CHUNK, ENQUEUE_CHUNK, 490]);
    expect(peak).toBeLessThanOrEqual(40);
  });

  it("turns a send failure into BackfillQueueError (which the state machine retries)", async () => {
    const { repository } = fakeRepository(ids(5));
    const queue: ClassificationQueue = {
      send: async () => {
        throw new Error("Throttled");
      },
    };
    const range = { after: null, last: ids(5)[4] as string };
    await expect(enqueueRange({ threads: repository, queue }, { job, range })).rejects.toThrow(BackfillQueueError);
  });
});

describe("task errors", () => {
  const failedQuery = (cause: unknown) =>
    Object.assign(new Error("Failed query: select id from threads where id > $1\nparams: 0000-secret"), {
      query: "select id from threads where id > $1",
      params: ["0000-secret"],
      cause,
    });

  it("name transient database errors BackfillDatabaseError, without the SQL or its parameters", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
      address: "127.0.0.1",
      port: 5432,
    });
    const error = await asBackfillTask(() => Promise.reject(failedQuery(refused))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackfillDatabaseError);
    expect((error as Error).message).toBe(
      "Database unavailable: unavailable (ECONNREFUSED at 127.0.0.1:5432 in select threads)",
    );
    const busy = Object.assign(new Error("too many connections"), { code: "53300" });
    await expect(asBackfillTask(() => Promise.reject(busy))).rejects.toBeInstanceOf(BackfillDatabaseError);
  });

  it("keep other query errors apart (not retried), also without the SQL", async () => {
    const broken = Object.assign(new Error('relation "threads" does not exist'), { code: "42P01" });
    const error = (await asBackfillTask(() => Promise.reject(failedQuery(broken))).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe("BackfillQueryError");
    expect(error.message).toBe("Database error: other (42P01 in select threads)");
    expect(error.message).not.toContain("secret");
  });
});

describe("jobs", () => {
  const project = "22222222-2222-4222-8222-222222222222";
  const job = "33333333-3333-4333-8333-333333333333";

  it("name executions by project and job, and read the names back", () => {
    expect(jobExecutionName(project, job)).toBe(`${project}_${job}`);
    expect(jobExecutionName(null, job)).toBe(`all_${job}`);
    expect(parseJobExecutionName(`${project}_${job}`)).toEqual({ projectId: project, jobId: job });
    expect(parseJobExecutionName(`all_${job}`)).toEqual({ projectId: null, jobId: job });
    expect(parseJobExecutionName("bad-123")).toBeNull();
    expect(jobExecutionName(project, job).length).toBeLessThanOrEqual(80); // Step Functions' limit
  });

  it("derive an execution's ARN from its state machine's", () => {
    expect(executionArn("arn:aws:states:eu-west-1:123456789012:stateMachine:Backfill-x1", "all_1")).toBe(
      "arn:aws:states:eu-west-1:123456789012:execution:Backfill-x1:all_1",
    );
    expect(() => executionArn("arn:aws:lambda:eu-west-1:123456789012:function:f", "x")).toThrow(/state machine/);
  });

  it("show the API no execution name, error or cause", () => {
    const resource = toJobResource({
      id: job,
      execution: `${project}_${job}`,
      projectId: project,
      scope: "unlabelled",
      status: "failed",
      startedAt: new Date(startedAt),
      stoppedAt: new Date(startedAt),
      classifiedBefore: new Date(startedAt),
      enqueued: null,
      error: "BackfillQueryError: Database error: relation does not exist",
      progress: { total: 3, pending: 2, done: 1 },
    });
    expect(JSON.stringify(resource)).not.toMatch(/relation|_33333333|BackfillQueryError/);
    expect(resource).toMatchObject({ status: "failed", enqueued_at: null, progress: { percent: 33.3 } });
  });
});
