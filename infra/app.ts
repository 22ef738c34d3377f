import { App } from "aws-cdk-lib";
import { addNagChecks } from "./nag-suppressions.js";
import { checkDeployable } from "./settings.js";
import { KapaServiceStack } from "./stack.js";

const app = new App();
// cdk-nag's AWS Solutions pack: an unacknowledged finding fails the synth (infra/nag-suppressions.ts).
addNagChecks(app);
// A deployable synth names its own report sender (the stack's default serves local runs and tests).
checkDeployable(app.node);

// Environment-agnostic unless the CLI knows the account and region: synth works offline.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new KapaServiceStack(app, "KapaService", {
  env: account && region ? { account, region } : undefined,
  description: "kapa-service: multi-tenant RAG chat-bot backend",
});

app.synth();
