import { readFileSync } from "node:fs";
import path from "node:path";
import { App, CfnElement, type Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { expect } from "vitest";
import { type KapaFunction, REPO_ROOT } from "../../infra/constructs/lambda.js";
import { KapaServiceStack } from "../../infra/stack.js";

/** Shared setup of the CDK assertion tests: synthesis without bundling, and template helpers. */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** The context `cdk synth` uses (cdk.json: settings and feature flags). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, "cdk.json"), "utf8")) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** An App with the cdk.json context plus test overrides; esbuild is skipped (same template, fast tests). */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), "aws:cdk:bundling-stacks": [], ...context } });
}

function synthesize(context: Record<string, unknown>) {
  const app = testApp(context);
  return { app, ...inspect(new KapaServiceStack(app, "KapaService")) };
}

/**
 * The stacks this worker synthesized, by context: the infra files run one after another in a
 * reused worker (vitest.config.ts), and most of them check the same default stack. The tests
 * only read a stack and its template.
 */
const synthesized = new Map<string, ReturnType<typeof synthesize>>();

/** The stack of an App with the cdk.json context plus test overrides, its template and helpers bound to both. */
export function synth(context: Record<string, unknown> = {}) {
  const key = JSON.stringify(context);
  let stack = synthesized.get(key);
  if (!stack) {
    stack = synthesize(context);
    synthesized.set(key, stack);
  }
  return stack;
}

/** A stack's template, with the template helpers below bound to it (and logical ids of its constructs). */
export function inspect<S extends Stack>(stack: S, template: Template = Template.fromStack(stack)) {
  return {
    stack,
    template,
    /** The logical id of a CloudFormation element, or of a construct's default child. */
    idOf: (element: CfnElement | IConstruct) =>
      stack.getLogicalId(element instanceof CfnElement ? element : (element.node.defaultChild as CfnElement)),
    fnId: (fn: KapaFunction) => fnLogicalIdOf(stack, fn),
    resourcesOf: (type: string) => resourcesIn(template, type),
    envOf: (functionId: string) => envOf(template, functionId),
    roleIdOf: (functionId: string) => roleIdOf(template, functionId),
    statementsOfRole: (roleId: string) => statementsOfRole(template, roleId),
    identityStatements: () => identityStatements(template),
    propsMentioning: (type: string, field: string, id: string, what: string) =>
      propsMentioning(template, type, field, id, what),
    expectEncryptedTlsOnlyQueues: (queueIds: readonly string[]) => expectEncryptedTlsOnlyQueues(template, queueIds),
    expectScheduleRoleInvokesOnly: (roleId: string, target: ScheduleTarget) =>
      expectScheduleRoleInvokesOnly(template, roleId, target),
  };
}

export function resourcesIn(template: Template, type: string): Map<string, CfnResource> {
  return new Map(Object.entries(template.findResources(type) as Record<string, CfnResource>));
}

export function only<T>(items: Iterable<T>, what: string): T {
  const all = [...items];
  if (all.length !== 1) throw new Error(`Expected exactly one ${what}, found ${all.length}`);
  return all[0] as T;
}

export const ref = (id: string) => ({ Ref: id });
export const props = (resource: CfnResource | undefined): Record<string, unknown> => resource?.Properties ?? {};
export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
/** Does a CloudFormation value (Ref, GetAtt, Join...) mention this logical id? */
export const mentions = (value: unknown, id: string) => (JSON.stringify(value) ?? "").includes(`"${id}"`);

/** The properties of the one resource of `type` whose `field` mentions the logical id `id`. */
export function propsMentioning(
  template: Template,
  type: string,
  field: string,
  id: string,
  what: string,
): Record<string, unknown> {
  return only(
    [...resourcesIn(template, type).values()].map(props).filter((p) => mentions(p[field], id)),
    what,
  );
}

export const logicalIdOf = (stack: Stack, element: CfnElement) => stack.getLogicalId(element);
export const fnLogicalIdOf = (stack: Stack, fn: KapaFunction) =>
  stack.getLogicalId(fn.function.node.defaultChild as CfnElement);

