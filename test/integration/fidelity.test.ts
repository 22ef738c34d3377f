import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { bundleFunctions } from "../../local/lambda-bundle.js";
import { type LocalSes, startLocalSes } from "../../local/ses.js";
import {
  type CfnTemplate,
  type CfnValue,
  loadStack,
  SHARED_CACHE_DIR,
  type SynthesizedStack,
  synthesizeStack,
} from "../../local/template.js";
import { type Topology, topologyOf } from "../../local/topology.js";
import { gatewayOptions, type LocalWorld, startLocalWorld } from "../../local/world.js";
import { testDatabase } from "../support/database.js";
import { createTenant, useTestDb } from "../support/db.js";
import { eventually, receivesUntilQuiet, testSqs } from "../support/sqs.js";

/**
 * The running local world against the synthesized template, resource by resource: every queue,
 * function, event source mapping, schedule and API method CloudFormation would create exists
 * locally with the template's settings, and nothing else does. Expectations are read from the
 * raw template here, not from local/topology.ts, which is what is under test.
 */
const db = useTestDb();
const database = testDatabase();
const stack = await loadStack({ cacheDir: SHARED_CACHE_DIR });
const code = await bundleFunctions({ cacheDir: SHARED_CACHE_DIR });
const template = stack.template;
const LOCAL = { LLM_DELAY_MS: "0", CLASSIFIER_DELAY_MS: "0", LOG_LEVEL: "silent", WEBHOOK_ALLOW_LOOPBACK: "true" };

type Props = Record<string, CfnValue>;
const resources = (type: string): [string, Props][] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
const obj = (value: CfnValue | undefined) => (value ?? {}) as Props;
const refOf = (value: CfnValue | undefined): string => {
  const v = obj(value);
  return (v.Ref as string | undefined) ?? ((v["Fn::GetAtt"] as string[] | undefined)?.[0] as string);
};

const refsIn = (value: CfnValue | undefined): string[] =>
  Array.isArray(value)
    ? value.flatMap(refsIn)
    : value && typeof value === "object"
      ? [refOf(value), ...Object.values(value).flatMap(refsIn)].filter(Boolean)
      : [];

async function startWorld(s: SynthesizedStack, topology: Topology, prefix: string, ses: LocalSes, extra = {}) {
  const world = await startLocalWorld({
    stack: s,
    topology,
    code,
    database: { url: database.url, embedded: Boolean(database.embedded) },
    endpoints: { sqs: inject("sqsEndpoint"), ses: ses.endpoint, s3: inject("sqsEndpoint") },
    sfnPort: 0,
    queuePrefix: `${prefix}-${process.pid}-`,
    localEnv: LOCAL,
    ...extra,
  });
  world.start();
  const gateway = await startGateway({ port: 0, ...gatewayOptions(topology, world) });
  return { world, gateway };
}

let ses: LocalSes;
let world: LocalWorld;
let gateway: Gateway;

beforeAll(async () => {
  ses = await startLocalSes(0);
  ({ world, gateway } = await startWorld(stack, topologyOf(stack), "fidelity", ses));
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await world?.stop();
  await ses?.stop();
});

/** Lambda functions of CloudFormation's own machinery (custom resource providers), not of the service. */
function customResourceProviders(t: CfnTemplate): Set<string> {
  return new Set(
    Object.values(t.Resources)
      .filter((r) => r.Type.startsWith("Custom::") || r.Type === "AWS::CloudFormation::CustomResource")
      .map((r) => refOf(r.Properties?.ServiceToken)),
  );
}

