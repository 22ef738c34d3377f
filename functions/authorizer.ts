import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authenticateWith, keyLookup } from "../shared/auth/api-keys.js";
import { parseKey } from "../shared/auth/key-format.js";
import { KeyScreen, screenSource } from "../shared/auth/key-screen.js";
import { authorizerResult, UNAUTHORIZED } from "../shared/auth/policy.js";
import { runtime } from "../shared/composition/runtime.js";
import { retryRefusedConnection } from "../shared/db/errors.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/** How long an execution environment keeps the legacy keys' prefixes before reading them again. */
const LEGACY_PREFIXES_TTL_MS = 10 * 60_000;
let screen: KeyScreen | undefined;

/**
 * REQUEST authorizer on X-API-KEY. API Gateway caches the result by the key, so the policy
 * lists every project the key is granted; the handlers check the path's project again.
 * A missing key is a 401 (throwing "Unauthorized" is API Gateway's contract for that); a value
 * that cannot be a key is denied before the database is even connected to, and a forged one
 * (a signed key without the secret's MAC, a legacy key with an unknown prefix) without a lookup.
 */
export const handler = withLambdaContext(
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const headers = event.headers ?? {};
    const raw = Object.entries(headers).find(([name]) => name.toLowerCase() === "x-api-key")?.[1];
    if (!raw) throw new Error(UNAUTHORIZED);
    const value = raw.trim();
    const parsed = parseKey(value);
    if (!parsed) return authorizerResult(event.methodArn, null);
    const { database } = await runtime();
    screen ??= new KeyScreen(screenSource(database.db), LEGACY_PREFIXES_TTL_MS);
    const admitted = await retryRefusedConnection(() => (screen as KeyScreen).admits(parsed));
    if (!admitted) return authorizerResult(event.methodArn, null);
    const key = await retryRefusedConnection(() => authenticateWith(keyLookup(database.db), value, new Date()));
    return authorizerResult(event.methodArn, key);
  },
);
