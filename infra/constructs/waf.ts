import type * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { API_KEY_SHAPE } from "../../shared/auth/key-format.js";
import type { StackSettings } from "../settings.js";

/**
 * AWS WAF on the API stage. WAF evaluates a request before API Gateway's own access control
 * (its Lambda authorizers), so a request it blocks never reaches the authorizer, the stage's
 * throttling or the usage plan (docs/architecture.md cites the page). The rules, in order:
 *
 * 1. `KeylessPerIp`: requests without an X-API-KEY, per source IP.
 * 2. `MalformedKeyPerIp`: requests whose X-API-KEY cannot be one of our keys (API_KEY_SHAPE), per IP.
 * 3. `PerApiKey` (kapa:wafPerKeyLimit > 0): well-formed keys, per key value (custom aggregation key).
 *
 * Each blocks over its limit per window with 429, `Retry-After` and a `{"detail"}` body, as API
 * Gateway's own throttling answers. Sampled requests are off: they would store the key header.
 */

/** The header as WAF names it (single-header matches are case-insensitive on the name). */
const KEY_HEADER = "x-api-key";
/** The custom response body of the rate rules (a key of the web ACL's CustomResponseBodies). */
export const WAF_THROTTLED_BODY = "TooManyRequests";
export const WAF_THROTTLED_DETAIL = "Too many requests";
export const WAF_RULE_NAMES = ["KeylessPerIp", "MalformedKeyPerIp", "PerApiKey"] as const;

const NONE = [{ priority: 0, type: "NONE" }];
const keyHeader = { singleHeader: { Name: KEY_HEADER } };

/** The request carries a non-empty X-API-KEY (a missing header matches no match statement). */
const hasKey: wafv2.CfnWebACL.StatementProperty = {
  sizeConstraintStatement: { fieldToMatch: keyHeader, comparisonOperator: "GT", size: 0, textTransformations: NONE },
};
/** Its X-API-KEY has the shape of our keys. */
const wellFormedKey: wafv2.CfnWebACL.StatementProperty = {
  regexMatchStatement: { fieldToMatch: keyHeader, regexString: API_KEY_SHAPE, textTransformations: NONE },
};
const not = (statement: wafv2.CfnWebACL.StatementProperty) => ({ notStatement: { statement } });

export interface ApiFirewallProps {
  stage: apigateway.Stage;
  settings: StackSettings;
}

export class ApiFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const { settings } = props;
    const window = settings.wafWindowSeconds;
    const block: wafv2.CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: WAF_THROTTLED_BODY,
          // WAF blocks while the address's count over the last window stays above the limit.
          responseHeaders: [{ name: "Retry-After", value: String(window) }],
        },
      },
    };
    const rule = (
      priority: number,
      rateBasedStatement: wafv2.CfnWebACL.RateBasedStatementProperty,
    ): wafv2.CfnWebACL.RuleProperty => {
      const name = WAF_RULE_NAMES[priority] as string;
      return {
        name,
        priority,
        action: block,
        statement: { rateBasedStatement: { evaluationWindowSec: window, ...rateBasedStatement } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: false },
      };
    };
    const rules = [
      rule(0, { limit: settings.wafKeylessLimit, aggregateKeyType: "IP", scopeDownStatement: not(hasKey) }),
      rule(1, {
        limit: settings.wafKeylessLimit,
        aggregateKeyType: "IP",
        scopeDownStatement: { andStatement: { statements: [hasKey, not(wellFormedKey)] } },
      }),
    ];
    if (settings.wafPerKeyLimit > 0) {
      rules.push(
        rule(2, {
          limit: settings.wafPerKeyLimit,
          aggregateKeyType: "CUSTOM_KEYS",
          customKeys: [{ header: { name: KEY_HEADER, textTransformations: NONE } }],
          scopeDownStatement: wellFormedKey,
        }),
      );
    }
    this.webAcl = new wafv2.CfnWebACL(this, "WebAcl", {
      scope: "REGIONAL",
      description: "Rate limits: keyless and malformed-key requests per IP, and per API key",
      defaultAction: { allow: {} },
      customResponseBodies: {
        [WAF_THROTTLED_BODY]: {
          contentType: "APPLICATION_JSON",
          content: JSON.stringify({ detail: WAF_THROTTLED_DETAIL }),
        },
      },
      rules,
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: "KapaApi", sampledRequestsEnabled: false },
    });
    const association = new wafv2.CfnWebACLAssociation(this, "StageAssociation", {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    // The ARN is formatted from the stage's name: the stage must exist first.
    association.node.addDependency(props.stage);
  }
}
