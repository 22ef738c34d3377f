import { randomUUID } from "node:crypto";
import { ConflictError, NotFoundError } from "../platform/errors.js";
import type { ExecutionRecord, ExecutionSummary, Executions } from "./executions.js";
import type { TargetProgress } from "./model.js";
import { type BackfillScope, type BackfillTarget, backfillInput } from "./model.js";
import type { BackfillStore } from "./repository.js";

/**
 * Backfill jobs: one execution of the state machine each. A job's execution is named
 * `<project id>_<job id>` (`all_<job id>` for every project), so the API's job id and the path's
 * project give the execution's ARN directly, and a job id of another project names an execution
 * that does not exist: 404 without a lookup. The input is checked too.
 *
 * A job first enqueues (the execution runs, minutes at most), then the classifier drains the
 * backfill queue at its capped rate (hours for a million threads); its status covers both:
 * enqueueing -> labelling -> done, or failed.
 */
export type JobStatus = "enqueueing" | "labelling" | "done" | "failed";

export interface Job {
  id: string;
  /** The execution's name. */
  execution: string;
  projectId: string | null;
  scope: BackfillScope;
  status: JobStatus;
  startedAt: Date;
  /** When the execution finished (all ids enqueued, or failed). */
  stoppedAt: Date | null;
  /** Scope classifier re-labels only classifier labels written before this. */
  classifiedBefore: Date;
  /** Thread ids the execution enqueued, once it succeeded. */
  enqueued: number | null;
  /** The execution's error and cause, for operators (the API does not show them). */
  error: string | null;
  progress: TargetProgress & { done: number };
}

export interface JobDeps {
  executions: Executions;
  threads: BackfillStore;
  /** @default LABELLING_STALL_MS */
  labellingStallMs?: number;
}

const ALL = "all";

export const jobExecutionName = (projectId: string | null, jobId: string) => `${projectId ?? ALL}_${jobId}`;

/** The job of an execution name, or null for an execution that is not a job's. */
export function parseJobExecutionName(name: string): { projectId: string | null; jobId: string } | null {
  const match = /^([0-9a-f-]{36}|all)_([0-9a-f-]{36})$/.exec(name);
  if (!match) return null;
  return { projectId: match[1] === ALL ? null : (match[1] as string), jobId: match[2] as string };
}

function targetOf(execution: ExecutionRecord): BackfillTarget | null {
  const input = backfillInput.safeParse(execution.input);
  if (!input.success) return null;
  return {
    projectId: input.data.project_id ?? null,
    scope: input.data.scope,
    classifiedBefore: (input.data.classified_before
      ? new Date(input.data.classified_before)
      : execution.startDate
    ).toISOString(),
  };
}

function statusOf(execution: ExecutionRecord, pending: number): JobStatus {
  switch (execution.status) {
    case "RUNNING":
    case "PENDING_REDRIVE":
      return "enqueueing";
    case "SUCCEEDED":
      return pending > 0 ? "labelling" : "done";
    default:
      return "failed";
  }
}

async function toJob(deps: JobDeps, execution: ExecutionRecord): Promise<Job | null> {
  const parsed = parseJobExecutionName(execution.name);
  const target = targetOf(execution);
  if (!parsed || !target || target.projectId !== parsed.projectId) return null;
  const progress = await deps.threads.progress(target);
  const output = execution.output as { enqueued?: unknown } | null;
  return {
    id: parsed.jobId,
    execution: execution.name,
    projectId: target.projectId,
    scope: target.scope,
    status: statusOf(execution, progress.pending),
    startedAt: execution.startDate,
    stoppedAt: execution.stopDate,
    classifiedBefore: new Date(target.classifiedBefore),
    enqueued: typeof output?.enqueued === "number" ? output.enqueued : null,
    error: execution.error ? `${execution.error}${execution.cause ? `: ${execution.cause}` : ""}` : null,
    progress: { ...progress, done: progress.total - progress.pending },
  };
}

/** A job of this project (null: every project); NotFoundError for a job that is not its own. */
export async function getJob(deps: JobDeps, projectId: string | null, jobId: string): Promise<Job> {
  const execution = await deps.executions.describe(jobExecutionName(projectId, jobId));
  const job = execution ? await toJob(deps, execution) : null;
  if (!job) throw new NotFoundError(`Reclassify job ${jobId} not found`);
  return job;
}

/** The project's (null: the all-projects) jobs whose execution is still running. */
export async function runningJobs(deps: Pick<JobDeps, "executions">, projectId: string | null) {
  const running = await deps.executions.list({ status: "RUNNING", max: 1000 });
  return running.filter((e: ExecutionSummary) => parseJobExecutionName(e.name)?.projectId === projectId);
}

export interface StartJobRequest {
  projectId: string | null;
  scope: BackfillScope;
  /** Scope classifier: keep this cutoff (resuming a job); default: now. */
  classifiedBefore?: Date;
}

