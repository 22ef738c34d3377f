import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { logger } from "../shared/platform/logger.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { type LocalResources, lambdaArn, resolveEnvironment } from "./environment.js";
import { type EventSource, startEventSource } from "./event-source.js";
import type { GatewayOptions } from "./gateway.js";
import type { FunctionBundles } from "./lambda-bundle.js";
import { type LambdaPool, type LocalFunctionConfig, startLambdaPool } from "./lambda-pool.js";
import { every, startLocalSchedule } from "./scheduler.js";
import { LOCAL_ACCOUNT, LOCAL_REGION, resolveStateMachine } from "./state-machine.js";
import {
  type LocalMachine,
  type LocalStepFunctions,
  type LocalTask,
  startLocalStepFunctions,
} from "./step-functions.js";
import type { SynthesizedStack } from "./template.js";
import type { Topology, TopologyEventSource, TopologyFunction, TopologyQueue, TopologySchedule } from "./topology.js";
import { localWaf } from "./waf.js";

/**
 * The local world: every queue, function, event source mapping, schedule and state machine of
 * the synthesized template (local/topology.ts), created on the local emulators with the
 * template's settings. `startLocalWorld` creates the resources; `start()` then lets things run
 * (pollers, schedules), so that nothing runs before the whole runtime exists.
 */
export interface LocalWorldOptions {
  stack: SynthesizedStack;
  topology: Topology;
  /** The functions' code (local/lambda-bundle.ts bundleFunctions). */
  code: FunctionBundles;
  database: { url: string; embedded: boolean };
  /** The local S3 (npm start: a fauxqs process of its own, local/sqs.ts startLocalS3). */
  endpoints: { sqs: string; ses: string; s3: string };
  /** Port of the local Step Functions (0: any free one). */
  sfnPort: number;
  /** Prepended to each queue's name (its logical id): worlds sharing one SQS emulator (tests). */
  queuePrefix?: string;
  /** The local settings the functions may take (delays, fault injection): process.env by default. */
  localEnv?: NodeJS.ProcessEnv;
  /** Declared deviations from the template, for tests that cannot wait for AWS's timings. */
  deviations?: LocalDeviations;
  /** Per state, milliseconds before a Step Functions retry instead of the definition's backoff (tests). */
  retryIntervalOverrides?: Record<string, number>;
  /**
   * Fault hook (tests): every invocation of a function, from an event source, a schedule, a state
   * machine's task or the API, goes through this; it may fail it, delay it or pass it on.
   */
  wrapInvoke?: WrapInvoke;
  /**
   * Which of the template's enabled event source mappings and schedules run: tests that drive a
   * function themselves (a schedule they invoke, a queue they read). @default all of them
   */
  running?: {
    eventSources?: (mapping: TopologyEventSource) => boolean;
    schedules?: (schedule: TopologySchedule) => boolean;
  };
}

/** One invocation of `functionId` with `event`, and how to run it as it would run without the hook. */
export type WrapInvoke = (
  functionId: string,
  event: unknown,
  invoke: (event: unknown) => Promise<unknown>,
) => Promise<unknown>;

export interface LocalDeviations {
  /** Every queue's visibility timeout (AWS: the template's, 6 x the consumer's timeout). */
  visibilityTimeoutSeconds?: number;
  /** Every rate() schedule's period (AWS: at least a minute). */
  rateSeconds?: number;
}

export interface RunningSchedule {
  schedule: TopologySchedule;
  expression: string;
  stop(): Promise<void>;
}

export interface LocalWorld {
  queues: ReadonlyMap<string, { url: string; arn: string }>;
  /** Bucket logical id -> its name on the local S3. */
  buckets: ReadonlyMap<string, string>;
  s3Endpoint: string;
  /** Logical id -> what its environments run with. */
  functions: Readonly<Record<string, LocalFunctionConfig>>;
  stateMachines: ReadonlyMap<string, string>;
  stepFunctions: LocalStepFunctions;
  pool: LambdaPool;
  /** Invokes a function as the world's event sources, schedules, tasks and API do (through wrapInvoke). */
  invoke: LambdaPool["invoke"];
  eventSources: ReadonlyMap<string, EventSource>;
  /** Each schedule as it runs: the template's, and the expression it fires on (a deviation may shorten a rate). */
  schedules: ReadonlyMap<string, RunningSchedule>;
  /** Lines of the start banner saying where the world departs from the template. */
  deviations: string[];
  /** Starts the event source mappings' pollers and the schedules. */
  start(): void;
  stop(): Promise<void>;
}

