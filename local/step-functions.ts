import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StateMachine } from "aws-local-stepfunctions";
import { type ExecutionStatus, executionArn } from "../shared/backfill/executions.js";
import { LambdaTimeoutError } from "../shared/platform/lambda.js";
import { logger } from "../shared/platform/logger.js";
import { type Asl, LOCAL_ACCOUNT, LOCAL_REGION } from "./state-machine.js";

/**
 * The local Step Functions: state machines run by aws-local-stepfunctions (an ASL interpreter)
 * behind the Step Functions API (StartExecution, DescribeExecution, ListExecutions,
 * StopExecution; AWS JSON 1.0 over HTTP), so that the code that starts and reads executions is
 * the code that runs in AWS: the SDK's SFN client, pointed here by AWS_ENDPOINT_URL_SFN.
 * A machine's Task states run local functions (the Lambda handlers) instead of invoking Lambda.
 * Executions live in this process's memory, like the local SQS's messages.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type LocalTask = (input: Json) => Promise<Json>;

export interface LocalMachine {
  name: string;
  definition: Asl;
  /** Task state name -> the function it runs. */
  tasks: Record<string, LocalTask>;
  /**
   * Task state name -> the function's timeout (ms): an invocation that runs longer fails as
   * Lambda fails it, with `Sandbox.Timedout` (shared/platform/lambda.ts), and the state's Retry decides.
   * The local function is not killed: its late result is dropped.
   */
  timeoutsMs?: Record<string, number>;
}