describe("the local world is the template: queues and buckets", () => {
  it("has every queue of the template with its visibility timeout, delay, retention and redrive, and no other", async () => {
    const queues = resources("AWS::SQS::Queue");
    expect([...world.queues.keys()].sort()).toEqual(queues.map(([id]) => id).sort());
    for (const [id, p] of queues) {
      const local = world.queues.get(id);
      const out = await testSqs.send(new GetQueueAttributesCommand({ QueueUrl: local?.url, AttributeNames: ["All"] }));
      const attributes = out.Attributes ?? {};
      expect(Number(attributes.VisibilityTimeout), id).toBe(p.VisibilityTimeout ?? 30);
      expect(Number(attributes.DelaySeconds), id).toBe(p.DelaySeconds ?? 0);
      expect(Number(attributes.MessageRetentionPeriod), id).toBe(p.MessageRetentionPeriod ?? 345_600);
      const redrive = p.RedrivePolicy ? obj(p.RedrivePolicy) : null;
      if (!redrive) expect(attributes.RedrivePolicy, id).toBeUndefined();
      else {
        expect(JSON.parse(attributes.RedrivePolicy ?? "{}"), id).toEqual({
          deadLetterTargetArn: world.queues.get(refOf(redrive.deadLetterTargetArn))?.arn,
          maxReceiveCount: redrive.maxReceiveCount,
        });
      }
    }
  });

  it("delivers the template's queues as SQS fair queues: standard queues, where a message's group is its tenant", async () => {
    const queues = resources("AWS::SQS::Queue");
    // Fair queues are standard queues (no FIFO) whose messages carry a MessageGroupId.
    expect(queues.filter(([, p]) => p.FifoQueue).map(([id]) => id)).toEqual([]);
    // A queue no mapping polls (a dead-letter queue), so that only this test receives.
    const polled = new Set(topologyOf(stack).eventSources.map((m) => m.queueId));
    const [unpolled] = queues.map(([id]) => id).filter((id) => !polled.has(id));
    const queueUrl = world.queues.get(unpolled as string)?.url as string;
    const { noisyReceived } = await receivesUntilQuiet(queueUrl, { noisy: 500, quiet: 5 });
    expect(noisyReceived).toBeLessThanOrEqual(20);
  });

  it("has every bucket of the template on the local S3, and a function's Ref to one is its local name", async () => {
    const buckets = resources("AWS::S3::Bucket");
    expect(buckets.length).toBeGreaterThan(0);
    expect([...world.buckets.keys()].sort()).toEqual(buckets.map(([id]) => id).sort());
    const s3 = new S3Client({
      endpoint: inject("sqsEndpoint"),
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      for (const [id] of buckets) {
        const out = await s3.send(new HeadBucketCommand({ Bucket: world.buckets.get(id) }));
        expect(out.$metadata.httpStatusCode, id).toBe(200);
      }
    } finally {
      s3.destroy();
    }
    const [bucketId] = buckets[0] as [string, unknown];
    const readers = resources("AWS::Lambda::Function").filter(([, p]) =>
      Object.values(obj(obj(p.Environment).Variables)).some((v) => refOf(v) === bucketId),
    );
    expect(readers.length).toBeGreaterThan(0);
    for (const [id, p] of readers) {
      for (const [name, value] of Object.entries(obj(obj(p.Environment).Variables))) {
        if (refOf(value) === bucketId)
          expect(world.functions[id]?.environment[name], id).toBe(world.buckets.get(bucketId));
      }
    }
  });
});

describe("the local world is the template: functions and event sources", () => {
  it("runs every function of the template with its timeout, memory and exactly its environment", () => {
    const functions = resources("AWS::Lambda::Function").filter(([id]) => !customResourceProviders(template).has(id));
    expect(Object.keys(world.functions).sort()).toEqual(functions.map(([id]) => id).sort());
    // What Lambda itself sets, and the local emulators' endpoints: the only variables not from the template.
    const runtime = [
      "AWS_ACCESS_KEY_ID",
      "AWS_DEFAULT_REGION",
      "AWS_ENDPOINT_URL_S3",
      "AWS_ENDPOINT_URL_SES",
      "AWS_ENDPOINT_URL_SFN",
      "AWS_ENDPOINT_URL_SQS",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
      "AWS_LAMBDA_FUNCTION_NAME",
      "AWS_REGION",
      "AWS_SECRET_ACCESS_KEY",
    ];
    // The secrets (the owner's; the application login's, which only Migrate sets up) and the proxy.
    const DATABASE_BINDING = ["DB_SECRET_ARN", "DB_APP_SECRET_ARN", "DB_HOST"];
    // The webhook message key's secret is the key's text here (no Secrets Manager locally).
    const localSecret = (name: string) => (name === "WEBHOOK_MESSAGE_KEY_SECRET_ARN" ? "WEBHOOK_MESSAGE_KEY" : name);
    for (const [id, p] of functions) {
      const local = world.functions[id];
      expect(local?.timeoutSeconds, id).toBe(p.Timeout ?? 3);
      expect(local?.memorySize, id).toBe(p.MemorySize ?? 128);
      const variables = obj(obj(p.Environment).Variables);
      const database = "DB_SECRET_ARN" in variables;
      // The database binding (secrets + proxy endpoint) is one DATABASE_URL here.
      const expected = [
        ...Object.keys(variables)
          .filter((k) => !database || !DATABASE_BINDING.includes(k))
          .map(localSecret),
        ...(database
          ? ["DATABASE_URL", ...(database && local?.environment.KAPA_EMBEDDED_DB ? ["KAPA_EMBEDDED_DB"] : [])]
          : []),
        ...runtime,
      ];
      expect(Object.keys(local?.environment ?? {}).sort(), id).toEqual(expected.sort());
      for (const [name, value] of Object.entries(variables)) {
        const actual = local?.environment[name];
        if (typeof value === "string" && !value.startsWith("/var/task/")) {
          expect(actual, `${id} ${name}`).toBe(name in LOCAL ? LOCAL[name as keyof typeof LOCAL] : value);
        } else if (template.Resources[refOf(value)]?.Type === "AWS::SQS::Queue") {
          expect(actual, `${id} ${name}`).toBe(world.queues.get(refOf(value))?.url);
        } else if (template.Resources[refOf(value)]?.Type === "AWS::StepFunctions::StateMachine") {
          expect(actual, `${id} ${name}`).toBe(world.stateMachines.get(refOf(value)));
        }
      }
    }
  });

  it("polls every event source mapping with the template's batch, window, cap and response types", () => {
    const mappings = resources("AWS::Lambda::EventSourceMapping");
    expect([...world.eventSources.keys()].sort()).toEqual(mappings.map(([id]) => id).sort());
    for (const [id, p] of mappings) {
      const settings = world.eventSources.get(id)?.settings;
      expect(settings, id).toEqual({
        queueUrl: world.queues.get(refOf(p.EventSourceArn))?.url,
        queueArn: world.queues.get(refOf(p.EventSourceArn))?.arn,
        batchSize: p.BatchSize ?? 10,
        batchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
        maxConcurrency: obj(p.ScalingConfig).MaximumConcurrency,
        reportBatchItemFailures: ((p.FunctionResponseTypes ?? []) as string[]).includes("ReportBatchItemFailures"),
      });
    }
  });
});

describe("the local world is the template: schedules, state machines and the API", () => {
  it("runs every schedule with its expression, time zone, input, retry policy and target", () => {
    const schedules = resources("AWS::Scheduler::Schedule");
    expect([...world.schedules.keys()].sort()).toEqual(schedules.map(([id]) => id).sort());
    for (const [id, p] of schedules) {
      const running = world.schedules.get(id);
      const target = obj(p.Target);
      const retry = obj(target.RetryPolicy);
      expect(running?.expression, id).toBe(p.ScheduleExpression);
      expect(running?.schedule, id).toMatchObject({
        functionId: refOf(target.Arn),
        timeZone: p.ScheduleExpressionTimezone ?? "UTC",
        input: target.Input ?? null,
        retry: {
          maximumRetryAttempts: retry.MaximumRetryAttempts,
          maximumEventAgeSeconds: retry.MaximumEventAgeInSeconds,
        },
      });
    }
  });

  it("runs the template's state machines", () => {
    const machines = resources("AWS::StepFunctions::StateMachine").map(([id]) => id);
    expect([...world.stateMachines.keys()].sort()).toEqual(machines.sort());
  });

  it("serves every API method of the template, each behind its authorizer, and nothing else", async () => {
    const methods = resources("AWS::ApiGateway::Method");
    const options = gatewayOptions(topologyOf(stack), world);
    expect(options.routes).toHaveLength(methods.length);
    const [[, authorizer] = ["", {}]] = resources("AWS::ApiGateway::Authorizer");
    for (const [id, p] of methods) {
      const route = options.routes?.find((r) => r.operationId === p.OperationName && r.method === p.HttpMethod);
      expect(route, id).toBeDefined();
      const url = `${gateway.url}${route?.path.replaceAll(/\{\w+\}/g, crypto.randomUUID())}`;
      const response = await fetch(url, { method: route?.method });
      if (p.AuthorizationType === "CUSTOM") {
        expect(route?.authorizer).toEqual({
          target: refsIn(authorizer.AuthorizerUri).find((ref) => world.functions[ref]),
          header: String(authorizer.IdentitySource).replace("method.request.header.", ""),
          ttlSeconds: authorizer.AuthorizerResultTtlInSeconds,
        });
        expect(response.status, `${route?.method} ${route?.path}`).toBe(401);
      } else {
        expect(response.status, `${route?.method} ${route?.path}`).toBeLessThan(500);
      }
    }
  }, 120_000);

  it("labels a thread asked through the API: gateway, chat function, live queue, classifier, each with its own environment", async () => {
    const tenant = await createTenant(db, "fidelity");
    const response = await fetch(`${gateway.url}/query/v1/projects/${tenant.projectId}/chat`, {
      method: "POST",
      headers: { "X-API-KEY": tenant.apiKey },
      body: JSON.stringify({ question: "How do I install it?" }),
    });
    expect(response.status).toBe(200);
    const { thread_id } = (await response.json()) as { thread_id: string };
    const labelled = await eventually(async () => {
      const thread = await fetch(`${gateway.url}/query/v1/projects/${tenant.projectId}/threads/${thread_id}/`, {
        headers: { "X-API-KEY": tenant.apiKey },
      });
      const body = (await thread.json()) as { category: unknown };
      return body.category ? body : undefined;
    }, 30_000);
    expect(labelled.category).toMatchObject({ source: "classifier" });
  }, 60_000);
});

describe("a function that runs past its template timeout", () => {
  it("fails with Sandbox.Timedout, and its SQS message comes back until the DLQ takes it", async () => {
    const topology = topologyOf(stack);
    const [classifierId] = Object.entries(topology.functions).find(([, f]) => f.entry === "classifier") ?? [];
    const slow = structuredClone(topology);
    // The template says 1 s; the classifier takes 3 s per question here.
    (slow.functions[classifierId as string] as { timeoutSeconds: number }).timeoutSeconds = 1;
    const timed = await startWorld(stack, slow, "timeout", ses, {
      localEnv: { ...LOCAL, CLASSIFIER_DELAY_MS: "3000" },
      deviations: { visibilityTimeoutSeconds: 1 },
    });
    try {
      await expect(timed.world.pool.invoke(classifierId as string, { Records: [] })).resolves.toBeDefined();
      const tenant = await createTenant(db, "timeout");
      const [thread] = await db.execute<{ id: string }>(
        sql`insert into threads (project_id, first_question) values (${tenant.projectId}, 'How do I install it?') returning id`,
      );
      const record = {
        messageId: "m1",
        body: JSON.stringify({ threadId: thread?.id, projectId: tenant.projectId, reason: "new-thread" }),
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()) },
      };
      const slowEvent = { Records: [record] };
      await expect(timed.world.pool.invoke(classifierId as string, slowEvent)).rejects.toMatchObject({
        name: "Sandbox.Timedout",
        message: expect.stringMatching(/Task timed out after 1\.00 seconds/),
      });
      const live = topology.eventSources.find((m) => m.functionId === classifierId);
      const queue = live ? slow.queues[live.queueId] : undefined;
      await testSqs.send(
        new SendMessageCommand({
          QueueUrl: timed.world.queues.get(live?.queueId as string)?.url,
          MessageBody: JSON.stringify({ threadId: thread?.id, projectId: tenant.projectId, reason: "new-thread" }),
          MessageGroupId: tenant.projectId,
        }),
      );
      const dlqUrl = timed.world.queues.get(queue?.redrive?.deadLetterQueue as string)?.url;
      const deadLettered = await eventually(async () => {
        const out = await testSqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ["All"], WaitTimeSeconds: 1 }),
        );
        return out.Messages?.[0];
      }, 60_000);
      expect(Number(deadLettered.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(
        queue?.redrive?.maxReceiveCount as number,
      );
    } finally {
      await timed.gateway.close();
      await timed.world.stop();
    }
  }, 120_000);
});

