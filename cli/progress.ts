/**
 * Progress of long commands (`seed threads`, `backfill start|status --watch`): a cli-progress bar
 * with rate and ETA on a terminal; on anything else (a pipe, a CI log) plain lines, at most one
 * every `plainEveryMs`, that a log reader can follow.
 */
export interface Progress {
  /** `detail`: extra text after the counts (queue depths, the job's status). */
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  unit: string;
  /** The plain line (no terminal); by default `done / total unit`. */
  plainLine?: (done: number, total: number, detail: string) => string;
  plainEveryMs?: number;
  /** The count when the work started now (seeding: 0); otherwise the rate counts from the first update. */
  initial?: number;
}

const number = (n: number) => n.toLocaleString("en-US");

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export async function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  options: ProgressOptions,
): Promise<Progress> {
  if (!stream.isTTY) return plainProgress(stream, options);
  const { SingleBar } = await import("cli-progress");
  const bar = new SingleBar({
    stream,
    format: `{bar} {percentage}% | {done}/{all} ${options.unit} | {rate}/s | ETA {remaining}{detail}`,
    barCompleteChar: "\u2588",
    barIncompleteChar: "\u2591",
    hideCursor: true,
    fps: 5,
  });
  let first = options.initial === undefined ? null : { done: options.initial, at: Date.now() };
  let running = false;
  return {
    update(done, total, detail = "") {
      first ??= { done, at: Date.now() };
      const seconds = (Date.now() - first.at) / 1000;
      const perSecond = seconds > 0 ? (done - first.done) / seconds : 0;
      const payload = {
        done: number(done),
        all: number(total),
        rate: seconds > 0 ? perSecond.toFixed(1) : "?",
        remaining: done >= total ? "0s" : perSecond > 0 ? duration((total - done) / perSecond) : "?",
        detail: detail ? ` | ${detail}` : "",
      };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

function plainProgress(stream: NodeJS.WritableStream, options: ProgressOptions): Progress {
  const line =
    options.plainLine ??
    ((done, total, detail) => `${number(done)} / ${number(total)} ${options.unit}${detail ? `  ${detail}` : ""}`);
  const every = options.plainEveryMs ?? 0;
  let last = 0;
  let pending: string | null = null;
  return {
    update(done, total, detail = "") {
      pending = line(done, total, detail);
      if (Date.now() - last < every && done < total) return;
      stream.write(`${pending}\n`);
      pending = null;
      last = Date.now();
    },
    stop() {
      if (pending) stream.write(`${pending}\n`);
      pending = null;
    },
  };
}