/** A claim whose execution does not exist yet is taken to be starting for this long. */
const STARTING_GRACE_MS = 60_000;

/**
 * A labelling job whose pending count has not gone down for this long releases its slot: its last
 * threads cannot be labelled (dead-lettered, the project has no categories).
 */
export const LABELLING_STALL_MS = 3_600_000;

/** A job of the same project and scope is enqueueing or labelling: 409, with its id. */
export class JobConflictError extends ConflictError {
  constructor(readonly jobId: string) {
    super(`A reclassify job of this scope is still running for this project: ${jobId}`, jobId);
  }
}

/**
 * Whether the job holding a slot is still active: its execution is running (or about to), or it
 * enqueued every thread and the classifier has not labelled them all yet (and has not stalled).
 */
async function holderActive(deps: JobDeps, request: StartJobRequest, claim: { heldBy: string; since: Date }) {
  const holder = await deps.executions.describe(jobExecutionName(request.projectId, claim.heldBy));
  if (!holder) return Date.now() - claim.since.getTime() < STARTING_GRACE_MS;
  if (holder.status === "RUNNING" || holder.status === "PENDING_REDRIVE") return true;
  if (holder.status !== "SUCCEEDED") return false;
  const job = await toJob(deps, holder);
  if (!job || job.progress.pending === 0) return false;
  const stalled = await deps.threads.notePending(
    claim.heldBy,
    job.progress.pending,
    deps.labellingStallMs ?? LABELLING_STALL_MS,
  );
  return !stalled;
}

/**
 * Takes the project's slot for the scope (BackfillRepository.claimJob). The slot is held until the
 * job's threads are labelled, not only enqueued: a second job meanwhile would send every thread
 * again. A slot whose job has stopped (or never started), is labelled, or stalled, is freed and taken.
 */
async function claimSlot(deps: JobDeps, jobId: string, request: StartJobRequest): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const claim = await deps.threads.claimJob(jobId, request.projectId, request.scope);
    if (claim.claimed) return;
    if (!claim.heldBy) continue;
    if (await holderActive(deps, request, claim)) throw new JobConflictError(claim.heldBy);
    await deps.threads.finishJob(claim.heldBy);
  }
  throw new ConflictError("Another reclassify job is starting for this project; try again");
}

/**
 * Starts a job. One job per project (or one all-projects job) and scope enqueues or labels at a time,
 * atomically: of two simultaneous requests one starts, the other is a conflict (409) with the
 * running job's id, not a second walk over the same threads.
 */
export async function startJob(deps: JobDeps, request: StartJobRequest): Promise<Job> {
  // A key cached by the authorizer outlives its project for a while: no job for a deleted one.
  if (request.projectId && !(await deps.threads.projectExists(request.projectId))) {
    throw new NotFoundError(`Project ${request.projectId} not found`);
  }
  const jobId = randomUUID();
  const name = jobExecutionName(request.projectId, jobId);
  const input = backfillInput.parse({
    project_id: request.projectId,
    scope: request.scope,
    // Explicit, so that the job's progress and the walk use the very same cutoff.
    classified_before: (request.classifiedBefore ?? new Date()).toISOString(),
    job_id: jobId,
  });
  await claimSlot(deps, jobId, request);
  let started: Awaited<ReturnType<Executions["start"]>>;
  try {
    started = await deps.executions.start(name, input);
  } catch (error) {
    await deps.threads.releaseJob(jobId);
    throw error;
  }
  const job = await toJob(deps, {
    name,
    arn: started.arn,
    status: "RUNNING",
    startDate: started.startDate,
    stopDate: null,
    input,
    output: null,
    error: null,
    cause: null,
  });
  if (!job) throw new Error(`The execution ${name} is not a job's`);
  return job;
}

/** Starts a job again with the same project, scope and cutoff: it only does what is left. */
export async function resumeJob(deps: JobDeps, projectId: string | null, jobId: string): Promise<Job> {
  const previous = await getJob(deps, projectId, jobId);
  return startJob(deps, {
    projectId: previous.projectId,
    scope: previous.scope,
    classifiedBefore: previous.classifiedBefore,
  });
}

/** The API's view of a job: no execution names, errors or causes (they may name internals). */
export function toJobResource(job: Job) {
  const { total, done, pending } = job.progress;
  return {
    id: job.id,
    project: job.projectId as string,
    scope: job.scope,
    status: job.status,
    started_at: job.startedAt.toISOString(),
    enqueued_at: job.status === "failed" || !job.stoppedAt ? null : job.stoppedAt.toISOString(),
    classified_before: job.classifiedBefore.toISOString(),
    enqueued: job.enqueued,
    error: job.status === "failed" ? "The job stopped before enqueueing every thread; start it again" : null,
    progress: { total, done, pending, percent: total > 0 ? Math.floor((done / total) * 1000) / 10 : 100 },
  };
}
