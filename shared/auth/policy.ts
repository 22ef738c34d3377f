import type { APIGatewayAuthorizerResult } from "aws-lambda";
import type { AuthenticatedKey } from "./api-keys.js";

/** The message API Gateway turns into a 401. */
export const UNAUTHORIZED = "Unauthorized";

/** "arn:aws:execute-api:region:account:apiId/stage/METHOD/path" -> the part up to the stage. */
function apiStageArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split("/");
  return `${apiArn}/${stage}`;
}

export function projectResources(methodArn: string, projectIds: readonly string[]): string[] {
  const base = apiStageArn(methodArn);
  return projectIds.flatMap((id) => [`${base}/*/query/v1/projects/${id}`, `${base}/*/query/v1/projects/${id}/*`]);
}

export function authorizerResult(methodArn: string, key: AuthenticatedKey | null): APIGatewayAuthorizerResult {
  if (!key || key.projectIds.length === 0) {
    return {
      principalId: "anonymous",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: `${apiStageArn(methodArn)}/*` }],
      },
    };
  }
  return {
    principalId: key.apiKeyId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        { Action: "execute-api:Invoke", Effect: "Allow", Resource: projectResources(methodArn, key.projectIds) },
      ],
    },
    context: { apiKeyId: key.apiKeyId, projectIds: key.projectIds.join(",") },
    // The key's usage-plan key in API Gateway (per-key throttling): registered under our key's id.
    usageIdentifierKey: key.apiKeyId,
  };
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** How API Gateway evaluates the returned policy for one method ARN (explicit Deny wins). */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const resources = "Resource" in statement ? [statement.Resource].flat() : [];
    if (!resources.some((r) => globToRegExp(String(r)).test(methodArn))) continue;
    if (statement.Effect === "Deny") return false;
    allowed = true;
  }
  return allowed;
}