const queueArn = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
const machineArn = (id: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${id}`;

/** Dead-letter queues first: a queue's redrive policy names its DLQ's ARN. */
async function createQueues(
  sqs: SQSClient,
  queues: Record<string, TopologyQueue>,
  deviations: LocalDeviations,
  prefix: string,
): Promise<Map<string, { url: string; arn: string }>> {
  const created = new Map<string, { url: string; arn: string }>();
  const ordered = Object.values(queues).sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)));
  for (const queue of ordered) {
    const dlq = queue.redrive ? created.get(queue.redrive.deadLetterQueue) : undefined;
    if (queue.redrive && !dlq) throw new Error(`${queue.logicalId}: its dead-letter queue is itself redriven`);
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(deviations.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds),
      DelaySeconds: String(queue.delaySeconds),
      MessageRetentionPeriod: String(queue.retentionSeconds),
    };
    if (queue.redrive && dlq) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: queue.redrive.maxReceiveCount,
      });
    }
    const out = await sqs.send(new CreateQueueCommand({ QueueName: prefix + queue.logicalId, Attributes: attributes }));
    const url = out.QueueUrl as string;
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    created.set(queue.logicalId, { url, arn: read.Attributes?.QueueArn ?? queueArn(prefix + queue.logicalId) });
  }
  return created;
}

/** A bucket's local name: its logical id (prefixed), as S3 allows (lower case, at most 63 characters). */
export const localBucketName = (prefix: string, logicalId: string) =>
  `${prefix}${logicalId}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, "-")
    .slice(0, 63);

/** Every bucket of the template on the local S3 (path-style, AWS_ENDPOINT_URL_S3). */
async function createBuckets(endpoint: string, ids: readonly string[], prefix: string): Promise<Map<string, string>> {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const created = new Map<string, string>();
  try {
    for (const id of ids) {
      const name = localBucketName(prefix, id);
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        // Created by an earlier start on the same emulator: it is the same bucket.
        if (!(error instanceof Error && /BucketAlready(OwnedByYou|Exists)/.test(error.name))) throw error;
      }
      created.set(id, name);
    }
  } finally {
    client.destroy();
  }
  return created;
}

/**
 * Scheduler invokes its Lambda target asynchronously: a function error is retried by Lambda
 * (`asyncRetryAttempts`, one then two minutes apart, within `asyncMaxEventAgeSeconds`); the
 * schedule's own retry policy covers a failed delivery (a throttled Invoke), which cannot happen
 * locally: it is carried (`schedule.retry`) but never needed.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
function scheduleRunner(invoke: Invoke, schedule: TopologySchedule, fn: TopologyFunction | undefined) {
  const retries = fn?.asyncRetryAttempts ?? 2;
  const maxAgeMs = (fn?.asyncMaxEventAgeSeconds ?? 21_600) * 1000;
  return (scheduledTime: Date) => {
    const event = schedule.input
      ? JSON.parse(schedule.input.replaceAll("<aws.scheduler.scheduled-time>", scheduledTime.toISOString()))
      : {};
    const attempt = async (n: number): Promise<void> => {
      try {
        await invoke(schedule.functionId, event);
      } catch (error) {
        logger.error(`scheduled invocation of ${schedule.functionId} failed`, { error, attempt: n + 1 });
        const delay = 60_000 * (n + 1);
        if (n >= retries || Date.now() + delay - scheduledTime.getTime() > maxAgeMs) return;
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        await attempt(n + 1);
      }
    };
    // Asynchronous: the schedule does not wait for the function.
    void attempt(0);
    return Promise.resolve();
  };
}

type Invoke = LambdaPool["invoke"];

function startMapping(
  mapping: TopologyEventSource,
  queues: ReadonlyMap<string, { url: string; arn: string }>,
  invoke: Invoke,
  endpoint: string,
): EventSource {
  const queue = queues.get(mapping.queueId);
  if (!queue) throw new Error(`${mapping.logicalId}: no queue ${mapping.queueId}`);
  return startEventSource(
    {
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: mapping.batchSize,
      batchingWindowSeconds: mapping.batchingWindowSeconds,
      // Uncapped, Lambda starts with five concurrent batches and scales up with the backlog.
      maxConcurrency: mapping.maxConcurrency ?? 5,
      reportBatchItemFailures: mapping.reportBatchItemFailures,
      handler: (event) => invoke(mapping.functionId, event) as never,
    },
    endpoint,
  );
}

function startSchedule(
  schedule: TopologySchedule,
  topology: Topology,
  invoke: Invoke,
  deviations: LocalDeviations,
): RunningSchedule {
  const run = scheduleRunner(invoke, schedule, topology.functions[schedule.functionId]);
  const rate = deviations.rateSeconds && schedule.expression.startsWith("rate(") ? deviations.rateSeconds : null;
  const running = rate
    ? every(schedule.logicalId, rate * 1000, () => run(new Date()))
    : startLocalSchedule({
        name: schedule.logicalId,
        expression: schedule.expression,
        timeZone: schedule.timeZone,
        run,
      });
  return { schedule, expression: rate ? `every ${rate} s` : schedule.expression, stop: () => running.stop() };
}

function deviationLines(deviations: LocalDeviations): string[] {
  const lines: string[] = [];
  if (deviations.visibilityTimeoutSeconds !== undefined) {
    lines.push(
      `every queue's visibility timeout is ${deviations.visibilityTimeoutSeconds} s (LOCAL_VISIBILITY_TIMEOUT_SECONDS)`,
    );
  }
  if (deviations.rateSeconds !== undefined) {
    lines.push(`rate() schedules run every ${deviations.rateSeconds} s (LOCAL_RATE_SECONDS)`);
  }
  return lines;
}

/** The template's state machines, each task invoking its function; a task fails as its function's invocation times out (a fault hook's hang included). */
function machinesOf(stack: SynthesizedStack, topology: Topology, invoke: Invoke): LocalMachine[] {
  const ids = new Map(Object.keys(topology.functions).map((id) => [id, id]));
  return topology.stateMachines.map((id) => {
    const machine = resolveStateMachine(stack.template, id, ids);
    const tasks: Record<string, LocalTask> = {};
    const timeoutsMs: Record<string, number> = {};
    for (const [state, fnId] of Object.entries(machine.tasks)) {
      tasks[state] = (input) => invoke(fnId, input) as Promise<typeof input>;
      timeoutsMs[state] = (topology.functions[fnId]?.timeoutSeconds ?? 3) * 1000;
    }
    return { name: id, definition: machine.definition, tasks, timeoutsMs };
  });
}

