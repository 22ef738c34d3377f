import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authenticateKey } from "../shared/auth/api-keys.js";
import { authorizerResult, UNAUTHORIZED } from "../shared/auth/policy.js";
import { retryRefusedConnection } from "../shared/db/errors.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { runtime } from "../shared/platform/runtime.js";

/**
 * REQUEST authorizer on X-API-KEY. API Gateway caches the result by the key, so the policy
 * lists every project the key is granted; the handlers check the path's project again.
 * A missing key is a 401 (throwing "Unauthorized" is API Gateway's contract for that).
 */
export const handler = withLambdaContext(
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const headers = event.headers ?? {};
    const raw = Object.entries(headers).find(([name]) => name.toLowerCase() === "x-api-key")?.[1];
    if (!raw) throw new Error(UNAUTHORIZED);
    const { database } = await runtime();
    const key = await retryRefusedConnection(() => authenticateKey(database.db, raw.trim()));
    return authorizerResult(event.methodArn, key);
  },
);
