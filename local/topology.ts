import type { CfnResource, CfnTemplate, CfnValue, FunctionFile, SynthesizedStack } from "./template.js";
import { webAclOf } from "./waf.js";

/**
 * The local world, read from the synthesized template resource by resource: what CloudFormation
 * would create, with the values it would use (AWS's documented defaults where the template omits
 * a property). Nothing here is restated by hand; local/world.ts runs exactly this.
 */

export interface TopologyFunction {
  logicalId: string;
  entry: string;
  bundledFiles: readonly FunctionFile[];
  /** Seconds (AWS::Lambda::Function Timeout; CloudFormation's default is 3). */
  timeoutSeconds: number;
  /** MB (default 128). */
  memorySize: number;
  /** The template's variables, intrinsics unresolved (local/world.ts resolves them). */
  environment: Record<string, CfnValue>;
  /** Asynchronous invocations (schedules): retries after a function error (AWS::Lambda::EventInvokeConfig; default 2). */
  asyncRetryAttempts: number;
  /** ... and how old an event may get before it is dropped (default 6 hours). */
  asyncMaxEventAgeSeconds: number;
}

export interface TopologyQueue {
  logicalId: string;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  retentionSeconds: number;
  redrive: { deadLetterQueue: string; maxReceiveCount: number } | null;
}

export interface TopologyEventSource {
  logicalId: string;
  functionId: string;
  queueId: string;
  batchSize: number;
  batchingWindowSeconds: number;
  /** ScalingConfig.MaximumConcurrency; null: not capped (Lambda scales the pollers up to 1,250). */
  maxConcurrency: number | null;
  reportBatchItemFailures: boolean;
  enabled: boolean;
}

export interface TopologySchedule {
  logicalId: string;
  functionId: string;
  expression: string;
  timeZone: string;
  /** The target's Input, with context attributes such as <aws.scheduler.scheduled-time> unreplaced. */
  input: string | null;
  retry: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
  enabled: boolean;
}

export interface TopologyRoute {
  method: string;
  /** The resource path, `{param}` segments as API Gateway writes them. */
  path: string;
  functionId: string;
  operationName: string | null;
  authorizerId: string | null;
  apiKeyRequired: boolean;
}

export interface TopologyApi {
  routes: TopologyRoute[];
  authorizers: Record<string, { functionId: string; header: string; ttlSeconds: number }>;
  /** The stage's method settings for `/*\/*`. */
  throttling: { rateLimit: number; burstLimit: number } | null;
  /** The usage plan's per-key limits (the authorizer supplies the key). */
  usagePlan: { rateLimit: number; burstLimit: number; dailyQuota: number } | null;
  /** The AWS WAF web ACL associated with the stage (local/waf.ts evaluates its rules). */
  firewall: ReturnType<typeof webAclOf>;
}

export interface Topology {
  functions: Record<string, TopologyFunction>;
  queues: Record<string, TopologyQueue>;
  eventSources: TopologyEventSource[];
  schedules: TopologySchedule[];
  api: TopologyApi;
  /** Logical ids of the state machines (local/state-machine.ts resolves their definitions). */
  stateMachines: string[];
  /** Logical ids of the S3 buckets (created on the local S3, named after them). */
  buckets: string[];
}

type Props = Record<string, CfnValue>;
const propsOf = (resource: CfnResource): Props => resource.Properties ?? {};
const isObject = (value: CfnValue | undefined): value is { [key: string]: CfnValue } =>
  Boolean(value) && typeof value === "object" && !Array.isArray(value);

/** The logical id a `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` names, else null. */
export function referencedId(value: CfnValue | undefined): string | null {
  if (!isObject(value)) return null;
  if (typeof value.Ref === "string") return value.Ref;
  const getAtt = value["Fn::GetAtt"];
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string") return getAtt[0];
  return null;
}

/** Every logical id referenced anywhere inside `value` (an integration URI names its function in a Join). */
function referencedIds(value: CfnValue | undefined): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (!isObject(value)) return [];
  const own = referencedId(value);
  return [...(own ? [own] : []), ...Object.values(value).flatMap(referencedIds)];
}

const num = (value: CfnValue | undefined, fallback: number) => (typeof value === "number" ? value : fallback);

function byType(template: CfnTemplate, type: string): [string, Props][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, propsOf(r)]);
}

