import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";
import { findRunningLocalBackfill, startLocalBackfill } from "../local/backfill.js";
import type { LocalDatabase } from "../local/database.js";
import { deviationsFromEnv } from "../local/settings.js";
import { queueDepth, startLocalSqs, useLocalAws } from "../local/sqs.js";
import type { Executions } from "../shared/backfill/executions.js";
import { BACKFILL_SCOPES, type BackfillScope } from "../shared/backfill/model.js";
import { BackfillRepository, type TargetProgress } from "../shared/backfill/repository.js";
import {
  getJob,
  type Job,
  type JobDeps,
  parseJobExecutionName,
  resumeJob,
  startJob,
} from "../shared/backfill/service.js";
import { createSfnExecutions } from "../shared/backfill/sfn.js";
import { createSqsClient } from "../shared/platform/aws.js";
import { type Env, loadEnv } from "../shared/platform/config.js";
import { InvalidInputError, NotFoundError } from "../shared/platform/errors.js";
import { closeRuntime } from "../shared/platform/runtime.js";
import { createProgress } from "./progress.js";

/**
 * `npx kapa backfill start|status`: backfill jobs from the command line, wherever the backfill
 * runs:
 * - BACKFILL_STATE_MACHINE_ARN set: Step Functions in AWS (queue depths with BACKFILL_QUEUE_URL
 *   and BACKFILL_DLQ_URL, the stack's outputs);
 * - else the backfill of a running `npm start` (advertised in DATA_DIR/local-backfill.json): the
 *   execution runs there, next to its queue and classifier;
 * - else (`start` only) in this process: the local SQS, the backfill queue and its classifier,
 *   and the local Step Functions, until every thread is labelled; Ctrl-C stops it and a later
 *   `start --resume JOB` does what is left.
 */
export interface BackfillCommandArgs {
  /** One project (default: every project). */
  project?: string;
  /** `unlabelled` (default) or `classifier`. */
  scope?: string;
  /** start: the job to start again (same project, scope and cutoff). */
  resume?: string;
  /** status: the job (default: the newest). */
  job?: string;
  /** Keep showing progress until the job is done (start: always when running in this process). */
  watch?: boolean;
  /** Seconds between progress lines. @default 2 */
  interval?: number;
}

export interface BackfillCommandIo {
  /** Where the progress bar goes (the final summary is the returned text). */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops watching (and, in-process, the backfill). */
  signal?: AbortSignal;
  env?: Env;
}

