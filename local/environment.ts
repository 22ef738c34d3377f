import { createHash } from "node:crypto";
import { join } from "node:path";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./state-machine.js";
import { type CfnTemplate, type CfnValue, REPO_ROOT } from "./template.js";
import type { TopologyFunction } from "./topology.js";

/**
 * A function's environment as Lambda gives it: the variables the template sets on it, and only
 * those, with CloudFormation's Refs and GetAtts resolved to the local resources, plus the
 * variables Lambda itself sets in every environment (region, credentials, function name) and the
 * local endpoints the AWS SDK is pointed at.
 *
 * One substitution: the database binding. In AWS a function finds the database through
 * DB_SECRET_ARN (the secret) and DB_HOST (the RDS Proxy), and Migrate also gets the application
 * login's secret (DB_APP_SECRET_ARN) to create that login; locally they resolve to one
 * DATABASE_URL (there is no Secrets Manager nor proxy here, and the local database has one user). A function without the binding in
 * the template gets neither, and fails to reach the database as it would in AWS.
 */

/** Where the local resources are: what a Ref or GetAtt resolves to. */
export interface LocalResources {
  queues: ReadonlyMap<string, { url: string; arn: string }>;
  stateMachines: ReadonlyMap<string, string>;
  /** Bucket logical id -> its name on the local S3. */
  buckets: ReadonlyMap<string, string>;
  database: { url: string; embedded: boolean };
  endpoints: { sqs: string; sfn: string; ses: string; s3: string };
}

/**
 * Local settings without an AWS meaning that replace a template value: a dummy's delay, the log
 * level. Each applies only to functions whose template environment has the variable.
 */
export const LOCAL_DELAY_VARIABLES = [
  "LLM_DELAY_MS",
  "CLASSIFIER_DELAY_MS",
  "LOG_LEVEL",
  // Webhook timings, shortened by tests and benchmarks (the retry schedule, the dispatcher's poll window).
  "WEBHOOK_RETRY_SCALE",
  "WEBHOOK_DISPATCH_WINDOW_SECONDS",
] as const;
/** Fault injection (no AWS meaning): set on the functions that classify (those given CLASSIFIER_DELAY_MS). */
const FAULT_VARIABLES = { CLASSIFIER_FAILURE_RATE: "CLASSIFIER_DELAY_MS" } as const;

/**
 * A function the template gives Bedrock (CLASSIFIER_PROVIDER=bedrock) calls a service that has no
 * emulator: it gets the developer's way to reach one instead of the emulators' credentials, a
 * stand-in's endpoint or real credentials (docs/classification.md).
 */
const BEDROCK_VARIABLES = [
  "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
] as const;

function bedrockAccess(variables: Record<string, string>, local: NodeJS.ProcessEnv): void {
  // A profile is read only when no keys are in the environment: the emulators' keys go.
  if (local.AWS_PROFILE && !local.AWS_ACCESS_KEY_ID) {
    delete variables.AWS_ACCESS_KEY_ID;
    delete variables.AWS_SECRET_ACCESS_KEY;
  }
  for (const name of BEDROCK_VARIABLES) if (local[name]) variables[name] = local[name] as string;
}

/**
 * The webhook message key (shared/webhooks/message-seal.ts): a Secrets Manager secret in AWS,
 * its text itself here. Derived from the database, so that a restarted world opens the messages
 * an earlier one sealed (WEBHOOK_MESSAGE_KEY in the local environment replaces it).
 */
const MESSAGE_KEY_SECRET = "WEBHOOK_MESSAGE_KEY_SECRET_ARN";
export const localMessageKey = (databaseUrl: string, local: NodeJS.ProcessEnv = {}) =>
  local.WEBHOOK_MESSAGE_KEY ||
  createHash("sha256").update(`kapa local webhook message key ${databaseUrl}`).digest("hex");

