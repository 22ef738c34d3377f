import { Arn, Duration, Stack, TimeZone } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as ses from "aws-cdk-lib/aws-ses";
import { Construct } from "constructs";
import { DEFAULT_REPORT_CLAIM_LEASE_SECONDS } from "../../shared/reports/config.js";
import { REPORT_QUEUE_SETTINGS } from "../../shared/reports/queue.js";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { LostRunsQueue, type ScheduledRuns } from "./dead-letters.js";
import { KapaFunction } from "./lambda.js";
import { QueueConsumer } from "./queue-consumer.js";

/** One invocation sends a few teams' reports (each to all its users, a few emails at a time). */
export const REPORT_SENDER_TIMEOUT = Duration.minutes(2);
/** The planner pages through every team; it enqueues a thousand teams in a few seconds. */
export const REPORT_PLANNER_TIMEOUT = Duration.minutes(5);

export interface ReportsProps {
  database: Database;
  settings: Pick<
    StackSettings,
    "logRetention" | "logLevel" | "tracing" | "reportSchedule" | "reportTimeZone" | "reportSender" | "sesMaxSendRate"
  >;
}

/**
 * The weekly usage reports:
 *
 *     EventBridge Scheduler (kapa:reportSchedule, kapa:reportTimeZone)
 *       -> planner Lambda: one message per team (keyset pages, SendMessageBatch)
 *       -> report queue (DLQ after 5 receives, alarmed)
 *       -> sender Lambda (event source mapping, partial batch failures) -> SES -> each user
 *
 * Each team is its own message, so one team's failure is retried (and dead-lettered) on its own.
 * Exactly-once per (team, period) is the database's job (report_runs, shared/reports/repository.ts).
 *
 * The sender may send as the configured address only: `ses:SendEmail`/`ses:SendRawEmail` on that
 * one identity, which this creates (SES mails the address a verification link on deploy; while
 * the account is in the SES sandbox, recipients must be verified too). Both functions run in the
 * database network and reach SQS and SES through interface endpoints.
 */
export class Reports extends Construct {
  readonly jobs: QueueConsumer;
  readonly planner: KapaFunction;
  readonly sender: KapaFunction;
  /** The weekly schedule, and the planner runs it could not start or that failed after Lambda's retries. */
  readonly plans: ScheduledRuns;
  readonly identity: ses.EmailIdentity;
  /** Every report is sent with it: bounce and complaint events, and their suppression. */
  readonly configurationSet: ses.ConfigurationSet;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReportsProps) {
    super(scope, id);
    const { database, settings } = props;
    sharedInterfaceEndpoint(database, "Sqs", ec2.InterfaceVpcEndpointAwsService.SQS);
    sharedInterfaceEndpoint(database, "Ses", ec2.InterfaceVpcEndpointAwsService.EMAIL);

    this.sender = new KapaFunction(this, "Sender", {
      entry: "report-sender",
      description: "Sends one team's usage report to each of its users, once per period (SQS event source)",
      settings,
      memorySize: 512,
      timeout: REPORT_SENDER_TIMEOUT,
      network: database.functionNetwork,
      environment: {
        REPORT_SENDER: settings.reportSender,
        REPORT_CLAIM_LEASE_SECONDS: String(DEFAULT_REPORT_CLAIM_LEASE_SECONDS),
        // Each of the sender's concurrent environments paces itself to its share of the account's rate.
        SES_MAX_SEND_RATE: String(settings.sesMaxSendRate / REPORT_QUEUE_SETTINGS.maxConcurrency),
      },
    });
    database.bindTo(this.sender.function);
    this.jobs = new QueueConsumer(this, "Jobs", {
      purpose: "Usage reports",
      consumer: this.sender,
      batchSize: REPORT_QUEUE_SETTINGS.batchSize,
      maxConcurrency: REPORT_QUEUE_SETTINGS.maxConcurrency,
      // Thousands of teams take a while at the sender's low concurrency; hours means stuck.
      ageAlarmThreshold: Duration.hours(3),
    });
    const lostRuns = new LostRunsQueue(this, "LostRuns", { purpose: "Report planner" });
    this.alarms = [...this.jobs.alarms, lostRuns.alarm];
    assertClaimLeaseFits(this.sender);

    this.planner = new KapaFunction(this, "Planner", {
      entry: "report-planner",
      description: "Plans the usage reports: one message per team on the report queue (EventBridge Scheduler)",
      settings,
      memorySize: 512,
      timeout: REPORT_PLANNER_TIMEOUT,
      network: database.functionNetwork,
      environment: { REPORT_QUEUE_URL: this.jobs.queue.queueUrl },
    });
    database.bindTo(this.planner.function);
    this.jobs.queue.grantSendMessages(this.planner.function);
    // Scheduler invokes the planner asynchronously: a run that still fails after Lambda's two
    // retries is kept, with its scheduledTime, on the lost-runs queue (and alarmed).
    this.planner.function.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new SqsDestination(lostRuns.queue),
    });

    this.identity = new ses.EmailIdentity(this, "SenderIdentity", {
      identity: ses.Identity.email(settings.reportSender),
    });
    this.identity.grantSendEmail(this.sender.function);
    this.configurationSet = emailFeedback(this);
    this.allowSendingWith(this.configurationSet);
    this.plans = { schedule: this.weeklySchedule(settings, lostRuns), lostRuns };
  }

  /** Sending with a configuration set is authorized on the set too. */
  private allowSendingWith(configurationSet: ses.ConfigurationSet): void {
    this.sender.addEnvironment("SES_CONFIGURATION_SET", configurationSet.configurationSetName);
    this.sender.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ses:SendEmail", "ses:SendRawEmail"],
        resources: [
          Arn.format(
            { service: "ses", resource: "configuration-set", resourceName: configurationSet.configurationSetName },
            Stack.of(this),
          ),
        ],
      }),
    );
  }

  /** The target creates the schedule's role, allowed lambda:InvokeFunction on the planner only. */
  private weeklySchedule(settings: ReportsProps["settings"], lostRuns: LostRunsQueue): scheduler.Schedule {
    return new scheduler.Schedule(this, "Schedule", {
      description: "Usage reports: plan one job per team for the last complete week",
      schedule: scheduler.ScheduleExpression.expression(settings.reportSchedule, TimeZone.of(settings.reportTimeZone)),
      target: new LambdaInvoke(this.planner.function, {
        // The planner reports on the week before the scheduled time, even when a retry runs late.
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: lostRuns.queue,
      }),
    });
  }
}

