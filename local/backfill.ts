import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Env } from "../shared/platform/config.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { isAlive } from "./embedded-db.js";
import { type EventSource, startEventSource } from "./event-source.js";
import { type ConsumerSettings, consumerSettingsOf, HARNESS_CACHE_DIR, mappingOf } from "./harness.js";
import { type LambdaPool, startLambdaPool } from "./lambda-pool.js";
import { createQueueWithDlq, type QueueWithDlq } from "./sqs.js";
import { backfillMachineId, type LocalMachineDefinition, resolveStateMachine } from "./state-machine.js";
import { type LocalStepFunctions, type LocalTask, startLocalStepFunctions } from "./step-functions.js";
import { loadStack, type SynthesizedStack } from "./template.js";
import { topologyOf } from "./topology.js";

/**
 * The backfill of the CDK stack on this machine: the backfill queue and its DLQ on the local SQS,
 * the classifier handler draining it through its own event source (BACKFILL_MAX_CONCURRENCY x
 * CLASSIFIER_BATCH_SIZE in flight, next to the live queue's), and the backfill state machine,
 * as CDK synthesizes it, on the local Step Functions (SFN_PORT), its Plan and EnqueueRange tasks
 * running functions/backfill-*.ts in local Lambda environments (worker threads of this process).
 *
 * It sets what the handlers read, as CDK does in AWS: BACKFILL_QUEUE_URL, BACKFILL_DLQ_URL,
 * BACKFILL_STATE_MACHINE_ARN, and AWS_ENDPOINT_URL_SFN. Call it after `useLocalAws({ sqs })` and
 * before the handlers' runtime is first used.
 */
export interface LocalBackfillOptions {
  env: Env;
  /** How long a received message stays invisible (a test's deviation). @default the template's (6x the classifier's timeout) */
  visibilityTimeoutSeconds?: number;
  /** Cache the synthesized definition here (DATA_DIR/cache), and with `advertise`, record the endpoints for `npx kapa`. */
  dataDir?: string;
  advertise?: boolean;
  /** @default env.SFN_PORT */
  sfnPort?: number;
  /** The backfill event source's cap (0: no consumer, as the enqueue benchmark wants). @default the template's backfill mapping's */
  maxConcurrency?: number;
  queueName?: string;
  /** Where the synthesized definition is cached. @default DATA_DIR/cache when dataDir is given, else nowhere */
  cacheDir?: string;
  /** CDK context overrides for the synthesized definition (tests: small pages). */
  context?: Record<string, unknown>;
  /** Milliseconds before each retry instead of the definition's backoff, per state (tests). */
  retryIntervalOverrides?: Record<string, number>;
  /**
   * Each task's function timeout (ms), per state. @default the functions' timeouts in the template
   */
  taskTimeoutsMs?: Record<string, number>;
  /** Wraps each task's function (tests inject faults here). */
  wrapTask?: (state: string, task: LocalTask) => LocalTask;
  /**
   * Where the Lambda tasks run: worker threads, each an execution environment of its own with
   * its own connections, as in Lambda, using every core (the default); or this thread.
   */
  tasksIn?: "workers" | "this-thread";
}

export interface LocalBackfill extends QueueWithDlq {
  stateMachineArn: string;
  sfnEndpoint: string;
  machine: BackfillMachine;
  stepFunctions: LocalStepFunctions;
  eventSource: EventSource;
  /** Lines for the start banner. */
  banner(): string[];
  stop(): Promise<void>;
}

/** What `npm start` records in DATA_DIR/local-backfill.json for `npx kapa backfill`. */
export interface AdvertisedBackfill {
  pid: number;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  sfnEndpoint: string;
  stateMachineArn: string;
}

const stateFile = (dataDir: string) => join(dataDir, "local-backfill.json");

type Handler<E, R> = (event: E) => Promise<R>;

const entriesOf = (stack: SynthesizedStack) =>
  new Map(Object.entries(stack.functions).map(([id, code]) => [id, code.entry]));

/**
 * The task functions in worker threads with the template's timeouts. Their environment is this
 * process's (this harness sets the variables the handlers read; `npm start` gives each function
 * exactly its template environment instead: local/world.ts).
 */
function startTaskPool(stack: SynthesizedStack, tasks: Record<string, string>): LambdaPool {
  const { functions } = topologyOf(stack);
  const environment = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const configs = Object.fromEntries(
    Object.values(functions)
      .filter((fn) => Object.values(tasks).includes(fn.entry))
      .map((fn) => [
        fn.entry,
        { entry: fn.entry, environment, timeoutSeconds: fn.timeoutSeconds, memorySize: fn.memorySize },
      ]),
  );
  return startLambdaPool(configs);
}

async function inThisThread(entry: string): Promise<LocalTask> {
  const module = (await import(`../functions/${entry}.ts`)) as { handler: LocalTask };
  return (input) => module.handler(input);
}

type BackfillMachine = LocalMachineDefinition & { cached: boolean };