export const lambdaArn = (logicalId: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

const DATABASE_RESOURCE_TYPES = new Set([
  "AWS::SecretsManager::Secret",
  "AWS::SecretsManager::SecretTargetAttachment",
  "AWS::RDS::DBProxy",
  "AWS::RDS::DBCluster",
]);

type Resolved = { value: string } | { database: true };

function resolveValue(
  template: CfnTemplate,
  fn: TopologyFunction,
  value: CfnValue,
  resources: LocalResources,
): Resolved | null {
  if (typeof value === "string") {
    // A file shipped next to the bundle (/var/task/<to>) is the repository's <from> here.
    const shipped = fn.bundledFiles.find((f) => value === `/var/task/${f.to}`);
    return { value: shipped ? join(REPO_ROOT, shipped.from) : value };
  }
  if (typeof value === "number" || typeof value === "boolean") return { value: String(value) };
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const getAtt = value["Fn::GetAtt"];
  const [id, attribute] = Array.isArray(getAtt) ? getAtt.map(String) : [typeof value.Ref === "string" ? value.Ref : ""];
  const type = id ? template.Resources[id]?.Type : undefined;
  if (!id || !type) return null;
  if (DATABASE_RESOURCE_TYPES.has(type)) return { database: true };
  const queue = resources.queues.get(id);
  if (queue && type === "AWS::SQS::Queue") {
    if (!attribute) return { value: queue.url };
    if (attribute === "Arn") return { value: queue.arn };
    if (attribute === "QueueUrl") return { value: queue.url };
  }
  const bucket = resources.buckets.get(id);
  if (bucket && type === "AWS::S3::Bucket") {
    if (!attribute) return { value: bucket };
    if (attribute === "Arn") return { value: `arn:aws:s3:::${bucket}` };
  }
  // Named after its logical id: the local SES keeps no configuration sets (it takes any name).
  if (type === "AWS::SES::ConfigurationSet" && !attribute) return { value: id };
  const machine = resources.stateMachines.get(id);
  if (machine && !attribute) return { value: machine };
  if (type === "AWS::Lambda::Function") return { value: attribute === "Arn" ? lambdaArn(id) : id };
  return null;
}

export interface ResolvedEnvironment {
  /** Exactly what the function's environments get as process.env. */
  variables: Record<string, string>;
  /** The template's variable names that were resolved, database binding included. */
  fromTemplate: string[];
}

export function resolveEnvironment(
  template: CfnTemplate,
  fn: TopologyFunction,
  resources: LocalResources,
  local: NodeJS.ProcessEnv,
): ResolvedEnvironment {
  const variables: Record<string, string> = {
    // What Lambda sets in every execution environment (credentials are the local emulators').
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    // Local only: the emulators.
    AWS_ENDPOINT_URL_SQS: resources.endpoints.sqs,
    AWS_ENDPOINT_URL_SFN: resources.endpoints.sfn,
    AWS_ENDPOINT_URL_SES: resources.endpoints.ses,
    // The local S3 (fauxqs) is reached path-style: shared/exports/s3.ts.
    AWS_ENDPOINT_URL_S3: resources.endpoints.s3,
  };
  for (const [name, raw] of Object.entries(fn.environment)) {
    if (name === MESSAGE_KEY_SECRET) {
      variables.WEBHOOK_MESSAGE_KEY = localMessageKey(resources.database.url, local);
      continue;
    }
    const resolved = resolveValue(template, fn, raw, resources);
    if (!resolved) {
      throw new Error(
        `${fn.logicalId}: ${name} refers to ${JSON.stringify(raw)}, which the local runtime does not have`,
      );
    }
    if ("database" in resolved) {
      variables.DATABASE_URL = resources.database.url;
      if (resources.database.embedded) variables.KAPA_EMBEDDED_DB = "1";
    } else {
      variables[name] = resolved.value;
    }
  }
  // The console's format (npm start: pretty) is local only; Lambda's is JSON.
  if (local.LOG_FORMAT) variables.LOG_FORMAT = local.LOG_FORMAT;
  // The one local deviation of the URL policy: a developer receives webhooks on this machine
  // (loopback only; shared/webhooks/url-policy.ts). The template says "false".
  if ("WEBHOOK_ALLOW_LOOPBACK" in fn.environment) variables.WEBHOOK_ALLOW_LOOPBACK = "true";
  for (const name of LOCAL_DELAY_VARIABLES) {
    if (name in fn.environment && local[name]) variables[name] = local[name] as string;
  }
  for (const [name, marker] of Object.entries(FAULT_VARIABLES)) {
    if (marker in fn.environment && local[name]) variables[name] = local[name] as string;
  }
  if (fn.environment.CLASSIFIER_PROVIDER === "bedrock") bedrockAccess(variables, local);
  return { variables, fromTemplate: Object.keys(fn.environment) };
}
