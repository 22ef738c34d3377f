import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { installFairQueues } from "./sqs-fair-queue.js";

/** The running local SQS emulator. */
export interface LocalSqs {
  endpoint: string;
  /** The emulator's own process (benchmarks read its memory and CPU from /proc). */
  pid: number;
  stop(): Promise<void>;
}

/** argv[2] of the emulator's process: this very file, run as the child (argv[4] "s3": the S3 emulator). */
const SERVE = "--serve-local-sqs";
const STOP_GRACE_MS = 5000;

/**
 * The local SQS: the fauxqs emulator (the SQS API over HTTP, in memory), in a process of its own,
 * as SQS is off the function's CPU in AWS: the emulator's work never competes with the pollers,
 * handlers and senders of the caller's event loop, and the messages it holds are not the caller's
 * memory. Handlers reach it through the standard AWS_ENDPOINT_URL_SQS variable, so their code is
 * the Lambda code. Messages do not survive a restart; the sweeper re-sends unlabelled threads.
 * It listens on loopback only (fauxqs's startFauxqs listens on every interface, so the child
 * builds its app and listens itself). Its standard queues deliver as SQS fair queues do
 * (local/sqs-fair-queue.ts). The emulator ends with stop(), or when this process ends (its stdin closes).
 */
export function startLocalSqs(port: number): Promise<LocalSqs> {
  return startEmulator(port, "sqs");
}

/**
 * The local S3 of `npm start`: fauxqs again, in a process of its own beside the SQS one, as S3 and
 * SQS are separate services in AWS. fauxqs hashes and concatenates an upload's parts on its event
 * loop (an MD5 per 8 MiB part, the whole object at CompleteMultipartUpload): in the SQS emulator's
 * process, a large export's upload held every queue's sends and receives meanwhile, another
 * project's export included (docs/exports.md, "Fairness between projects").
 */
export function startLocalS3(port: number): Promise<LocalSqs> {
  return startEmulator(port, "s3");
}

async function startEmulator(port: number, service: "sqs" | "s3"): Promise<LocalSqs> {
  const child = await startTsProcess(fileURLToPath(import.meta.url), [SERVE, String(port), service]);
  const { endpoint, error } = child.started as { endpoint?: string; error?: string };
  if (!endpoint) {
    await child.stop();
    const name = service.toUpperCase();
    throw new Error(`The local ${name} emulator did not start on port ${port}: ${error ?? "it exited"}`);
  }
  return { endpoint, pid: child.pid, stop: child.stop };
}

/** A TypeScript module run by Node in a process of its own, that reports on stdout and ends with its stdin. */
export interface TsProcess {
  pid: number;
  /** Its first stdout line, parsed as JSON ({} if it ended before writing one). */
  started: Record<string, unknown>;
  /** The stdout lines after the first. */
  lines: AsyncIterator<string>;
  /** Closes its stdin and waits for it to end (killed after a grace period). */
  stop(): Promise<void>;
}

/**
 * Runs `file` (TypeScript, through tsx) in a new Node process and waits for its first line on
 * stdout. It is killed when this process exits; `stop()` ends it politely.
 */
export async function startTsProcess(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TsProcess> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, file, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    // A process group of its own: a Ctrl-C on the terminal reaches only this process, which
    // stops the child after what uses it (the child would otherwise die first, mid-request).
    detached: true,
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await Promise.race([lines.next().then((r) => (r.done ? null : String(r.value))), exited]);
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  return {
    pid: child.pid as number,
    started: typeof first === "string" ? (JSON.parse(first) as Record<string, unknown>) : {},
    lines,
    async stop() {
      process.off("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(kill, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The emulator's process: prints `{"endpoint"}` (or `{"error"}`) once, stops when stdin ends. */
async function serveLocalSqs(port: number, service: string): Promise<void> {
  const { buildApp } = await import("fauxqs");
  const app = buildApp({ logger: false });
  try {
    if (service === "sqs") await installFairQueues(app);
    await app.listen({ port, host: "127.0.0.1" });
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exit(1);
  }
  const address = app.server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${actualPort}` })}\n`);
  const stop = () => void app.close().finally(() => process.exit(0));
  process.stdin.on("end", stop).on("error", stop).resume();
  // Ctrl-C (and a SIGTERM sent to the process group) reaches this process too: the parent decides
  // when the queue goes away, after its pollers have stopped. It ends with the parent at the latest.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
}

if (process.argv[2] === SERVE) await serveLocalSqs(Number(process.argv[3]), process.argv[4] ?? "sqs");

/** Points the AWS SDK of this process at the local emulators (dummy credentials, fixed region). */
export function useLocalAws(endpoints: { sqs?: string }): void {
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  if (endpoints.sqs) process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
}

export interface QueueWithDlq {
  queueUrl: string;
  dlqUrl: string;
}

/** A queue and its dead-letter queue, as the CDK stack defines them (redrive after maxReceiveCount). */
export async function createQueueWithDlq(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<QueueWithDlq> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl as string;
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: options.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl as string, dlqUrl };
}