/** A task that fails as a timed-out Lambda invocation when it runs longer than `timeoutMs`. */
export function withLambdaTimeout(task: LocalTask, timeoutMs: number): LocalTask {
  return (input) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new LambdaTimeoutError(timeoutMs)), timeoutMs);
      task(input).then(
        (output) => {
          clearTimeout(timer);
          resolve(output);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
}

export interface LocalExecution {
  arn: string;
  name: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate: Date | null;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  /** History events so far, by type (the interpreter's events, close to Step Functions' own). */
  events: Record<string, number>;
}

export interface LocalStepFunctionsOptions {
  /** 127.0.0.1 port (0: any free one). */
  port: number;
  machines: readonly LocalMachine[];
  /** Milliseconds to pause before a retry, per state name, instead of the definition's backoff (tests). */
  retryIntervalOverrides?: Record<string, number>;
}

export interface LocalStepFunctions {
  endpoint: string;
  arnOf(machineName: string): string;
  execution(arn: string): LocalExecution | undefined;
  /** Resolves when the execution has stopped, however it ended. */
  waitFor(arn: string): Promise<LocalExecution>;
  /** Aborts the running executions and closes the endpoint. */
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const EXECUTION_NAME = /^[A-Za-z0-9_.-]{1,80}$/;
const seconds = (date: Date | null) => (date ? date.getTime() / 1000 : undefined);

interface Running {
  record: LocalExecution;
  done: Promise<void>;
  abort(): void;
}

const arnOf = (name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;

interface StartParams {
  stateMachineArn?: string;
  name?: string;
  input?: string;
}

type LoadedMachine = LocalMachine & { interpreter: StateMachine };

/** A machine ready to run: its tasks under their Lambda timeouts, its definition interpreted. */
function load(machine: LocalMachine): LoadedMachine {
  const tasks = Object.fromEntries(
    Object.entries(machine.tasks).map(([state, task]) => {
      const timeoutMs = machine.timeoutsMs?.[state];
      return [state, timeoutMs ? withLambdaTimeout(task, timeoutMs) : task];
    }),
  );
  return { ...machine, tasks, interpreter: new StateMachine(structuredClone(machine.definition) as never) };
}

function parseInput(input: string): Json {
  try {
    return JSON.parse(input) as Json;
  } catch {
    throw new ApiError("InvalidExecutionInput", "Invalid State Machine Execution Input: not JSON");
  }
}

/** Follows a run to its end in the record: its history events, and its output or its error. */
function follow(record: LocalExecution, run: ReturnType<StateMachine["run"]>): Promise<void> {
  const counting = (async () => {
    for await (const event of run.eventLogs) record.events[event.type] = (record.events[event.type] ?? 0) + 1;
  })();
  const done = run.result.then(
    (output: unknown) => {
      if (record.status !== "RUNNING") return; // stopped meanwhile
      record.status = "SUCCEEDED";
      record.output = JSON.stringify(output);
    },
    (error: unknown) => {
      // ExecutionError wraps the state's error: its name is the ASL error, its message the cause.
      const cause = (error as { cause?: unknown }).cause ?? error;
      record.status = "FAILED";
      record.error = (cause as Error).name ?? "Error";
      record.cause = (cause as Error).message ?? String(cause);
      logger.warn("local step functions: execution failed", {
        arn: record.arn,
        error: record.error,
        cause: record.cause,
      });
    },
  );
  return done.then(async () => {
    record.stopDate ??= new Date();
    await counting.catch(() => {});
  });
}

/** The executions of the local machines: what the Step Functions API below starts, lists and stops. */
class LocalExecutions {
  readonly machines: Map<string, LoadedMachine>;
  private readonly executions = new Map<string, Running>();

  constructor(
    machines: readonly LocalMachine[],
    private readonly retryIntervalOverrides: Record<string, number> | undefined,
  ) {
    this.machines = new Map(machines.map((m) => [arnOf(m.name), load(m)]));
  }

  start(params: StartParams): LocalExecution {
    const machine = this.machineOf(params.stateMachineArn);
    const name = params.name ?? randomUUID();
    if (!EXECUTION_NAME.test(name)) throw new ApiError("InvalidName", `Invalid Name: '${name}'`);
    const input = params.input ?? "{}";
    const parsed = parseInput(input);
    const arn = executionArn(arnOf(machine.name), name);
    const existing = this.executions.get(arn);
    if (existing) {
      // Step Functions' idempotency: the same name and input of a running execution is that execution.
      if (existing.record.status === "RUNNING" && existing.record.input === input) return existing.record;
      throw new ApiError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`);
    }
    const record: LocalExecution = {
      arn,
      name,
      stateMachineArn: arnOf(machine.name),
      status: "RUNNING",
      startDate: new Date(),
      stopDate: null,
      input,
      output: null,
      error: null,
      cause: null,
      events: {},
    };
    const run = machine.interpreter.run(parsed as never, {
      overrides: {
        taskResourceLocalHandlers: machine.tasks as never,
        retryIntervalOverrides: this.retryIntervalOverrides,
      },
      context: {
        Execution: { Id: arn, Name: name },
        StateMachine: { Id: record.stateMachineArn, Name: machine.name },
      },
      noThrowOnAbort: true,
    });
    this.executions.set(arn, { record, done: follow(record, run), abort: run.abort });
    return record;
  }

  machineOf(stateMachineArn: string | undefined): LoadedMachine {
    const machine = this.machines.get(stateMachineArn ?? "");
    if (!machine) throw new ApiError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  get(arn: string): LocalExecution | undefined {
    return this.executions.get(arn)?.record;
  }

  find(arn: string | undefined): Running {
    const running = this.executions.get(arn ?? "");
    if (!running) throw new ApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return running;
  }

  /** A machine's executions, newest first, with a status if given. */
  list(stateMachineArn: string | undefined, status: unknown): LocalExecution[] {
    this.machineOf(stateMachineArn);
    return [...this.executions.values()]
      .map((r) => r.record)
      .filter((e) => e.stateMachineArn === stateMachineArn)
      .filter((e) => !status || e.status === status)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  stop(arn: string | undefined, error: string | null = null, cause: string | null = null): LocalExecution {
    const running = this.find(arn);
    if (running.record.status === "RUNNING") {
      Object.assign(running.record, { status: "ABORTED", stopDate: new Date(), error, cause });
      running.abort();
    }
    return running.record;
  }

  /** Aborts every running execution and waits for all to end. */
  async stopAll(): Promise<void> {
    for (const running of this.executions.values()) {
      if (running.record.status !== "RUNNING") continue;
      running.record.status = "ABORTED";
      running.record.stopDate = new Date();
      running.abort();
    }
    await Promise.all([...this.executions.values()].map((r) => r.done));
  }
}

const describeExecution = (e: LocalExecution) => ({
  executionArn: e.arn,
  stateMachineArn: e.stateMachineArn,
  name: e.name,
  status: e.status,
  startDate: seconds(e.startDate),
  stopDate: seconds(e.stopDate),
  input: e.input,
  output: e.output ?? undefined,
  error: e.error ?? undefined,
  cause: e.cause ?? undefined,
});

/** The Step Functions API actions the service and `npx kapa backfill` call, on the local executions. */
function apiActions(executions: LocalExecutions): Record<string, (params: Record<string, unknown>) => unknown> {
  return {
    StartExecution: (params) => {
      const record = executions.start(params as StartParams);
      return { executionArn: record.arn, startDate: seconds(record.startDate) };
    },
    DescribeExecution: (params) => describeExecution(executions.find(params.executionArn as string).record),
    ListExecutions: (params) => {
      const all = executions.list(params.stateMachineArn as string, params.statusFilter);
      const from = Number(params.nextToken ?? 0);
      const size = Number(params.maxResults ?? 100) || 100;
      return {
        executions: all.slice(from, from + size).map((e) => {
          const { executionArn, stateMachineArn, name, status, startDate, stopDate } = describeExecution(e);
          return { executionArn, stateMachineArn, name, status, startDate, stopDate };
        }),
        nextToken: from + size < all.length ? String(from + size) : undefined,
      };
    },
    StopExecution: (params) => {
      const record = executions.stop(
        params.executionArn as string,
        (params.error as string | undefined) ?? null,
        (params.cause as string | undefined) ?? null,
      );
      return { stopDate: seconds(record.stopDate) };
    },
  };
}

/** The JSON 1.0 protocol of the Step Functions API: the action in X-Amz-Target, errors as `__type`. */
function apiHandler(actions: ReturnType<typeof apiActions>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const action = actions[target.replace(/^AWSStepFunctions\./, "")];
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(body));
    };
    try {
      if (!action) throw new ApiError("UnknownOperationException", `Not supported locally: ${target}`);
      const text = Buffer.concat(chunks).toString("utf8");
      reply(200, action(text ? (JSON.parse(text) as Record<string, unknown>) : {}));
    } catch (error) {
      if (error instanceof ApiError) reply(400, { __type: error.type, message: error.message });
      else {
        logger.error("local step functions: request failed", { target, error });
        reply(500, { __type: "InternalFailure", message: "Internal failure" });
      }
    }
  };
}

export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const executions = new LocalExecutions(options.machines, options.retryIntervalOverrides);
  const serve = apiHandler(apiActions(executions));
  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arnOf,
    execution: (arn) => executions.get(arn),
    async waitFor(arn) {
      const running = executions.find(arn);
      await running.done;
      return running.record;
    },
    async stop() {
      await executions.stopAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