/** The backfill queue and its DLQ as the template configures them, their URLs in the handlers' environment. */
async function createBackfillQueues(
  sqs: SQSClient,
  settings: ConsumerSettings,
  options: LocalBackfillOptions,
): Promise<QueueWithDlq> {
  const queues = await createQueueWithDlq(sqs, options.queueName ?? "kapa-backfill", {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? settings.visibilityTimeoutSeconds,
    maxReceiveCount: settings.maxReceiveCount,
  });
  process.env.BACKFILL_QUEUE_URL = queues.queueUrl;
  process.env.BACKFILL_DLQ_URL = queues.dlqUrl;
  return queues;
}

/** The state machine's task functions, per state: in worker threads (the returned pool) or in this thread. */
async function backfillTasks(
  stack: SynthesizedStack,
  machine: BackfillMachine,
  options: LocalBackfillOptions,
): Promise<{ pool: LambdaPool | null; tasks: Record<string, LocalTask> }> {
  const pool = options.tasksIn === "this-thread" ? null : startTaskPool(stack, machine.tasks);
  const tasks: Record<string, LocalTask> = {};
  for (const [state, entry] of Object.entries(machine.tasks)) {
    const task: LocalTask = pool
      ? (input) => pool.invoke(entry, input) as Promise<typeof input>
      : await inThisThread(entry);
    tasks[state] = options.wrapTask ? options.wrapTask(state, task) : task;
  }
  return { pool, tasks };
}

/** The backfill state machine on the local Step Functions, its ARN and endpoint in the handlers' environment. */
async function startBackfillMachine(
  options: LocalBackfillOptions,
  machine: BackfillMachine,
  tasks: Record<string, LocalTask>,
): Promise<{ stepFunctions: LocalStepFunctions; stateMachineArn: string }> {
  const stepFunctions = await startLocalStepFunctions({
    port: options.sfnPort ?? options.env.SFN_PORT,
    machines: [
      {
        name: machine.name,
        definition: machine.definition,
        tasks,
        timeoutsMs:
          options.taskTimeoutsMs ??
          Object.fromEntries(Object.entries(machine.functionTimeouts ?? {}).map(([state, s]) => [state, s * 1000])),
      },
    ],
    retryIntervalOverrides: options.retryIntervalOverrides,
  });
  const stateMachineArn = stepFunctions.arnOf(machine.name);
  process.env.BACKFILL_STATE_MACHINE_ARN = stateMachineArn;
  process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  return { stepFunctions, stateMachineArn };
}

export async function startLocalBackfill(options: LocalBackfillOptions): Promise<LocalBackfill> {
  const sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS;
  if (!sqsEndpoint) throw new Error("startLocalBackfill: call useLocalAws({ sqs }) first");
  const stack = await loadStack({
    context: options.context,
    cacheDir: options.cacheDir ?? (options.dataDir ? join(options.dataDir, "cache") : HARNESS_CACHE_DIR),
  });
  const sqs = createSqsClient();
  const settings = consumerSettingsOf(stack, "backfill");
  const queues = await createBackfillQueues(sqs, settings, options);

  const machine: BackfillMachine = {
    ...resolveStateMachine(stack.template, backfillMachineId(stack.template), entriesOf(stack)),
    cached: stack.cached,
  };
  const { pool, tasks } = await backfillTasks(stack, machine, options);
  const { stepFunctions, stateMachineArn } = await startBackfillMachine(options, machine, tasks);

  // The same classifier function as the live queue's, behind a second event source with its own cap.
  const classifier = (await import("../functions/classifier.js")) as { handler: Handler<SQSEvent, SQSBatchResponse> };
  const maxConcurrency = options.maxConcurrency ?? settings.maxConcurrency;
  const eventSource = startEventSource({
    queueUrl: queues.queueUrl,
    ...mappingOf(settings),
    maxConcurrency,
    handler: classifier.handler,
  });

  const unadvertise =
    options.advertise && options.dataDir
      ? advertiseLocalBackfill(options.dataDir, {
          sqsEndpoint,
          queueUrl: queues.queueUrl,
          dlqUrl: queues.dlqUrl,
          sfnEndpoint: stepFunctions.endpoint,
          stateMachineArn,
        })
      : () => {};

  return {
    ...queues,
    stateMachineArn,
    sfnEndpoint: stepFunctions.endpoint,
    machine,
    stepFunctions,
    eventSource,
    banner: () => [
      `  backfill:    state machine ${machine.name} (as synthesized${machine.cached ? ", cached" : ""}) on ${stepFunctions.endpoint}; ` +
        `classifier on the backfill queue: batch ${settings.batchSize}, max concurrency ${maxConcurrency}; ` +
        "start one: npx kapa backfill start",
    ],
    async stop() {
      unadvertise();
      await stepFunctions.stop();
      await pool?.stop();
      await eventSource.stop();
      sqs.destroy();
    },
  };
}

/** Records where this process's backfill is, for `npx kapa backfill`; returns the undo. */
export function advertiseLocalBackfill(dataDir: string, state: Omit<AdvertisedBackfill, "pid">): () => void {
  writeFileSync(stateFile(dataDir), JSON.stringify({ ...state, pid: process.pid }));
  return () => rmSync(stateFile(dataDir), { force: true });
}

/** The backfill a running `npm start` advertises in DATA_DIR, if any. */
export function findRunningLocalBackfill(dataDir: string): AdvertisedBackfill | null {
  try {
    const state = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as AdvertisedBackfill;
    return isAlive(state.pid) ? state : null;
  } catch {
    return null;
  }
}
