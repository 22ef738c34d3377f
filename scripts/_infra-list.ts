import { synth } from "../test/infra/support.js";
const ctx = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const { template } = synth(ctx);
const res = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
const show = (r: { Type: string; Properties?: Record<string, unknown> }) =>
  r.Type === "AWS::Lambda::Function"
    ? { role: r.Properties?.Role, rc: r.Properties?.ReservedConcurrentExecutions, lc: r.Properties?.LoggingConfig }
    : r.Type === "AWS::IAM::Role"
      ? r.Properties?.ManagedPolicyArns
      : r.Properties;
for (const [id, r] of Object.entries(res)) {
  if (["AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::RDS::DBCluster", "AWS::StepFunctions::StateMachine", "AWS::IAM::Role", "AWS::RDS::DBProxy", "AWS::RDS::DBInstance"].includes(r.Type) || r.Type.startsWith("Custom::"))
    console.log(r.Type, id, (JSON.stringify(show(r)) ?? "").slice(0, 250));
}
