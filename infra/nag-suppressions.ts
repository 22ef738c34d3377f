import { type App, type CfnElement, Stack, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { routeList } from "../shared/http/routes.js";
import { KapaFunction } from "./constructs/lambda.js";
import type { KapaServiceStack } from "./stack.js";

/**
 * cdk-nag's AWS Solutions pack and the one list of its findings this stack acknowledges.
 *
 * `addNagChecks` runs the pack on every synth (`npm run synth`, `cdk deploy`): an unacknowledged
 * error or warning fails the synth. `acknowledgeNagFindings` is called by the stack itself, so the
 * app and the tests (test/infra/nag.test.ts) see the same acknowledgments. Each one names a rule
 * (or one finding of it: `Rule[finding]`), a scope as narrow as the finding, and why, in one line.
 */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

const ack = (scope: IConstruct, rule: string, reason: string) =>
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });

const managedPolicy = (name: string) => `IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;
/** "Invoke this function and its versions and aliases": the `<Arn>:*` CDK grants next to the ARN. */
const versionsOf = (fn: KapaFunction) =>
  `IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.function.node.defaultChild as CfnElement)}.Arn>:*]`;

export function acknowledgeNagFindings(stack: KapaServiceStack): void {
  acknowledgeFunctionFindings(stack);
  acknowledgeApiFindings(stack);
  acknowledgeDataFindings(stack);
}

function acknowledgeFunctionFindings(stack: KapaServiceStack): void {
  const { backfill, reports, classification, webhooks, settings } = stack;

  // Lambda functions ------------------------------------------------------------------------
  // Each function's role writes to its own log group only (no managed policy): only actions that
  // take no resource-level permissions are on *.
  for (const fn of stack.node.findAll().filter((c): c is KapaFunction => c instanceof KapaFunction)) {
    const onStar = [
      ...(fn.function.isBoundToVpc
        ? ["Lambda's network interface actions for a VPC function (ec2:CreateNetworkInterface...)"]
        : []),
      ...(settings.tracing ? ["active tracing's xray:PutTraceSegments and xray:PutTelemetryRecords"] : []),
    ];
    if (onStar.length > 0) {
      ack(fn, "IAM5[Resource::*]", `Actions that take no resource-level permissions: ${onStar.join("; ")}.`);
    }
  }
  // CDK's log-retention helper, which sets the retention of the cluster's exported postgresql log group.
  for (const helper of stack.node.children.filter((c) => c.node.id.startsWith("LogRetention"))) {
    ack(
      helper,
      managedPolicy("AWSLambdaBasicExecutionRole"),
      "CDK's own log-retention helper: CDK gives its role AWS's basic execution policy (logs on *); its log group is set (helper-logs.ts).",
    );
    ack(
      helper,
      "IAM5[Resource::*]",
      "CDK's log-retention helper sets retention on a log group RDS names and creates: logs:PutRetentionPolicy on *.",
    );
  }
  // Scheduler and Step Functions may invoke a function's versions and aliases too (CDK's grants).
  for (const fn of [
    classification.sweeper,
    reports.planner,
    backfill.plan,
    backfill.enqueueRange,
    webhooks.dispatcher,
  ]) {
    ack(
      stack,
      versionsOf(fn),
      "Invoke rights on this one function's versions and aliases (<Arn>:*), as CDK grants them.",
    );
  }

  for (const lost of [classification.sweeps.lostRuns, reports.plans.lostRuns, webhooks.dispatches.lostRuns]) {
    ack(
      lost.queue,
      "SQS3",
      "It is a dead-letter queue itself: of a Scheduler target and an asynchronous invocation's on-failure destination.",
    );
  }
  // The classifier's model through a cross-Region inference profile (constructs/bedrock-access.ts).
  for (const resource of classification.bedrock?.resources.filter((r) => r.includes(":bedrock:*:")) ?? []) {
    ack(
      classification.classifier,
      `IAM5[Resource::${resource.replace(/^arn:[^:]+:/, "arn:<AWS::Partition>:")}]`,
      "One foundation model in whichever Region of its inference profile's geography serves the call, and only through that profile (condition bedrock:InferenceProfileArn).",
    );
  }
}

function acknowledgeApiFindings(stack: KapaServiceStack): void {
  const { api, backfill } = stack;
  // API Gateway -----------------------------------------------------------------------------
  ack(
    api.restApi,
    "APIG2",
    "Requests are validated in the handlers by the zod schemas that also generate the OpenAPI document; a gateway validator would duplicate them with another error shape.",
  );
  if (!api.firewall) {
    ack(
      api.restApi,
      "APIG3",
      "kapa:waf is off here: abuse is bounded per key (usage plan) and per stage (throttling), and every data route needs a key.",
    );
  }
  ack(
    api.restApi,
    "COG4",
    "Callers are machines with project API keys (X-API-KEY) checked by a Lambda REQUEST authorizer; there are no Cognito users.",
  );
  ack(
    api.restApi,
    managedPolicy("AmazonAPIGatewayPushToCloudWatchLogs"),
    "The account-level role API Gateway needs to write the stage's logs; AWS's policy grants CloudWatch Logs only.",
  );
  for (const route of routeList.filter((r) => r.auth === "none")) {
    const method = api.restApi.methods.find((m) => m.httpMethod === route.method && m.resource.path === route.path);
    if (!method) throw new Error(`No API Gateway method for ${route.method} ${route.path}`);
    ack(
      method,
      "APIG4",
      "Public by design: the OpenAPI document and its Redoc page describe the API and return no data.",
    );
  }
  // Backfill jobs are read by execution ARN, known only at run time.
  const reclassifyStatus = api.handlers.get("reclassify-status");
  if (reclassifyStatus) {
    const machineId = stack.getLogicalId(backfill.stateMachine.node.defaultChild as CfnElement);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}:*`;
    ack(
      reclassifyStatus,
      `IAM5[Resource::${executions}]`,
      "states:DescribeExecution on the executions of the backfill state machine only; their ids exist only at run time.",
    );
  }
}