describe("a binding removed in CDK", () => {
  it("fails the local call as it would fail in AWS: reclassify without the state machine's ARN answers 503", async () => {
    const tenant = await createTenant(db, "binding");
    const reclassify = (g: Gateway, t = tenant) =>
      fetch(`${g.url}/query/v1/projects/${t.projectId}/reclassify/`, {
        method: "POST",
        headers: { "X-API-KEY": t.apiKey },
        body: JSON.stringify({ scope: "classifier" }),
      });
    // With the template as it is, the job starts.
    expect((await reclassify(gateway)).status).toBe(202);

    const unbound = await synthesizeStack({}, (s) => {
      const fn = s.api.handlers.get("reclassify-start");
      if (!fn) throw new Error("no reclassify-start function");
      (fn.function.node.defaultChild as CfnFunction).addPropertyDeletionOverride(
        "Environment.Variables.BACKFILL_STATE_MACHINE_ARN",
      );
    });
    const other = await startWorld(unbound, topologyOf(unbound), "unbound", ses);
    try {
      // Another project: the first one's job still holds its slot (a second start would be a 409).
      const response = await reclassify(other.gateway, await createTenant(db, "unbound"));
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ detail: expect.stringContaining("BACKFILL_STATE_MACHINE_ARN") });
    } finally {
      await other.gateway.close();
      await other.world.stop();
    }
  }, 240_000);
});
