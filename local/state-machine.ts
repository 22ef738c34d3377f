import {
  type CfnTemplate,
  type CfnValue,
  type LoadStackOptions,
  loadStack,
  type SynthesizedStack,
  synthesizeStack,
} from "./template.js";

/**
 * The backfill state machine exactly as CloudFormation creates it: the stack is synthesized in
 * this process (the same `KapaServiceStack` and cdk.json context as `cdk synth`, with bundling
 * skipped: the template is the same), and the state machine's DefinitionString is resolved from
 * CloudFormation intrinsics into plain ASL, with each Lambda's ARN as it would be in this (local)
 * account. Its Task states map to the entry points under functions/.
 */

/** The local account and region the resolved ARNs name. */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "000000000000";

/** An Amazon States Language document. */
export type Asl = { StartAt: string; States: Record<string, AslState> } & Record<string, unknown>;
export type AslState = { Type: string; Resource?: string } & Record<string, unknown>;

export interface LocalMachineDefinition {
  /** The state machine's logical id: its name here. */
  name: string;
  definition: Asl;
  /** Task state name -> the Lambda entry point it invokes, `functions/<entry>.ts`. */
  tasks: Record<string, string>;
  /** Task state name -> the timeout (s) of the function it invokes, as the template sets it. */
  functionTimeouts?: Record<string, number>;
}

export type { CfnTemplate } from "./template.js";

const lambdaArn = (logicalId: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

/** Fn::Join, Ref and Fn::GetAtt ... Arn of the functions in `functions`, and the pseudo parameters. */
function resolveIntrinsics(value: CfnValue, functions: ReadonlyMap<string, string>): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const [[fn, args] = []] = Object.entries(value);
    if (fn === "Fn::Join" && Array.isArray(args) && typeof args[0] === "string" && Array.isArray(args[1])) {
      return args[1].map((part) => resolveIntrinsics(part, functions)).join(args[0]);
    }
    if (fn === "Ref" && typeof args === "string") {
      const pseudo: Record<string, string> = {
        "AWS::Partition": "aws",
        "AWS::Region": LOCAL_REGION,
        "AWS::AccountId": LOCAL_ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
      };
      if (pseudo[args]) return pseudo[args];
      if (functions.has(args)) return args;
    }
    if (fn === "Fn::GetAtt" && Array.isArray(args) && args[1] === "Arn" && functions.has(String(args[0]))) {
      return lambdaArn(String(args[0]));
    }
  }
  throw new Error(
    `The state machine definition refers to something the local runtime cannot resolve: ${JSON.stringify(value)}`,
  );
}

function taskStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[] | undefined) ?? [])]
      .filter((d): d is { States: Record<string, AslState> } => Boolean(d && typeof d === "object"))
      .flatMap((d) => taskStates(d.States));
    return state.Type === "Task" ? [[name, state] as [string, AslState], ...nested] : nested;
  });
}

/**
 * The ASL of a state machine of a synthesized template, and its Task states' entry points.
 * `functions`: the logical id of each Lambda function the definition may invoke -> its entry.
 */
export function resolveStateMachine(
  template: CfnTemplate,
  logicalId: string,
  functions: ReadonlyMap<string, string>,
): LocalMachineDefinition {
  const resource = template.Resources[logicalId];
  const definitionString = resource?.Properties?.DefinitionString;
  if (resource?.Type !== "AWS::StepFunctions::StateMachine" || definitionString === undefined) {
    throw new Error(`${logicalId} is not a state machine with a DefinitionString`);
  }
  const definition = JSON.parse(resolveIntrinsics(definitionString, functions)) as Asl;
  const byArn = new Map([...functions].map(([id, entry]) => [lambdaArn(id), entry]));
  const tasks: Record<string, string> = {};
  const functionTimeouts: Record<string, number> = {};
  for (const [name, state] of taskStates(definition.States)) {
    const entry = state.Resource ? byArn.get(state.Resource) : undefined;
    if (!entry) throw new Error(`Task state ${name} invokes ${state.Resource}, which is not one of our functions`);
    tasks[name] = entry;
    const functionId = [...functions.keys()].find((id) => lambdaArn(id) === state.Resource) ?? "";
    // Lambda's default timeout is 3 s.
    functionTimeouts[name] = Number(template.Resources[functionId]?.Properties?.Timeout ?? 3);
  }
  return { name: logicalId, definition, tasks, functionTimeouts };
}

/** The logical id of the backfill state machine: what the stack's BackfillStateMachineArn output refers to. */
export function backfillMachineId(template: CfnTemplate): string {
  const value = template.Outputs?.BackfillStateMachineArn?.Value;
  const id = value && typeof value === "object" && !Array.isArray(value) ? value.Ref : undefined;
  if (typeof id !== "string")
    throw new Error("The template has no BackfillStateMachineArn output naming a state machine");
  return id;
}

const entriesOf = (stack: SynthesizedStack) =>
  new Map(Object.entries(stack.functions).map(([id, code]) => [id, code.entry]));

/** Synthesizes the stack in this process and resolves the backfill state machine. */
export async function synthesizeBackfillMachine(
  context: Record<string, unknown> = {},
): Promise<LocalMachineDefinition> {
  const stack = await synthesizeStack(context);
  return resolveStateMachine(stack.template, backfillMachineId(stack.template), entriesOf(stack));
}

/**
 * The backfill state machine for the local runtime, from the synthesized stack (local/template.ts:
 * cached in `cacheDir` while its sources are unchanged).
 */
export async function loadBackfillMachine(
  options: LoadStackOptions = {},
): Promise<LocalMachineDefinition & { cached: boolean }> {
  const stack = await loadStack(options);
  const machine = resolveStateMachine(stack.template, backfillMachineId(stack.template), entriesOf(stack));
  return { ...machine, cached: stack.cached };
}
