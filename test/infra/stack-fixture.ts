import type { Template } from "aws-cdk-lib/assertions";
import { KapaFunction } from "../../infra/constructs/lambda.js";
import { routeList } from "../../shared/http/routes.js";
import { props, resourcesIn, synth } from "./support.js";

/**
 * The logical ids and references the api, functions and stack tests check, on the default stack;
 * the tests take it and its template helpers from synth(), and these as `fixture.<name>`.
 */
const { stack, template, idOf, fnId } = synth();

export const appFunctions = stack.node.findAll().filter((c): c is KapaFunction => c instanceof KapaFunction);
export const handlerNames = [...new Set(routeList.map((r) => r.handler))].sort();
export const functionsByHandler = stack.api.handlers;
export const authorizerFnId = fnId(stack.api.authorizerFunction);
export const migrateFnId = fnId(stack.migrations.handler);
export const classifierFnId = fnId(stack.classification.classifier);
export const sweeperFnId = fnId(stack.classification.sweeper);
export const backfillFnIds = [fnId(stack.backfill.plan), fnId(stack.backfill.enqueueRange)];
export const secretRef = stack.resolve(stack.database.secret.secretArn) as unknown;
/** The application's login: every database function but the migrations connects with it. */
export const appSecretRef = stack.resolve(stack.database.appSecret.secretArn) as unknown;
export const secretOf = (id: string) => (id === migrateFnId ? secretRef : appSecretRef);
export const proxyEndpoint = stack.resolve(stack.database.proxy?.endpoint) as unknown;
export const functionSgId = idOf(stack.database.functionSecurityGroup);
/** Handlers that serve static documents (API reference, dashboard): no database. */
export const STATIC_HANDLERS = ["docs", "dashboard"];
export const dbFunctionIds = [
  ...[...functionsByHandler.entries()].filter(([name]) => !STATIC_HANDLERS.includes(name)).map(([, fn]) => fnId(fn)),
  authorizerFnId,
  migrateFnId,
  classifierFnId,
  sweeperFnId,
  ...backfillFnIds,
];

/** "METHOD /full/path" of every API Gateway method, from the Resource PathPart/ParentId tree. */
export function apiMethods(from: Template = template) {
  const resources = resourcesIn(from, "AWS::ApiGateway::Resource");
  const pathOf = (id: unknown): string => {
    if (typeof id === "object" && id !== null && "Fn::GetAtt" in id) return ""; // the root resource
    const parentRef = (id as { Ref?: string }).Ref;
    const resource = parentRef ? resources.get(parentRef) : undefined;
    if (!resource) throw new Error(`Unknown API resource ${JSON.stringify(id)}`);
    return `${pathOf(props(resource).ParentId)}/${String(props(resource).PathPart)}`;
  };
  return [...resourcesIn(from, "AWS::ApiGateway::Method").values()].map((method) => {
    const p = props(method);
    return {
      key: `${String(p.HttpMethod)} ${pathOf(p.ResourceId) || "/"}`,
      authorizationType: p.AuthorizationType,
      authorizerId: p.AuthorizerId,
      integration: p.Integration as { Type: string; IntegrationHttpMethod: string; Uri: unknown },
    };
  });
}