// Defaults: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html
// (Timeout 3 s, MemorySize 128 MB) and https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
// (two retries of an asynchronous invocation after a function error).
function functionsOf(stack: SynthesizedStack): Record<string, TopologyFunction> {
  const asyncConfig = new Map(
    byType(stack.template, "AWS::Lambda::EventInvokeConfig").map(([, p]) => [
      String(p.FunctionName && (referencedId(p.FunctionName) ?? p.FunctionName)),
      { retries: num(p.MaximumRetryAttempts, 2), maxAge: num(p.MaximumEventAgeInSeconds, 21_600) },
    ]),
  );
  const functions: Record<string, TopologyFunction> = {};
  for (const [id, code] of Object.entries(stack.functions)) {
    const resource = stack.template.Resources[id];
    if (resource?.Type !== "AWS::Lambda::Function") throw new Error(`${id} is not a Lambda function in the template`);
    const p = propsOf(resource);
    const environment = isObject(p.Environment) && isObject(p.Environment.Variables) ? p.Environment.Variables : {};
    functions[id] = {
      logicalId: id,
      entry: code.entry,
      bundledFiles: code.bundledFiles,
      timeoutSeconds: num(p.Timeout, 3),
      memorySize: num(p.MemorySize, 128),
      environment,
      asyncRetryAttempts: asyncConfig.get(id)?.retries ?? 2,
      asyncMaxEventAgeSeconds: asyncConfig.get(id)?.maxAge ?? 21_600,
    };
  }
  return functions;
}

// Defaults: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html
// (VisibilityTimeout 30 s, DelaySeconds 0, MessageRetentionPeriod 345,600 s = 4 days).
function queuesOf(template: CfnTemplate): Record<string, TopologyQueue> {
  const queues: Record<string, TopologyQueue> = {};
  for (const [id, p] of byType(template, "AWS::SQS::Queue")) {
    const redrive = isObject(p.RedrivePolicy) ? p.RedrivePolicy : null;
    const target = redrive ? referencedId(redrive.deadLetterTargetArn) : null;
    if (redrive && !target) throw new Error(`${id}: its dead-letter queue is not a queue of the template`);
    queues[id] = {
      logicalId: id,
      visibilityTimeoutSeconds: num(p.VisibilityTimeout, 30),
      delaySeconds: num(p.DelaySeconds, 0),
      retentionSeconds: num(p.MessageRetentionPeriod, 345_600),
      redrive:
        redrive && target ? { deadLetterQueue: target, maxReceiveCount: num(redrive.maxReceiveCount, 10) } : null,
    };
  }
  return queues;
}

// Defaults: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
// (BatchSize 10 for SQS, MaximumBatchingWindowInSeconds 0, Enabled true).
function eventSourcesOf(template: CfnTemplate): TopologyEventSource[] {
  return byType(template, "AWS::Lambda::EventSourceMapping").map(([id, p]) => {
    const functionId = referencedId(p.FunctionName);
    const queueId = referencedId(p.EventSourceArn);
    if (!functionId || !queueId) throw new Error(`${id}: its function or queue is not a resource of the template`);
    const scaling = isObject(p.ScalingConfig) ? p.ScalingConfig : {};
    return {
      logicalId: id,
      functionId,
      queueId,
      batchSize: num(p.BatchSize, 10),
      batchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
      maxConcurrency: typeof scaling.MaximumConcurrency === "number" ? scaling.MaximumConcurrency : null,
      reportBatchItemFailures: Array.isArray(p.FunctionResponseTypes)
        ? p.FunctionResponseTypes.includes("ReportBatchItemFailures")
        : false,
      enabled: p.Enabled !== false,
    };
  });
}