type Output = { json: Record<string, unknown>; text: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Connection {
  where: string;
  executions: Executions;
  queues: { sqs: SQSClient; queueUrl: string; dlqUrl: string | null } | null;
  /** Executions run in this process: watch until done, then stop. */
  inProcess: boolean;
  close(): Promise<void>;
}

const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

/** Step Functions and the backfill queues of AWS, or of a running `npm start`; null when neither. */
function connectExisting(env: Env): Connection | null {
  if (env.BACKFILL_STATE_MACHINE_ARN) {
    const sqs = createSqsClient();
    return {
      where: `Step Functions ${env.BACKFILL_STATE_MACHINE_ARN}`,
      executions: createSfnExecutions(env.BACKFILL_STATE_MACHINE_ARN),
      queues: env.BACKFILL_QUEUE_URL
        ? { sqs, queueUrl: env.BACKFILL_QUEUE_URL, dlqUrl: env.BACKFILL_DLQ_URL ?? null }
        : null,
      inProcess: false,
      close: async () => sqs.destroy(),
    };
  }
  const local = findRunningLocalBackfill(env.DATA_DIR);
  if (!local) return null;
  const region = process.env.AWS_REGION ?? "us-east-1";
  const sfn = new SFNClient({ endpoint: local.sfnEndpoint, region, credentials: localCredentials });
  const sqs = new SQSClient({
    endpoint: local.sqsEndpoint,
    region,
    credentials: localCredentials,
    useQueueUrlAsEndpoint: false,
  });
  return {
    where: `the local Step Functions of npm start (${local.sfnEndpoint})`,
    executions: createSfnExecutions(local.stateMachineArn, sfn),
    queues: { sqs, queueUrl: local.queueUrl, dlqUrl: local.dlqUrl },
    inProcess: false,
    async close() {
      sfn.destroy();
      sqs.destroy();
    },
  };
}

/** The whole backfill in this process, on `database`: what `start` does without npm start. */
async function startInProcess(database: LocalDatabase, env: Env): Promise<Connection> {
  // The handlers run here and build their runtime from the environment, as in Lambda.
  process.env.DATABASE_URL = database.target.url;
  process.env.KAPA_EMBEDDED_DB = database.target.embedded ? "1" : "";
  const sqsServer = await startLocalSqs(0);
  useLocalAws({ sqs: sqsServer.endpoint });
  const backfill = await startLocalBackfill({
    env,
    visibilityTimeoutSeconds: deviationsFromEnv().visibilityTimeoutSeconds,
    dataDir: env.DATA_DIR,
    sfnPort: 0,
  });
  const sqs = createSqsClient();
  return {
    where: `this process (classifier on the backfill queue as the template maps it, ${env.CLASSIFIER_DELAY_MS} ms each)`,
    executions: createSfnExecutions(backfill.stateMachineArn),
    queues: { sqs, queueUrl: backfill.queueUrl, dlqUrl: backfill.dlqUrl },
    inProcess: true,
    async close() {
      sqs.destroy();
      await backfill.stop();
      await closeRuntime();
      await sqsServer.stop();
    },
  };
}

function checkProject(project: string | undefined): string | null {
  if (project === undefined) return null;
  if (!UUID.test(project)) throw new InvalidInputError(`--project must be a UUID, got ${project}`);
  return project;
}

function checkScope(scope: string | undefined): BackfillScope {
  const found = BACKFILL_SCOPES.find((s) => s === (scope ?? "unlabelled"));
  if (!found) throw new InvalidInputError(`--scope must be ${BACKFILL_SCOPES.join(" or ")}, got ${scope}`);
  return found;
}

/** A job by id: of --project if given, else whichever project's it is (found among recent executions). */
async function findJob(deps: JobDeps, jobId: string, project: string | null): Promise<Job> {
  if (!UUID.test(jobId)) throw new InvalidInputError(`The job id must be a UUID, got ${jobId}`);
  if (project) return getJob(deps, project, jobId);
  const recent = await deps.executions.list({ max: 1000 });
  const match = recent.map((e) => parseJobExecutionName(e.name)).find((p) => p?.jobId === jobId);
  return getJob(deps, match ? match.projectId : null, jobId);
}

async function newestJob(deps: JobDeps, project: string | null): Promise<Job | null> {
  const recent = await deps.executions.list({ max: 100 });
  const newest = recent
    .map((e) => parseJobExecutionName(e.name))
    .find((p) => p && (project === null || p.projectId === project));
  return newest ? getJob(deps, newest.projectId, newest.jobId) : null;
}

// Progress ----------------------------------------------------------------------------------------

interface Sample {
  at: number;
  job: Job | null;
  progress: TargetProgress & { done: number };
  queued: number | null;
  deadLettered: number | null;
}

const number = (n: number) => n.toLocaleString("en-US");

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Labels per second over the samples of the last 30 s. */
function rateOf(samples: readonly Sample[]): number | null {
  const last = samples.at(-1);
  const first = samples.find((s) => last && last.at - s.at <= 30_000);
  if (!last || !first || last.at === first.at) return null;
  return Math.max(0, (last.progress.done - first.progress.done) / ((last.at - first.at) / 1000));
}

function progressLine(sample: Sample, rate: number | null): string {
  const { total, done, pending } = sample.progress;
  const share = total > 0 ? done / total : 1;
  const width = 24;
  const filled = Math.round(share * width);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const optional = (n: number | null) => (n === null ? "n/a" : number(n));
  const eta = rate && rate > 0 ? duration(pending / rate) : pending === 0 ? "0s" : "?";
  const job = sample.job ? `  job ${sample.job.id.slice(0, 8)} ${sample.job.status}` : "";
  return (
    `${bar} ${(share * 100).toFixed(1).padStart(5)}%  labelled ${number(done)}/${number(total)}  pending ${number(pending)}` +
    `  queued ${optional(sample.queued)}  in DLQ ${optional(sample.deadLettered)}` +
    `  rate ${rate === null ? "?" : rate.toFixed(1)}/s  ETA ${eta}${job}`
  );
}

/** What a command looks at: the database, the backfill's executions and queues, maybe one project. */
interface View {
  threads: BackfillRepository;
  connection: Connection | null;
  project: string | null;
}

/** The job's progress, or without a job the project's (or every project's) unlabelled threads. */
async function takeSample({ threads, connection, project }: View, job: Job | null): Promise<Sample> {
  const current =
    job && connection ? await getJob({ executions: connection.executions, threads }, job.projectId, job.id) : null;
  const progress = current
    ? current.progress
    : await threads
        .progress({ projectId: project, scope: "unlabelled", classifiedBefore: new Date().toISOString() })
        .then((p) => ({ ...p, done: p.total - p.pending }));
  let queued: number | null = null;
  let deadLettered: number | null = null;
  if (connection?.queues) {
    const { sqs, queueUrl, dlqUrl } = connection.queues;
    const depth = await queueDepth(sqs, queueUrl);
    queued = depth.visible + depth.inFlight;
    if (dlqUrl) deadLettered = (await queueDepth(sqs, dlqUrl)).visible;
  }
  return { at: Date.now(), job: current, progress, queued, deadLettered };
}

/** Nothing left to wait for: the execution stopped and the queue is empty (or nothing is pending). */
function finished(sample: Sample): boolean {
  if (!sample.job) return sample.progress.pending === 0;
  if (sample.job.status === "enqueueing") return false;
  return sample.job.status === "failed" || sample.progress.pending === 0 || sample.queued === 0;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Samples every `intervalMs`, drawing the bar (redrawn in place on a terminal), until finished. */
async function watch(
  view: View,
  job: Job | null,
  intervalMs: number,
  io: BackfillCommandIo,
): Promise<{ last: Sample; rate: number | null }> {
  const samples: Sample[] = [];
  // A bar with rate and ETA on a terminal; the full progress line otherwise.
  let plain = "";
  const bar = await createProgress(io.progress, { unit: "labelled", plainLine: () => plain });
  try {
    for (;;) {
      const sample = await takeSample(view, samples.at(-1)?.job ?? job);
      samples.push(sample);
      while (samples.length > 2 && sample.at - (samples[1] as Sample).at > 30_000) samples.shift();
      const rate = rateOf(samples);
      plain = progressLine(sample, rate);
      const optional = (n: number | null) => (n === null ? "n/a" : number(n));
      const detail = `queued ${optional(sample.queued)} | DLQ ${optional(sample.deadLettered)}${sample.job ? ` | ${sample.job.status}` : ""}`;
      bar.update(sample.progress.done, sample.progress.total, detail);
      if (finished(sample) || io.signal?.aborted) return { last: sample, rate };
      await sleep(intervalMs, io.signal);
    }
  } finally {
    bar.stop();
  }
}

function jobJson(job: Job | null) {
  if (!job) return null;
  return {
    id: job.id,
    execution: job.execution,
    project_id: job.projectId,
    scope: job.scope,
    status: job.status,
    started_at: job.startedAt.toISOString(),
    stopped_at: job.stoppedAt?.toISOString() ?? null,
    classified_before: job.classifiedBefore.toISOString(),
    enqueued: job.enqueued,
    error: job.error,
  };
}

function summary(where: string, sample: Sample, rate: number | null): Output {
  const { job } = sample;
  const lines = [
    job
      ? `Job ${job.id} (${job.scope}${job.projectId ? `, project ${job.projectId}` : ", every project"}): ${job.status}, on ${where}`
      : `No backfill job; counts from ${where}`,
    progressLine(sample, rate),
  ];
  if (job?.status === "failed") {
    lines.push(
      `Failed: ${job.error ?? "unknown error"}`,
      `Do what is left: npx kapa backfill start --resume ${job.id}`,
    );
  } else if (job && sample.queued === 0 && sample.progress.pending > 0 && job.status !== "enqueueing") {
    lines.push(
      `${number(sample.progress.pending)} thread(s) stay unlabelled: projects without categories, or messages in the DLQ (${sample.deadLettered ?? "n/a"}).`,
    );
  }
  return {
    json: {
      ok: job?.status !== "failed",
      where,
      job: jobJson(job),
      progress: sample.progress,
      queued: sample.queued,
      dead_lettered: sample.deadLettered,
      rate_per_second: rate,
    },
    text: lines.join("\n"),
  };
}

// Commands ----------------------------------------------------------------------------------------

/**
 * `start [--project ID] [--scope unlabelled|classifier] [--resume JOB] [--watch]` and
 * `status [--project ID] [--job JOB] [--watch]`. The progress bar goes to `io.progress`; the
 * returned output is the final summary.
 */
export async function backfillCommand(
  database: LocalDatabase,
  verb: string | undefined,
  args: BackfillCommandArgs,
  io: BackfillCommandIo,
): Promise<Output> {
  const env = io.env ?? loadEnv();
  const project = checkProject(args.project);
  const intervalMs = Math.max(0.2, args.interval ?? 2) * 1000;
  const threads = new BackfillRepository(database.db);
  if (verb === "start") {
    const scope = checkScope(args.scope);
    const connection = connectExisting(env) ?? (await startInProcess(database, env));
    const view = { threads, connection, project };
    try {
      const deps = { executions: connection.executions, threads };
      const job = args.resume
        ? await resumeJob(deps, (await findJob(deps, args.resume, project)).projectId, args.resume)
        : await startJob(deps, { projectId: project, scope });
      io.progress.write(`Started job ${job.id} (execution ${job.execution}) on ${connection.where}\n`);
      if (!connection.inProcess && !args.watch) {
        const sample = await takeSample(view, job);
        const out = summary(connection.where, sample, null);
        return { ...out, text: `${out.text}\nFollow it: npx kapa backfill status --job ${job.id} --watch` };
      }
      const { last, rate } = await watch(view, job, intervalMs, io);
      return summary(connection.where, last, rate);
    } finally {
      await connection.close();
    }
  }
  if (verb === "status") {
    const connection = connectExisting(env);
    const view = { threads, connection, project };
    try {
      const deps = connection ? { executions: connection.executions, threads } : null;
      if (args.job && !deps)
        throw new NotFoundError("No backfill runs here: start npm start, or set BACKFILL_STATE_MACHINE_ARN");
      const job = deps ? await (args.job ? findJob(deps, args.job, project) : newestJob(deps, project)) : null;
      const where =
        connection?.where ?? "the database only (npm start is not running, BACKFILL_STATE_MACHINE_ARN is not set)";
      if (args.watch) {
        const { last, rate } = await watch(view, job, intervalMs, io);
        return summary(where, last, rate);
      }
      // Two samples a moment apart give the current rate.
      const first = await takeSample(view, job);
      await sleep(Math.min(intervalMs, 1000), io.signal);
      const second = await takeSample(view, job);
      return summary(where, second, rateOf([first, second]));
    } finally {
      await connection?.close();
    }
  }
  throw new InvalidInputError(`Unknown command: backfill ${verb ?? ""}: use backfill start or backfill status`);
}
