import { CfnResource, RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { KapaFunction } from "./lambda.js";

/**
 * CDK's own helper functions (the log-retention setter, the custom resource providers behind the
 * migrations' trigger and the VPC's default security group) would log to a group Lambda creates
 * on first use, kept forever. Each gets a log group of this stack, with the stack's retention,
 * through its LoggingConfig: the function depends on the group, so it exists before the first
 * line. Create it once every other construct of the stack exists.
 */
export class HelperLogs extends Construct {
  /** The helper function's logical id -> its log group. */
  readonly logGroups = new Map<string, logs.LogGroup>();

  constructor(stack: Stack, id: string, props: { retention: logs.RetentionDays }) {
    super(stack, id);
    const all = stack.node.findAll();
    const own = new Set(
      all.filter((c): c is KapaFunction => c instanceof KapaFunction).map((f) => f.function.node.defaultChild),
    );
    const helpers = all.filter(
      (c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === "AWS::Lambda::Function" && !own.has(c),
    );
    for (const fn of helpers) {
      const logicalId = stack.getLogicalId(fn);
      const group = new logs.LogGroup(this, logicalId, {
        retention: props.retention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      fn.addPropertyOverride("LoggingConfig.LogGroup", group.logGroupName);
      this.logGroups.set(logicalId, group);
    }
  }
}