/** The environment variables of a function resource. */
export function envOf(template: Template, functionId: string): Record<string, unknown> {
  const fn = resourcesIn(template, "AWS::Lambda::Function").get(functionId);
  if (!fn) throw new Error(`No function ${functionId}`);
  return (props(fn).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
}

/** A statement of an identity policy, with the logical ids of the roles it applies to. */
export interface RoleStatement {
  roles: string[];
  statement: Statement;
}

/** Every statement of every identity policy: AWS::IAM::Policy resources and roles' inline policies. */
export function identityStatements(template: Template): RoleStatement[] {
  const roleIds = (roles: unknown): string[] =>
    ((roles ?? []) as unknown[]).map((r) => {
      const id = (r as { Ref?: string }).Ref;
      if (!id) throw new Error(`Policy attached to a role that is not in the template: ${JSON.stringify(r)}`);
      return id;
    });
  const fromPolicies = [...resourcesIn(template, "AWS::IAM::Policy").values()].flatMap((p) =>
    (props(p).PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
      roles: roleIds(props(p).Roles),
      statement,
    })),
  );
  const inline = [...resourcesIn(template, "AWS::IAM::Role").entries()].flatMap(([roleId, role]) =>
    ((props(role).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) =>
      p.PolicyDocument.Statement.map((statement) => ({ roles: [roleId], statement })),
    ),
  );
  return [...fromPolicies, ...inline];
}

/** Every statement of the identity policies attached to a role (inline and AWS::IAM::Policy). */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  if (!resourcesIn(template, "AWS::IAM::Role").has(roleId)) throw new Error(`No role ${roleId}`);
  return identityStatements(template)
    .filter((s) => s.roles.includes(roleId))
    .map((s) => s.statement);
}

/** The logical id of a function's execution role. */
export function roleIdOf(template: Template, functionId: string): string {
  const fn = resourcesIn(template, "AWS::Lambda::Function").get(functionId);
  const role = props(fn).Role as { "Fn::GetAtt": [string, string] } | undefined;
  if (!role) throw new Error(`No function ${functionId}`);
  return role["Fn::GetAtt"][0];
}

/** The function a schedule invokes, the queue of the runs it could not start, and the functions it must leave alone. */
export interface ScheduleTarget {
  functionId: string;
  lostRunsQueueId: string;
  otherFunctionIds: Iterable<string>;
}

/**
 * A schedule's role (`roleId`) may invoke its target function and no other, and send the runs the
 * schedule could not start to its lost-runs queue: nothing else.
 */
export function expectScheduleRoleInvokesOnly(template: Template, roleId: string, target: ScheduleTarget): void {
  const statements = statementsOfRole(template, roleId);
  expect(statements.length).toBeGreaterThan(0);
  for (const statement of statements) {
    expect(statement.Effect).toBe("Allow");
    if (asArray(statement.Action).includes("sqs:SendMessage")) {
      // Its dead-letter queue: the runs it could not start.
      expect(asArray(statement.Action)).toEqual(["sqs:SendMessage"]);
      expect(mentions(statement.Resource, target.lostRunsQueueId)).toBe(true);
      continue;
    }
    expect(asArray(statement.Action)).toEqual(["lambda:InvokeFunction"]);
    for (const resource of asArray(statement.Resource)) {
      expect(mentions(resource, target.functionId), JSON.stringify(resource)).toBe(true);
      for (const other of target.otherFunctionIds) {
        if (other !== target.functionId) expect(mentions(resource, other)).toBe(false);
      }
    }
  }
}

/** Each queue is encrypted with SQS-managed keys, and its policy only denies requests without TLS. */
export function expectEncryptedTlsOnlyQueues(template: Template, queueIds: readonly string[]): void {
  const queues = resourcesIn(template, "AWS::SQS::Queue");
  const policies = [...resourcesIn(template, "AWS::SQS::QueuePolicy").values()].map(props);
  for (const id of queueIds) {
    const queue = props(queues.get(id));
    expect(queue.SqsManagedSseEnabled, id).toBe(true);
    expect(queue.KmsMasterKeyId, id).toBeUndefined();
    const policy = only(
      policies.filter((q) => mentions(q.Queues, id)),
      `policy of ${id}`,
    );
    expect((policy.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Action: "sqs:*",
        Principal: { AWS: "*" },
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
  }
}