function acknowledgeDataFindings(stack: KapaServiceStack): void {
  const { api, database, backfill, exports, webhooks, settings } = stack;
  // Exports ---------------------------------------------------------------------------------
  ack(
    exports.bucket,
    "S1",
    "Short-lived export files, read only through presigned links the API signs per project; CloudTrail S3 data events are the audit trail where one is needed.",
  );
  const exportObjects = `IAM5[Resource::<${stack.getLogicalId(exports.bucket.node.defaultChild as CfnElement)}.Arn>/exports/*]`;
  const exportStatus = api.handlers.get("export-status");
  for (const fn of [exports.worker, ...(exportStatus ? [exportStatus] : [])]) {
    ack(
      fn,
      exportObjects,
      "The export objects only (exports/ prefix of the export bucket): their keys are random and exist only at run time.",
    );
  }

  // Database --------------------------------------------------------------------------------
  ack(
    database.cluster,
    "RDS6",
    "Clients authenticate to RDS Proxy (TLS required) with the Secrets Manager credentials; IAM auth would add a token call per connection and one role gains nothing.",
  );
  if (!settings.dbDeletionProtection) {
    ack(
      database.cluster,
      "RDS10",
      "Deletion protection follows kapa:dbDeletionProtection (off for disposable stacks, set it in production); a deletion still leaves a final snapshot.",
    );
  }
  if (settings.dbSecretRotationDays === 0) {
    for (const secret of [database.cluster.node.findChild("Secret"), database.node.findChild("AppSecret")]) {
      ack(
        secret,
        "SMG4",
        "Rotation turned off by kapa:dbSecretRotationDays=0 (LocalStack has no rotation application); the default rotates every 30 days.",
      );
    }
  }

  ack(
    webhooks.messageKey,
    "SMG4",
    "The webhook message key only seals signing secrets on the queues; replacing it by hand makes in-flight messages fail once and the recorder reseals them.",
  );

  // Backfill state machine ------------------------------------------------------------------
  ack(
    backfill.stateMachine,
    "SF1",
    "Logs at ERROR level (failures are alarmed); every state transition is in the execution history for 90 days, so ALL would only add cost.",
  );
  if (!settings.tracing) {
    ack(
      backfill.stateMachine,
      "SF2",
      "X-Ray follows kapa:tracing, off by default like the functions' and the stage's; turn it on to investigate.",
    );
  }
  ack(
    backfill.stateMachine,
    "IAM5[Resource::*]",
    "Step Functions' log delivery actions (logs:CreateLogDelivery and the like) take no resource-level permissions.",
  );
}
