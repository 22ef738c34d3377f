import { describe, expect, it } from "vitest";
import { EXPORT_WORKER_TIMEOUT } from "../../infra/constructs/exports.js";
import { EXPORT_QUEUED_EXPIRY_SECONDS, EXPORT_RETENTION_DAYS } from "../../shared/exports/queue.js";
import { asArray, mentions, only, props, type Statement, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const defaultStack = synth();
const { stack, template, idOf, fnId, resourcesOf, envOf, propsMentioning } = defaultStack;
const { roleIdOf, statementsOfRole, identityStatements } = defaultStack;
const { exports, api } = stack;
const bucketId = idOf(exports.bucket);
const queueId = idOf(exports.jobs.queue);
const dlqId = idOf(exports.jobs.deadLetterQueue);
const workerId = fnId(exports.worker);
const handlerId = (name: string) => {
  const fn = api.handlers.get(name);
  if (!fn) throw new Error(`no ${name} handler`);
  return fnId(fn);
};
const startId = handlerId("export-start");
const statusId = handlerId("export-status");
const functions = resourcesOf("AWS::Lambda::Function");
const bucket = props(resourcesOf("AWS::S3::Bucket").get(bucketId));
const s3Actions = (statements: Statement[]) =>
  statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith("s3:") || a === "*");

// Assess -------------------------------------------------------------------------------------

describe("export bucket", () => {
  it("is encrypted, private, and kept with its objects when the stack goes", () => {
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
    expect(template.toJSON().Resources[bucketId].DeletionPolicy).toBe("Retain");
  });

  it("expires exports and abandoned multipart uploads", () => {
    const rules = (bucket.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        Status: "Enabled",
        ExpirationInDays: EXPORT_RETENTION_DAYS,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
  });

  it("refuses requests without TLS", () => {
    const policy = only(
      [...resourcesOf("AWS::S3::BucketPolicy").values()].map(props).filter((p) => mentions(p.Bucket, bucketId)),
      "policy of the export bucket",
    );
    expect((policy.PolicyDocument as { Statement: Statement[] }).Statement).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  it("is reached from the isolated subnets through an S3 gateway endpoint", () => {
    const endpoints = [...resourcesOf("AWS::EC2::VPCEndpoint").values()].map(props);
    const s3 = only(
      endpoints.filter((e) => JSON.stringify(e.ServiceName).includes(".s3")),
      "S3 endpoint",
    );
    expect(s3.VpcEndpointType).toBe("Gateway");
  });
});

describe("export worker", () => {
  it("consumes the export queue one job at a time, two at once, reporting failed messages", () => {
    const mapping = only(
      [...resourcesOf("AWS::Lambda::EventSourceMapping").values()]
        .map(props)
        .filter((m) => mentions(m.FunctionName, workerId)),
      "event source of the worker",
    );
    expect(mentions(mapping.EventSourceArn, queueId)).toBe(true);
    expect(mapping).toMatchObject({
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("runs up to Lambda's longest timeout, and the queue hides a job for 6 x that, then dead-letters it", () => {
    expect(props(functions.get(workerId)).Timeout).toBe(EXPORT_WORKER_TIMEOUT.toSeconds());
    const queue = props(resourcesOf("AWS::SQS::Queue").get(queueId));
    expect(queue.VisibilityTimeout).toBe(6 * EXPORT_WORKER_TIMEOUT.toSeconds());
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 });
    expect(queue.SqsManagedSseEnabled).toBe(true);
    // A queued export expires with its message: it can wait all its receives, then dead-letter.
    expect(queue.MessageRetentionPeriod).toBe(EXPORT_QUEUED_EXPIRY_SECONDS);
    expect(EXPORT_QUEUED_EXPIRY_SECONDS).toBeGreaterThan(5 * Number(queue.VisibilityTimeout));
    expect(props(resourcesOf("AWS::SQS::Queue").get(dlqId)).MessageRetentionPeriod).toBeGreaterThan(
      EXPORT_QUEUED_EXPIRY_SECONDS,
    );
  });

  it("writes the export objects and nothing else in S3, and knows the bucket", () => {
    expect(envOf(workerId).EXPORT_BUCKET).toEqual({ Ref: bucketId });
    const statements = statementsOfRole(roleIdOf(workerId)).filter((s) => s3Actions([s]).length > 0);
    expect(statements).toHaveLength(1);
    const [statement] = statements as [Statement];
    expect(asArray(statement.Action).sort()).toEqual(["s3:AbortMultipartUpload", "s3:PutObject"]);
    expect(statement.Resource).toEqual({ "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/exports/*"]] });
  });

  it("is deployed after the migrations", () => {
    const worker = template.toJSON().Resources[workerId] as { DependsOn?: string[] };
    expect((worker.DependsOn ?? []).some((d) => d.startsWith("Migrations"))).toBe(true);
  });
});

describe("export routes", () => {
  it("export-start may send to the export queue, and has its URL", () => {
    expect(envOf(startId).EXPORT_QUEUE_URL).toEqual({ Ref: queueId });
    const sends = statementsOfRole(roleIdOf(startId)).filter((s) => asArray(s.Action).includes("sqs:SendMessage"));
    expect(sends.some((s) => mentions(s.Resource, queueId))).toBe(true);
    expect(s3Actions(statementsOfRole(roleIdOf(startId)))).toEqual([]);
  });

  it("export-status may read the export objects only (to sign links), with the bucket and the links' lifetime", () => {
    const env = envOf(statusId);
    expect(env.EXPORT_BUCKET).toEqual({ Ref: bucketId });
    expect(env.EXPORT_URL_TTL_SECONDS).toBe("3600");
    const statements = statementsOfRole(roleIdOf(statusId)).filter((s) => s3Actions([s]).length > 0);
    expect(statements.map((s) => [asArray(s.Action), s.Resource])).toEqual([
      [["s3:GetObject"], { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/exports/*"]] }],
    ]);
    const custom = synth({ "kapa:exportUrlTtlSeconds": 600 });
    const customStatus = custom.stack.api.handlers.get("export-status");
    if (!customStatus) throw new Error("no export-status handler");
    expect(custom.envOf(custom.fnId(customStatus)).EXPORT_URL_TTL_SECONDS).toBe("600");
    expect(() => synth({ "kapa:exportUrlTtlSeconds": 30 * 86_400 })).toThrow(/kapa:exportUrlTtlSeconds/);
  });

  it("no other role touches the export bucket", () => {
    const allowed = new Set([roleIdOf(workerId), roleIdOf(statusId)]);
    for (const { roles, statement } of identityStatements()) {
      if (!mentions(statement.Resource, bucketId)) continue;
      for (const role of roles) expect(allowed.has(role), role).toBe(true);
    }
  });
});

describe("export alarms", () => {
  it("alarm on a dead-lettered job, and notify the alarm topic", () => {
    const dlqAlarm = propsMentioning("AWS::CloudWatch::Alarm", "Dimensions", dlqId, "alarm on the export DLQ");
    expect(dlqAlarm.MetricName).toBe("ApproximateNumberOfMessagesVisible");
    expect((dlqAlarm.AlarmActions as unknown[]).length).toBeGreaterThan(0);
  });
});
