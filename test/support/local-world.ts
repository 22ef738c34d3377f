import { bundleFunctions } from "../../local/lambda-bundle.js";
import { type LocalSes, startLocalSes } from "../../local/ses.js";
import { loadStack, SHARED_CACHE_DIR, type SynthesizedStack } from "../../local/template.js";
import { referencedId, type Topology, type TopologyEventSource, topologyOf } from "../../local/topology.js";
import { type LocalDeviations, type LocalWorld, startLocalWorld, type WrapInvoke } from "../../local/world.js";

/**
 * The world `npm start` runs (local/world.ts, built from the synthesized template), started by a
 * test file (test/support/world.ts) or a benchmark on a given SQS emulator and database, its
 * queues and buckets prefixed with a label so that worlds on one emulator do not share them. Its
 * functions run in their own environments (worker threads) with the template's variables; a
 * caller reaches them through the world's queues, its API and its fault hook (`wrapInvoke`).
 */
export const TEST_LOCAL_ENV = { LLM_DELAY_MS: "0", CLASSIFIER_DELAY_MS: "0", LOG_LEVEL: "silent" };

export interface TestWorldOptions {
  /** Names the world's queues and buckets. */
  label: string;
  /** CDK context overrides (another synthesis, cached: test/support/backfill.ts SMALL_PAGES). */
  context?: Record<string, unknown>;
  deviations?: LocalDeviations;
  /** Local settings of the functions (delays, fault injection) on top of TEST_LOCAL_ENV. */
  localEnv?: Record<string, string>;
  retryIntervalOverrides?: Record<string, number>;
  wrapInvoke?: WrapInvoke;
  /**
   * The functions (entries under functions/) whose event source mappings run; a mapping is
   * named `entry` or `entry:<stack output of its queue>`. @default every mapping
   */
  consumers?: readonly string[];
  /** The functions whose schedules run. @default none: a test invokes a scheduled function itself */
  scheduled?: readonly string[];
  /** Create everything but start no poller nor schedule until `world.start()` (a backlog queued first). */
  paused?: boolean;
  /** Declared changes of the template's values for this file (a shorter function timeout). */
  adjust?: (topology: Topology) => void;
}

export interface TestWorld {
  world: LocalWorld;
  stack: SynthesizedStack;
  topology: Topology;
  ses: LocalSes;
  /** The local URL of the queue a stack output names (ClassificationQueueUrl, ...). */
  queueUrl(output: string): string;
  /** The queue a function consumes (the first of its mappings) and its dead-letter queue. */
  consumed(entry: string): { queueUrl: string; dlqUrl: string };
  /** The logical id of the function built from functions/<entry>.ts. */
  functionId(entry: string): string;
  /**
   * Gives this process the variables functions/<entry>.ts has in the world (its queue URLs, state
   * machine ARNs, endpoints), so that code run here reaches the world as that function would.
   */
  actAs(entry: string): void;
  /** Invokes functions/<entry>.ts in its environment, as the world does (through wrapInvoke). */
  invoke(entry: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

function outputQueueId(stack: SynthesizedStack, output: string): string {
  const id = referencedId(stack.template.Outputs?.[output]?.Value);
  if (!id) throw new Error(`The template has no output ${output} naming a resource`);
  return id;
}

/** Whether `mapping` is one of `names` (entry, or entry:output). */
function selected(stack: SynthesizedStack, topology: Topology, names: readonly string[]) {
  return (mapping: TopologyEventSource) => {
    const entry = topology.functions[mapping.functionId]?.entry;
    return names.some((name) => {
      const [fn, output] = name.split(":");
      return fn === entry && (!output || outputQueueId(stack, output) === mapping.queueId);
    });
  };
}

/** Where a world runs: the SQS emulator (and S3, unless s3Endpoint names another) and the database. */
export interface WorldPlace {
  sqsEndpoint: string;
  s3Endpoint?: string;
  database: { url: string; embedded?: boolean };
}

export async function startWorldOn(place: WorldPlace, options: TestWorldOptions): Promise<TestWorld> {
  const [stack, code] = await Promise.all([
    loadStack({ cacheDir: SHARED_CACHE_DIR, context: options.context }),
    bundleFunctions({ cacheDir: SHARED_CACHE_DIR }),
  ]);
  const topology = topologyOf(stack);
  options.adjust?.(topology);
  const { sqsEndpoint, database, s3Endpoint = sqsEndpoint } = place;
  const ses = await startLocalSes(0);
  const scheduled = options.scheduled ?? [];
  const world = await startLocalWorld({
    stack,
    topology,
    code,
    database: { url: database.url, embedded: Boolean(database.embedded) },
    endpoints: { sqs: sqsEndpoint, ses: ses.endpoint, s3: s3Endpoint },
    sfnPort: 0,
    queuePrefix: `${options.label}-${process.pid}-${crypto.randomUUID().slice(0, 4)}-`,
    localEnv: { ...TEST_LOCAL_ENV, ...options.localEnv },
    deviations: options.deviations,
    retryIntervalOverrides: options.retryIntervalOverrides,
    wrapInvoke: options.wrapInvoke,
    running: {
      eventSources: options.consumers ? selected(stack, topology, options.consumers) : () => true,
      schedules: (s) => scheduled.includes(topology.functions[s.functionId]?.entry ?? ""),
    },
  });
  if (!options.paused) world.start();
  const urlOf = (id: string) => {
    const queue = world.queues.get(id);
    if (!queue) throw new Error(`The world has no queue ${id}`);
    return queue.url;
  };
  const functionId = (entry: string) => {
    const fn = Object.values(topology.functions).find((f) => f.entry === entry);
    if (!fn) throw new Error(`The template has no function functions/${entry}.ts`);
    return fn.logicalId;
  };
  return {
    world,
    stack,
    topology,
    ses,
    queueUrl: (output) => urlOf(outputQueueId(stack, output)),
    consumed(entry) {
      const id = functionId(entry);
      const mapping = topology.eventSources.find((m) => m.functionId === id);
      const dlq = mapping ? topology.queues[mapping.queueId]?.redrive?.deadLetterQueue : undefined;
      if (!mapping || !dlq) throw new Error(`functions/${entry}.ts consumes no queue with a dead-letter queue`);
      return { queueUrl: urlOf(mapping.queueId), dlqUrl: urlOf(dlq) };
    },
    functionId,
    actAs(entry) {
      const variables = Object.entries(world.functions[functionId(entry)]?.environment ?? {});
      // Not the function's identity: this process is not a Lambda environment.
      for (const [name, value] of variables) if (!name.startsWith("AWS_LAMBDA_")) process.env[name] = value;
    },
    invoke: (entry, event) => world.invoke(functionId(entry), event),
    async stop() {
      await world.stop();
      await ses.stop();
    },
  };
}
