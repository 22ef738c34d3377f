import { Duration } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { DELIVERY_TIMEOUT_MS, DISABLE_AFTER_CONSECUTIVE_FAILURES } from "../../shared/webhooks/model.js";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { rateSchedule, type ScheduledRuns } from "./dead-letters.js";
import { KapaFunction } from "./lambda.js";
import { QueueConsumer } from "./queue-consumer.js";

/**
 * The dispatcher runs every minute and polls the outbox for longer than that: each run overlaps
 * the next by DISPATCH_OVERLAP (claims skip each other's rows), so there is no second of the
 * minute without a poller (a late schedule or a cold start included).
 */
export const DISPATCH_INTERVAL = Duration.minutes(1);
export const DISPATCH_OVERLAP = Duration.seconds(15);
export const DISPATCH_WINDOW = DISPATCH_INTERVAL.plus(DISPATCH_OVERLAP);
/**
 * Deliveries in flight at most: sender invocations (the mapping's cap) x messages each. One
 * message an invocation: an invocation lasts as long as its slowest POST, so a hanging endpoint
 * holds only its own deliveries' slots (for the timeout), never a batch of other endpoints'.
 */
export const SENDER_MAX_CONCURRENCY = 100;
export const SENDER_BATCH_SIZE = 1;
/** A batch's POSTs run in parallel, each cut at 5 s; the rest is sending their outcomes. */
export const SENDER_TIMEOUT = Duration.seconds(Math.ceil(DELIVERY_TIMEOUT_MS / 1000) + 15);
export const RECORDER_MAX_CONCURRENCY = 2;
/** Alarm when a delivery or an outcome waits longer than this in its queue. */
export const WEBHOOK_QUEUE_AGE_ALARM = Duration.minutes(5);

export interface WebhooksProps {
  database: Database;
  settings: Pick<StackSettings, "logRetention" | "logLevel" | "tracing">;
}

/**
 * Webhook delivery (shared/webhooks/): the outbox in Postgres, a dispatcher that moves its
 * events to the delivery queue (one message per event and endpoint, grouped by project), the
 * sender that POSTs each one signed, and the recorder that writes the outcomes down and
 * schedules retries.
 *
 * The sender runs outside the VPC: the VPC has no route to the internet (constructs/database.ts),
 * and the sender needs one, and nothing else: no database, no secret; it may send to the two
 * queues and is invoked by its event source mapping, capped at SENDER_MAX_CONCURRENCY. The
 * dispatcher and the recorder run in the database network (the SQS interface endpoint of the
 * classification construct reaches the queues from there).
 */
export class Webhooks extends Construct {
  readonly dispatcher: KapaFunction;
  readonly sender: KapaFunction;
  readonly recorder: KapaFunction;
  readonly deliveries: QueueConsumer;
  readonly results: QueueConsumer;
  /** Seals the endpoints' signing secrets in the delivery messages (shared/webhooks/message-seal.ts). */
  readonly messageKey: secretsmanager.Secret;
  readonly dispatches: ScheduledRuns;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const { database, settings } = props;
    this.messageKey = new secretsmanager.Secret(this, "MessageKey", {
      description: "Seals webhook signing secrets in delivery messages (read by the dispatcher, recorder, API, sender)",
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });

    this.sender = new KapaFunction(this, "Sender", {
      entry: "webhook-sender",
      description: "POSTs signed webhook deliveries to customers' endpoints (outside the VPC, no database)",
      settings,
      memorySize: 512,
      timeout: SENDER_TIMEOUT,
    });
    this.deliveries = new QueueConsumer(this, "Deliveries", {
      purpose: "Webhook deliveries",
      consumer: this.sender,
      batchSize: SENDER_BATCH_SIZE,
      maxConcurrency: SENDER_MAX_CONCURRENCY,
      ageAlarmThreshold: WEBHOOK_QUEUE_AGE_ALARM,
    });

    this.recorder = new KapaFunction(this, "Recorder", {
      entry: "webhook-recorder",
      description: "Logs webhook attempts, counts failures, disables endpoints, schedules retries",
      settings,
      memorySize: 512,
      timeout: Duration.seconds(30),
      network: database.functionNetwork,
      environment: {
        WEBHOOK_RETRY_SCALE: "1",
        WEBHOOK_DISABLE_AFTER: String(DISABLE_AFTER_CONSECUTIVE_FAILURES),
      },
    });
    database.bindTo(this.recorder.function);
    this.results = new QueueConsumer(this, "Results", {
      purpose: "Webhook attempt outcomes",
      consumer: this.recorder,
      batchSize: 10,
      maxConcurrency: RECORDER_MAX_CONCURRENCY,
      ageAlarmThreshold: WEBHOOK_QUEUE_AGE_ALARM,
    });

    this.dispatcher = new KapaFunction(this, "Dispatcher", {
      entry: "webhook-dispatcher",
      description: "Moves webhook events from the outbox to the delivery queue (EventBridge Scheduler)",
      settings,
      memorySize: 512,
      timeout: DISPATCH_WINDOW.plus(Duration.seconds(15)),
      network: database.functionNetwork,
      environment: { WEBHOOK_DISPATCH_WINDOW_SECONDS: String(DISPATCH_WINDOW.toSeconds()) },
    });
    database.bindTo(this.dispatcher.function);
    // A run that failed is not retried: the next minute's run claims what it left.
    this.dispatches = rateSchedule(this, {
      scheduleId: "DispatchSchedule",
      lostRunsId: "DispatcherLostRuns",
      purpose: "Webhook dispatcher schedule",
      description: "Move webhook events from the outbox to the delivery queue",
      fn: this.dispatcher,
      interval: DISPATCH_INTERVAL,
    });

    for (const fn of [this.dispatcher, this.recorder, this.sender]) this.bindDeliverySender(fn);
    this.results.queue.grantSendMessages(this.sender.function);
    this.sender.addEnvironment("WEBHOOK_RESULTS_QUEUE_URL", this.results.queue.queueUrl);
    this.alarms = [...this.deliveries.alarms, ...this.results.alarms, this.dispatches.lostRuns.alarm];
  }

  /**
   * Lets a function send deliveries (the API's redeliver): sqs:SendMessage on the delivery queue
   * only, and its URL; and read the message key, which seals what it sends (and, for the sender,
   * opens what it receives). VPC functions reach Secrets Manager through the database's endpoint.
   */
  bindDeliverySender(fn: KapaFunction): void {
    this.deliveries.queue.grantSendMessages(fn.function);
    fn.addEnvironment("WEBHOOK_QUEUE_URL", this.deliveries.queue.queueUrl);
    this.messageKey.grantRead(fn.function);
    fn.addEnvironment("WEBHOOK_MESSAGE_KEY_SECRET_ARN", this.messageKey.secretArn);
    // Public addresses only; the local world (and only it) turns loopback on.
    fn.addEnvironment("WEBHOOK_ALLOW_LOOPBACK", "false");
  }
}