export async function startLocalWorld(options: LocalWorldOptions): Promise<LocalWorld> {
  const { stack, topology } = options;
  const deviations = options.deviations ?? {};
  // The world's own emulator, whatever this process's AWS_ENDPOINT_URL_SQS says (the CLI's, a test's).
  const sqs = createSqsClient({ endpoint: options.endpoints.sqs });
  const queues = await createQueues(sqs, topology.queues, deviations, options.queuePrefix ?? "");
  const buckets = await createBuckets(options.endpoints.s3, topology.buckets, options.queuePrefix ?? "");
  const stateMachines = new Map(topology.stateMachines.map((id) => [id, machineArn(id)]));
  // The Step Functions endpoint is needed by the functions' environments: start it first, its tasks
  // reach the pool through this late-bound reference.
  let pool: LambdaPool | undefined;
  const wrap = options.wrapInvoke;
  const invoke: Invoke = (name, event) => {
    const direct = (e: unknown) => (pool as LambdaPool).invoke(name, e);
    return wrap ? wrap(name, event, direct) : direct(event);
  };
  const machines = machinesOf(stack, topology, invoke);
  const stepFunctions = await startLocalStepFunctions({
    port: options.sfnPort,
    machines,
    retryIntervalOverrides: options.retryIntervalOverrides,
  });
  const resources: LocalResources = {
    queues,
    stateMachines,
    buckets,
    database: options.database,
    endpoints: { ...options.endpoints, sfn: stepFunctions.endpoint },
  };
  const functions: Record<string, LocalFunctionConfig> = {};
  for (const fn of Object.values(topology.functions)) {
    const env = resolveEnvironment(stack.template, fn, resources, options.localEnv ?? process.env);
    functions[fn.logicalId] = {
      entry: fn.entry,
      environment: env.variables,
      timeoutSeconds: fn.timeoutSeconds,
      memorySize: fn.memorySize,
    };
  }
  pool = startLambdaPool(functions, options.code);

  const eventSources = new Map<string, EventSource>();
  const schedules = new Map<string, RunningSchedule>();
  function start(): void {
    const runs = { eventSources: () => true, schedules: () => true, ...options.running };
    for (const mapping of topology.eventSources.filter((m) => m.enabled && runs.eventSources(m))) {
      eventSources.set(mapping.logicalId, startMapping(mapping, queues, invoke, options.endpoints.sqs));
    }
    for (const schedule of topology.schedules.filter((s) => s.enabled && runs.schedules(s))) {
      schedules.set(schedule.logicalId, startSchedule(schedule, topology, invoke, deviations));
    }
  }
  return {
    queues,
    buckets,
    s3Endpoint: options.endpoints.s3,
    functions,
    stateMachines,
    stepFunctions,
    pool,
    invoke,
    eventSources,
    schedules,
    deviations: deviationLines(deviations),
    start,
    async stop() {
      await Promise.all([...schedules.values()].map((s) => s.stop()));
      await Promise.all([...eventSources.values()].map((s) => s.stop()));
      await stepFunctions.stop();
      await (pool as LambdaPool).stop();
      sqs.destroy();
    },
  };
}

export { lambdaArn };

/** The local API Gateway of the template: its WAF rules, methods, authorizers, stage throttling and usage plan. */
export function gatewayOptions(
  topology: Topology,
  world: Pick<LocalWorld, "invoke">,
): Omit<GatewayOptions, "port" | "host"> {
  const { api } = topology;
  return {
    authorizerCacheTtlSeconds: 0,
    throttling: api.throttling,
    perKey: api.usagePlan ?? undefined,
    waf: api.firewall ? localWaf(api.firewall.properties) : null,
    routes: api.routes.map((r) => {
      const authorizer = r.authorizerId ? api.authorizers[r.authorizerId] : undefined;
      return {
        method: r.method,
        path: r.path,
        target: r.functionId,
        operationId: r.operationName ?? r.functionId,
        authorizer: authorizer
          ? { target: authorizer.functionId, header: authorizer.header, ttlSeconds: authorizer.ttlSeconds }
          : null,
        apiKeyRequired: r.apiKeyRequired,
      };
    }),
    invoke: (fn, event) => world.invoke(fn, event),
  };
}
