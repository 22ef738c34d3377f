import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { BackfillRepository, TargetProgress } from "../shared/backfill/repository.js";
import { getJob, type Job } from "../shared/backfill/service.js";
import type { Connection } from "./backfill-connection.js";
import type { Output } from "./context.js";
import { createProgress } from "./progress.js";

/** The progress of a backfill job: samples of its counts and queues, the watcher's bar, the summary. */

export interface Sample {
  at: number;
  job: Job | null;
  progress: TargetProgress & { done: number };
  /** Read after the counts. */
  queued: number | null;
  /** Read before the counts. */
  queuedBefore: number | null;
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
export function rateOf(samples: readonly Sample[]): number | null {
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
export interface View {
  threads: BackfillRepository;
  connection: Connection | null;
  project: string | null;
}

/** Messages waiting and in flight on the backfill queue, and those in its DLQ (null: no queues here). */
async function queueCounts(
  connection: Connection | null,
): Promise<{ queued: number | null; deadLettered: number | null }> {
  if (!connection?.queues) return { queued: null, deadLettered: null };
  const { sqs, queueUrl, dlqUrl } = connection.queues;
  const depth = await queueDepth(sqs, queueUrl);
  const deadLettered = dlqUrl ? (await queueDepth(sqs, dlqUrl)).visible : null;
  return { queued: depth.visible + depth.inFlight, deadLettered };
}

/**
 * The job's progress, or without a job the project's (or every project's) unlabelled threads.
 * The queue is read before the database as well as after: found empty before, it proves every
 * label was written before the counts were read (the classifier writes its labels before its
 * messages are deleted), so an empty queue beside pending threads never means "still labelling".
 */
export async function takeSample({ threads, connection, project }: View, job: Job | null): Promise<Sample> {
  const before = await queueCounts(connection);
  const current =
    job && connection ? await getJob({ executions: connection.executions, threads }, job.projectId, job.id) : null;
  const progress = current
    ? current.progress
    : await threads
        .progress({ projectId: project, scope: "unlabelled", classifiedBefore: new Date().toISOString() })
        .then((p) => ({ ...p, done: p.total - p.pending }));
  const after = await queueCounts(connection);
  return { at: Date.now(), job: current, progress, ...after, queuedBefore: before.queued };
}

/** Messages waiting and in flight, as SQS approximates them (AWS or a local world alike). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * Nothing left to wait for: nothing is pending, the job failed, or the queue was empty after the
 * execution had stopped enqueueing (seen so in the sample before: a queue read before the last
 * send proves nothing).
 */
function finished(sample: Sample, previous: Sample | undefined): boolean {
  if (!sample.job) return sample.progress.pending === 0;
  if (sample.job.status === "enqueueing") return false;
  const enqueuedBeforeQueueRead = previous?.job != null && previous.job.status !== "enqueueing";
  return (
    sample.job.status === "failed" ||
    sample.progress.pending === 0 ||
    (sample.queuedBefore === 0 && enqueuedBeforeQueueRead)
  );
}

/** Samples taken after the job is done while its queue still shows messages. */
const SETTLING_SAMPLES = 5;

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Samples every `intervalMs`, drawing the bar (redrawn in place on a terminal), until finished. */
export async function watch(
  view: View,
  job: Job | null,
  intervalMs: number,
  io: { progress: NodeJS.WritableStream & { isTTY?: boolean }; signal?: AbortSignal },
): Promise<{ last: Sample; rate: number | null }> {
  const samples: Sample[] = [];
  let settling = 0;
  // A bar with rate and ETA on a terminal; the full progress line otherwise.
  let plain = "";
  const bar = await createProgress(io.progress, { unit: "labelled", plainLine: () => plain });
  try {
    for (;;) {
      const previous = samples.at(-1);
      const sample = await takeSample(view, previous?.job ?? job);
      samples.push(sample);
      while (samples.length > 2 && sample.at - (samples[1] as Sample).at > 30_000) samples.shift();
      const rate = rateOf(samples);
      plain = progressLine(sample, rate);
      const optional = (n: number | null) => (n === null ? "n/a" : number(n));
      const detail = `queued ${optional(sample.queued)} | DLQ ${optional(sample.deadLettered)}${sample.job ? ` | ${sample.job.status}` : ""}`;
      bar.update(sample.progress.done, sample.progress.total, detail);
      // Done, but the last batch's deletes may still be on their way: a few more samples for them
      // (the queue is shared with other jobs, so not until it is empty).
      const deletesInFlight =
        sample.progress.pending === 0 && (sample.queued ?? 0) > 0 && settling++ < SETTLING_SAMPLES;
      if ((finished(sample, previous) && !deletesInFlight) || io.signal?.aborted) return { last: sample, rate };
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

export function summary(where: string, sample: Sample, rate: number | null): Output {
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
