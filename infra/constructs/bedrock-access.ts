import { Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { bedrockModelRef } from "../../shared/classification/bedrock/model-id.js";
import type { Database } from "./database.js";
import type { KapaFunction } from "./lambda.js";

/** What a function that calls Bedrock is given: the model's ARNs in its grant, the endpoint it reaches Bedrock by. */
export interface BedrockAccess {
  /** The resources of the bedrock:InvokeModel grant (inference profile, then foundation model). */
  resources: string[];
  endpoint: ec2.InterfaceVpcEndpoint;
}

/**
 * Lets `fn` call one model through the Converse API, and nothing else of Bedrock: Converse is
 * authorised by bedrock:InvokeModel on the model. A foundation model is one ARN in the stack's
 * Region. An inference profile is its ARN in the stack's Region, plus its foundation model in
 * whichever Region of the profile's geography serves the call (`*` Region), allowed only through
 * that profile (condition bedrock:InferenceProfileArn), as the Bedrock guide's cross-Region
 * inference policies do. The functions run in isolated subnets: Bedrock's runtime is reached
 * through an interface endpoint, created here, so only a stack that uses Bedrock pays for it.
 */
export function grantBedrockModel(fn: KapaFunction, database: Database, modelId: string): BedrockAccess {
  const model = bedrockModelRef(modelId);
  const stack = Stack.of(fn);
  const foundationModel = (region: string) =>
    `arn:${stack.partition}:bedrock:${region}::foundation-model/${model.foundationModelId}`;
  const role = fn.function;
  let resources: string[];
  if (model.inferenceProfile) {
    const profile = `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/${model.id}`;
    resources = [profile, foundationModel("*")];
    role.addToRolePolicy(new iam.PolicyStatement({ actions: ["bedrock:InvokeModel"], resources: [profile] }));
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["bedrock:InvokeModel"],
        resources: [foundationModel("*")],
        conditions: { StringEquals: { "bedrock:InferenceProfileArn": profile } },
      }),
    );
  } else {
    resources = [foundationModel(stack.region)];
    role.addToRolePolicy(new iam.PolicyStatement({ actions: ["bedrock:InvokeModel"], resources }));
  }
  const endpoint = database.addInterfaceEndpoint("BedrockRuntime", ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME);
  return { resources, endpoint };
}
