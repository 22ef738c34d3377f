import type { SFNClient } from "@aws-sdk/client-sfn";
import { UnavailableError } from "../platform/errors.js";
import type { BackfillInput } from "./model.js";

/**
 * The executions of the backfill state machine, as a port: Step Functions in AWS, and the local
 * Step Functions of `npm start` (local/step-functions.ts), which speaks the same API, so one
 * adapter serves both.
 */
export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

export interface ExecutionSummary {
  name: string;
  arn: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate: Date | null;
}

export interface ExecutionRecord extends ExecutionSummary {
  /** The execution input, parsed (null if it was not JSON). */
  input: unknown;
  output: unknown;
  error: string | null;
  cause: string | null;
}

export interface Executions {
  readonly stateMachineArn: string;
  start(name: string, input: BackfillInput): Promise<{ arn: string; startDate: Date }>;
  /** The execution of this name, or null if there is none. */
  describe(name: string): Promise<ExecutionRecord | null>;
  /** The newest executions first, at most `max`. */
  list(options: { status?: ExecutionStatus; max: number }): Promise<ExecutionSummary[]>;
}

/**
 * arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -> arn:aws:states:REGION:ACCOUNT:execution:NAME:EXECUTION:
 * an execution's ARN follows from its state machine's and its name.
 */
export function executionArn(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(":");
  if (parts.length !== 7 || parts[5] !== "stateMachine") throw new Error(`Not a state machine ARN: ${stateMachineArn}`);
  return [...parts.slice(0, 5), "execution", parts[6], name].join(":");
}

/**
 * Stands in when no state machine is configured: no job can be started (503), and none exists
 * (a job id is not found: 404, as for any unknown job).
 */
export const noExecutions: Executions = {
  stateMachineArn: "",
  start: async () => {
    throw new UnavailableError("Backfill jobs are not available here: BACKFILL_STATE_MACHINE_ARN is not set");
  },
  describe: async () => null,
  list: async () => [],
};

/** Step Functions, with the SDK loaded on first use: the other handlers never load it. */
export function sfnExecutions(stateMachineArn: string, client?: SFNClient): Executions {
  let adapter: Promise<Executions> | undefined;
  const get = () => {
    adapter ??= import("./sfn.js").then((sfn) => sfn.createSfnExecutions(stateMachineArn, client));
    return adapter;
  };
  return {
    stateMachineArn,
    start: async (name, input) => (await get()).start(name, input),
    describe: async (name) => (await get()).describe(name),
    list: async (options) => (await get()).list(options),
  };
}
