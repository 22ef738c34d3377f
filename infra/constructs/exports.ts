import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import {
  EXPORT_QUEUE_SETTINGS,
  EXPORT_QUEUED_EXPIRY_SECONDS,
  EXPORT_RETENTION_DAYS,
  EXPORT_WORKER_MEMORY_MB,
  EXPORT_WORKER_TIMEOUT_SECONDS,
} from "../../shared/exports/queue.js";
import { EXPORT_KEY_PREFIX } from "../../shared/exports/service.js";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { KapaFunction } from "./lambda.js";
import { MAX_RECEIVE_COUNT, QueueConsumer } from "./queue-consumer.js";

/** The worker may take Lambda's longest timeout: a large project's export streams for minutes. */
export const EXPORT_WORKER_TIMEOUT = Duration.seconds(EXPORT_WORKER_TIMEOUT_SECONDS);

export interface ExportsProps {
  database: Database;
  settings: Pick<StackSettings, "logRetention" | "logLevel" | "tracing" | "exportUrlTtlSeconds">;
}

/**
 * Bulk exports of a project's threads (shared/exports/, docs/exports.md):
 *
 *     POST exports/ -> export-start: a thread_exports row, one message on the export queue
 *       -> export queue (DLQ after 5 receives, alarmed)
 *       -> export worker (event source mapping, batch 1, maxConcurrency 2): keyset pages of the
 *          project's threads streamed into an S3 multipart upload, under a random key
 *     GET exports/{id}/ -> export-status: the row, and a presigned GET of the object (1 h)
 *
 * The bucket is private (all public access blocked, TLS only, S3-managed encryption); objects
 * expire after EXPORT_RETENTION_DAYS and unfinished multipart uploads after a day. The worker
 * may only put objects under the export prefix, the status handler only read them (to sign the
 * links: a presigned URL carries its signer's permissions). Both reach S3 from the isolated
 * subnets through a gateway endpoint (no charge), and the database through RDS Proxy.
 */
export class Exports extends Construct {
  readonly bucket: s3.Bucket;
  readonly jobs: QueueConsumer;
  readonly worker: KapaFunction;
  readonly workerSource: SqsEventSource;
  readonly alarms: readonly cloudwatch.Alarm[];
  private readonly urlTtlSeconds: number;

  constructor(scope: Construct, id: string, props: ExportsProps) {
    super(scope, id);
    const { database, settings } = props;
    if (EXPORT_QUEUE_SETTINGS.maxReceiveCount !== MAX_RECEIVE_COUNT) {
      throw new Error("The export queue's maxReceiveCount must be the shared queue construct's MAX_RECEIVE_COUNT");
    }
    this.urlTtlSeconds = settings.exportUrlTtlSeconds;

    this.bucket = new s3.Bucket(this, "Bucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          id: "ExpireExports",
          expiration: Duration.days(EXPORT_RETENTION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Kept on stack deletion: CloudFormation cannot delete a bucket with objects; they expire anyway.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html (gateway endpoints: no charge)
    database.vpc.addGatewayEndpoint("S3", {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });

    this.worker = new KapaFunction(this, "Worker", {
      entry: "export-worker",
      description: "Streams one export of a project's threads into S3 (SQS event source)",
      settings: { logRetention: settings.logRetention, logLevel: settings.logLevel, tracing: settings.tracing },
      memorySize: EXPORT_WORKER_MEMORY_MB,
      timeout: EXPORT_WORKER_TIMEOUT,
      network: database.functionNetwork,
      environment: { EXPORT_BUCKET: this.bucket.bucketName },
    });
    database.bindTo(this.worker.function);
    this.worker.function.addToRolePolicy(
      new iam.PolicyStatement({
        // s3:PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
        actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
        resources: [this.bucket.arnForObjects(`${EXPORT_KEY_PREFIX}*`)],
      }),
    );
    this.jobs = new QueueConsumer(this, "Jobs", {
      purpose: "Thread exports",
      consumer: this.worker,
      batchSize: EXPORT_QUEUE_SETTINGS.batchSize,
      maxConcurrency: EXPORT_QUEUE_SETTINGS.maxConcurrency,
      ageAlarmThreshold: Duration.minutes(30),
      // A queued export expires with its message (EXPORT_QUEUED_EXPIRY_SECONDS): one clock for both.
      retentionPeriod: Duration.seconds(EXPORT_QUEUED_EXPIRY_SECONDS),
    });
    this.workerSource = this.jobs.source;
    this.alarms = this.jobs.alarms;
  }

  /** Lets a function start exports: sqs:SendMessage on the export queue, and its URL. */
  bindStarter(fn: KapaFunction): void {
    this.jobs.queue.grantSendMessages(fn.function);
    fn.addEnvironment("EXPORT_QUEUE_URL", this.jobs.queue.queueUrl);
  }

  /** Lets a function sign download links: s3:GetObject on the exports, the bucket and the links' lifetime. */
  bindReader(fn: KapaFunction): void {
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [this.bucket.arnForObjects(`${EXPORT_KEY_PREFIX}*`)],
      }),
    );
    fn.addEnvironment("EXPORT_BUCKET", this.bucket.bucketName);
    fn.addEnvironment("EXPORT_URL_TTL_SECONDS", String(this.urlTtlSeconds));
  }
}
