import type { LocalDatabase } from "../local/operator.js";
import { BACKFILL_SCOPES, type BackfillScope } from "../shared/backfill/model.js";
import { BackfillRepository } from "../shared/backfill/repository.js";
import {
  getJob,
  type Job,
  type JobDeps,
  parseJobExecutionName,
  resumeJob,
  startJob,
} from "../shared/backfill/service.js";
import { type Env, loadEnv } from "../shared/platform/config.js";
import { InvalidInputError, NotFoundError } from "../shared/platform/errors.js";
import { connectExisting, startInProcess } from "./backfill-connection.js";
import { rateOf, sleep, summary, takeSample, watch } from "./backfill-watch.js";
import type { Output } from "./context.js";

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