/**
 * A sender holds a run's claim for at most its timeout; a claim older than the lease is taken
 * over, and a job comes back only after the visibility timeout, by when the lease has run out.
 */
function assertClaimLeaseFits(sender: KapaFunction): void {
  const visibility = QueueConsumer.visibilityTimeoutFor(sender).toSeconds();
  if (
    !(
      REPORT_SENDER_TIMEOUT.toSeconds() < DEFAULT_REPORT_CLAIM_LEASE_SECONDS &&
      DEFAULT_REPORT_CLAIM_LEASE_SECONDS < visibility
    )
  ) {
    throw new Error("Expected sender timeout < claim lease < visibility timeout");
  }
}

/**
 * The reports' SES configuration set: addresses that hard-bounce or complain are put on the
 * suppression list and SES sends them nothing more (configuration-set suppression options:
 * https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list-config-level.html), and
 * bounce and complaint events go to the account's default EventBridge bus (source `aws.ses`,
 * https://docs.aws.amazon.com/ses/latest/dg/monitor-using-event-publishing.html), where a rule can
 * route them. The account's reputation is alarmed on in constructs/health.ts.
 */
function emailFeedback(scope: Construct): ses.ConfigurationSet {
  const configurationSet = new ses.ConfigurationSet(scope, "ConfigurationSet", {
    suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    reputationMetrics: true,
  });
  configurationSet.addEventDestination("BouncesAndComplaints", {
    destination: ses.EventDestination.eventBus(events.EventBus.fromEventBusName(scope, "DefaultBus", "default")),
    events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
  });
  return configurationSet;
}

/**
 * The database network's interface endpoint for a service: the one another construct made (the
 * classification construct makes SQS's), or a new one. Two endpoints with private DNS for one
 * service cannot coexist in a VPC.
 */
function sharedInterfaceEndpoint(
  database: Database,
  id: string,
  service: ec2.InterfaceVpcEndpointAwsService,
): ec2.InterfaceVpcEndpoint {
  const stack = Stack.of(database);
  const wanted = JSON.stringify(stack.resolve(service.name));
  const existing = database.vpc.node.children.find(
    (child): child is ec2.InterfaceVpcEndpoint =>
      child instanceof ec2.InterfaceVpcEndpoint &&
      JSON.stringify(stack.resolve((child.node.defaultChild as ec2.CfnVPCEndpoint).serviceName)) === wanted,
  );
  return existing ?? database.addInterfaceEndpoint(id, service);
}
