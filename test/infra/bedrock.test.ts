import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { DEFAULT_BEDROCK_MODEL_ID } from "../../shared/classification/bedrock/model-id.js";
import { asArray, resourcesIn, type Statement, synth } from "./support.js";

/** The statements of every role that allow a Bedrock action, by function logical id. */
function bedrockStatements(stack: ReturnType<typeof synth>): Map<string, Statement[]> {
  const byFunction = new Map<string, Statement[]>();
  for (const fnId of resourcesIn(stack.template, "AWS::Lambda::Function").keys()) {
    const statements = stack
      .statementsOfRole(stack.roleIdOf(fnId))
      .filter((s) => asArray(s.Action).some((a) => /^bedrock:|^\*$/.test(String(a))));
    if (statements.length > 0) byFunction.set(fnId, statements);
  }
  return byFunction;
}

const bedrockEndpoints = (stack: ReturnType<typeof synth>) =>
  [...resourcesIn(stack.template, "AWS::EC2::VPCEndpoint").values()].filter((e) =>
    JSON.stringify(e.Properties?.ServiceName).includes("bedrock-runtime"),
  );

/** An ARN as CloudFormation renders `arn:${partition}:bedrock:${region}:${account}:...` with the stack's tokens. */
const arn = (region: "stack" | "*", account: boolean, rest: string) => ({
  "Fn::Join": [
    "",
    region === "*"
      ? ["arn:", { Ref: "AWS::Partition" }, `:bedrock:*::${rest}`]
      : [
          "arn:",
          { Ref: "AWS::Partition" },
          ":bedrock:",
          { Ref: "AWS::Region" },
          ...(account ? [":", { Ref: "AWS::AccountId" }, `:${rest}`] : [`::${rest}`]),
        ],
  ],
});

// Synthesised once each, outside the tests (a synth takes seconds).
const local = synth();
const bedrock = synth({ "kapa:classifier": "bedrock" });
const FOUNDATION_MODEL = "anthropic.claude-3-haiku-20240307-v1:0";
const foundation = synth({ "kapa:classifier": "bedrock", "kapa:classifierModel": FOUNDATION_MODEL });

describe("the classifier provider setting (kapa:classifier)", () => {
  it("local, the default: the classifier is told so, and nothing may call Bedrock", () => {
    const stack = local;
    const classifierId = stack.fnId(stack.stack.classification.classifier);
    expect(stack.envOf(classifierId)).toMatchObject({ CLASSIFIER_PROVIDER: "local" });
    expect(stack.envOf(classifierId).CLASSIFIER_MODEL_ID).toBeUndefined();
    expect(bedrockStatements(stack)).toEqual(new Map());
    expect(bedrockEndpoints(stack)).toEqual([]);
  });

  it("bedrock: the classifier alone may invoke its model, through the inference profile only, via a VPC endpoint", () => {
    const stack = bedrock;
    const classifierId = stack.fnId(stack.stack.classification.classifier);
    expect(stack.envOf(classifierId)).toMatchObject({
      CLASSIFIER_PROVIDER: "bedrock",
      CLASSIFIER_MODEL_ID: DEFAULT_BEDROCK_MODEL_ID,
    });
    const profile = arn("stack", true, `inference-profile/${DEFAULT_BEDROCK_MODEL_ID}`);
    const statements = bedrockStatements(stack);
    expect([...statements.keys()]).toEqual([classifierId]);
    expect(statements.get(classifierId)).toEqual([
      { Effect: "Allow", Action: "bedrock:InvokeModel", Resource: profile },
      {
        Effect: "Allow",
        Action: "bedrock:InvokeModel",
        Resource: arn("*", false, "foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"),
        Condition: { StringEquals: { "bedrock:InferenceProfileArn": profile } },
      },
    ]);
    expect(bedrockEndpoints(stack)).toHaveLength(1);
    // The grant's wildcard Region is acknowledged with its reason; nothing else is left to cdk-nag.
    const violations = new AwsSolutionsChecks().validateScope(stack.stack).violations;
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("bedrock with a foundation model id: that model in the stack's Region, nothing more", () => {
    const model = FOUNDATION_MODEL;
    const stack = foundation;
    const classifierId = stack.fnId(stack.stack.classification.classifier);
    expect(stack.envOf(classifierId)).toMatchObject({ CLASSIFIER_MODEL_ID: model });
    expect(bedrockStatements(stack).get(classifierId)).toEqual([
      { Effect: "Allow", Action: "bedrock:InvokeModel", Resource: arn("stack", false, `foundation-model/${model}`) },
    ]);
  });

  it("refuses a provider or model id that does not exist", () => {
    expect(() => synth({ "kapa:classifier": "openai" })).toThrow(/kapa:classifier: expected/);
    expect(() => synth({ "kapa:classifier": "bedrock", "kapa:classifierModel": "Claude Haiku" })).toThrow(
      /kapa:classifierModel: expected/,
    );
  });
});
