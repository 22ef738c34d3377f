import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authenticateWith, keyLookup, keyPrefix } from "../shared/auth/api-keys.js";
import { authorizerResult, UNAUTHORIZED } from "../shared/auth/policy.js";
import { UnknownPrefixes } from "../shared/auth/unknown-prefixes.js";
import { runtime } from "../shared/composition/runtime.js";
import { retryRefusedConnection } from "../shared/db/errors.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/** Prefixes without a key, per execution environment: a few hundred KB at most. */
const unknownPrefixes = new UnknownPrefixes(10_000, 60_000);

/**
 * REQUEST authorizer on X-API-KEY. API Gateway caches the result by the key, so the policy
 * lists every project the key is granted; the handlers check the path's project again.
 * A missing key is a 401 (throwing "Unauthorized" is API Gateway's contract for that); a value
 * that cannot be a key is denied before the database is even connected to.
 */
export const handler = withLambdaContext(
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const headers = event.headers ?? {};
    const raw = Object.entries(headers).find(([name]) => name.toLowerCase() === "x-api-key")?.[1];
    if (!raw) throw new Error(UNAUTHORIZED);
    const value = raw.trim();
    if (!keyPrefix(value)) return authorizerResult(event.methodArn, null);
    const { database } = await runtime();
    const lookup = keyLookup(database.db);
    const key = await retryRefusedConnection(() => authenticateWith(lookup, value, new Date(), unknownPrefixes));
    return authorizerResult(event.methodArn, key);
  },
);
