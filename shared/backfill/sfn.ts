import type { SFNClient } from "@aws-sdk/client-sfn";
import {
  type ExecutionRecord,
  type ExecutionStatus,
  type ExecutionSummary,
  type Executions,
  executionArn,
} from "./executions.js";
import type { BackfillInput } from "./model.js";

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

/** The SDK, loaded on first use (a dynamic import esbuild keeps: no function loads it at init). */
let sdk: Promise<typeof import("@aws-sdk/client-sfn")> | undefined;
const loadSdk = () => {
  sdk ??= import("@aws-sdk/client-sfn");
  return sdk;
};

/** Step Functions through the AWS SDK (AWS_ENDPOINT_URL_SFN points it at the local one). */
export class SfnExecutions implements Executions {
  private client: SFNClient | undefined;

  constructor(
    readonly stateMachineArn: string,
    client?: SFNClient,
  ) {
    this.client = client;
  }

  private async sfn(): Promise<SFNClient> {
    const { SFNClient } = await loadSdk();
    this.client ??= new SFNClient({});
    return this.client;
  }

  async start(name: string, input: BackfillInput): Promise<{ arn: string; startDate: Date }> {
    const { StartExecutionCommand } = await loadSdk();
    const out = await (await this.sfn()).send(
      new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return { arn: out.executionArn as string, startDate: out.startDate ?? new Date() };
  }

  async describe(name: string): Promise<ExecutionRecord | null> {
    const { DescribeExecutionCommand } = await loadSdk();
    try {
      const out = await (await this.sfn()).send(
        new DescribeExecutionCommand({ executionArn: executionArn(this.stateMachineArn, name) }),
      );
      return {
        name: out.name ?? name,
        arn: out.executionArn as string,
        status: out.status as ExecutionStatus,
        startDate: out.startDate ?? new Date(0),
        stopDate: out.stopDate ?? null,
        input: parseJson(out.input),
        output: parseJson(out.output),
        error: out.error ?? null,
        cause: out.cause ?? null,
      };
    } catch (error) {
      if ((error as { name?: string }).name === "ExecutionDoesNotExist") return null;
      throw error;
    }
  }

  async list(options: { status?: ExecutionStatus; max: number }): Promise<ExecutionSummary[]> {
    const found: ExecutionSummary[] = [];
    const { ListExecutionsCommand } = await loadSdk();
    let nextToken: string | undefined;
    do {
      const out = await (await this.sfn()).send(
        new ListExecutionsCommand({
          stateMachineArn: this.stateMachineArn,
          statusFilter: options.status,
          maxResults: Math.min(options.max - found.length, 1000),
          nextToken,
        }),
      );
      for (const e of out.executions ?? []) {
        found.push({
          name: e.name as string,
          arn: e.executionArn as string,
          status: e.status as ExecutionStatus,
          startDate: e.startDate ?? new Date(0),
          stopDate: e.stopDate ?? null,
        });
      }
      nextToken = out.nextToken;
    } while (nextToken && found.length < options.max);
    return found;
  }
}

/** One SFN client per process; AWS_ENDPOINT_URL_SFN points it at the local Step Functions. */
export function createSfnExecutions(stateMachineArn: string, client?: SFNClient): Executions {
  return new SfnExecutions(stateMachineArn, client);
}