// Defaults: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-scheduler-schedule.html
// (time zone UTC, retry policy 185 attempts within 86,400 s, State ENABLED).
function schedulesOf(template: CfnTemplate): TopologySchedule[] {
  return byType(template, "AWS::Scheduler::Schedule").map(([id, p]) => {
    const target = isObject(p.Target) ? p.Target : {};
    const functionId = referencedId(target.Arn);
    if (!functionId) throw new Error(`${id}: its target is not a function of the template`);
    const retry = isObject(target.RetryPolicy) ? target.RetryPolicy : {};
    return {
      logicalId: id,
      functionId,
      expression: String(p.ScheduleExpression),
      timeZone: typeof p.ScheduleExpressionTimezone === "string" ? p.ScheduleExpressionTimezone : "UTC",
      input: typeof target.Input === "string" ? target.Input : null,
      retry: {
        maximumRetryAttempts: num(retry.MaximumRetryAttempts, 185),
        maximumEventAgeSeconds: num(retry.MaximumEventAgeInSeconds, 86_400),
      },
      enabled: p.State !== "DISABLED",
    };
  });
}

/** The full path of an API Gateway resource: its PathParts up to the root. */
function resourcePath(template: CfnTemplate, id: string | null): string {
  const resource = id ? template.Resources[id] : undefined;
  if (resource?.Type !== "AWS::ApiGateway::Resource") return ""; // the root resource
  const p = propsOf(resource);
  return `${resourcePath(template, referencedId(p.ParentId))}/${String(p.PathPart)}`;
}

function routesOf(template: CfnTemplate, functions: Record<string, TopologyFunction>): TopologyRoute[] {
  return byType(template, "AWS::ApiGateway::Method").map(([id, p]) => {
    const integration = isObject(p.Integration) ? p.Integration : {};
    const functionId = referencedIds(integration.Uri).find((ref) => functions[ref]);
    if (!functionId) throw new Error(`${id}: its integration invokes none of our functions`);
    const parent = referencedId(p.ResourceId);
    return {
      method: String(p.HttpMethod),
      path: resourcePath(template, parent) || "/",
      functionId,
      operationName: typeof p.OperationName === "string" ? p.OperationName : null,
      authorizerId: p.AuthorizationType === "CUSTOM" ? referencedId(p.AuthorizerId) : null,
      apiKeyRequired: p.ApiKeyRequired === true,
    };
  });
}

function apiOf(template: CfnTemplate, functions: Record<string, TopologyFunction>): TopologyApi {
  const authorizers: TopologyApi["authorizers"] = {};
  for (const [id, p] of byType(template, "AWS::ApiGateway::Authorizer")) {
    const functionId = referencedIds(p.AuthorizerUri).find((ref) => functions[ref]);
    const header = /^method\.request\.header\.(.+)$/.exec(String(p.IdentitySource))?.[1];
    if (!functionId || !header) throw new Error(`${id}: expected a REQUEST authorizer on one header`);
    // Default TTL: 300 s (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-authorizer.html).
    authorizers[id] = { functionId, header, ttlSeconds: num(p.AuthorizerResultTtlInSeconds, 300) };
  }
  const settings = byType(template, "AWS::ApiGateway::Stage")
    .flatMap(([, p]) => (Array.isArray(p.MethodSettings) ? p.MethodSettings : []))
    .find((s) => isObject(s) && s.ResourcePath === "/*" && s.HttpMethod === "*");
  const throttling =
    isObject(settings) && typeof settings.ThrottlingRateLimit === "number"
      ? { rateLimit: settings.ThrottlingRateLimit, burstLimit: num(settings.ThrottlingBurstLimit, 0) }
      : null;
  const [plan] = byType(template, "AWS::ApiGateway::UsagePlan").map(([, p]) => p);
  const throttle = plan && isObject(plan.Throttle) ? plan.Throttle : {};
  const quota = plan && isObject(plan.Quota) && plan.Quota.Period === "DAY" ? num(plan.Quota.Limit, 0) : 0;
  const usagePlan = plan
    ? { rateLimit: num(throttle.RateLimit, 0), burstLimit: num(throttle.BurstLimit, 0), dailyQuota: quota }
    : null;
  return { routes: routesOf(template, functions), authorizers, throttling, usagePlan, firewall: webAclOf(template) };
}

export function topologyOf(stack: SynthesizedStack): Topology {
  const functions = functionsOf(stack);
  return {
    functions,
    queues: queuesOf(stack.template),
    eventSources: eventSourcesOf(stack.template),
    schedules: schedulesOf(stack.template),
    api: apiOf(stack.template, functions),
    stateMachines: byType(stack.template, "AWS::StepFunctions::StateMachine").map(([id]) => id),
    buckets: byType(stack.template, "AWS::S3::Bucket").map(([id]) => id),
  };
}
