import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Env } from "../platform/config.js";
import type { DatabaseTarget } from "./client.js";
import { API_TIMEOUTS, type DbTimeouts } from "./deadline.js";

interface DbSecret {
  username: string;
  password: string;
  host?: string;
  port?: number;
  dbname?: string;
}

/** How long a read of the secret serves new connections: rotation shows within this. */
const SECRET_TTL_MS = 60_000;

/** Reads the database secret, at most once a minute (every new connection asks for the password). */
function cachedSecret(secretArn: string): () => Promise<DbSecret> {
  let client: SecretsManagerClient | undefined;
  let cached: { secret: DbSecret; at: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < SECRET_TTL_MS) return cached.secret;
    // Loaded on the first read, not at module init (a dynamic import esbuild keeps as is).
    const { GetSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
    client ??= new SecretsManagerClient({});
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    cached = { secret: JSON.parse(out.SecretString ?? "{}") as DbSecret, at: Date.now() };
    return cached.secret;
  };
}

/** The process's database limits from its environment (the API's unless overridden). */
export function timeoutsOf(env: Env): DbTimeouts {
  const statement = env.DB_STATEMENT_TIMEOUT_MS;
  return {
    ...API_TIMEOUTS,
    connectTimeoutSeconds: env.DB_CONNECT_TIMEOUT_SECONDS,
    statementTimeoutMs: statement,
    deadlineMs: statement > 0 ? statement + 400 : 0,
  };
}

/**
 * Where this process's database is: `DATABASE_URL` locally; in AWS the RDS Proxy endpoint
 * (`DB_HOST`) with the credentials from Secrets Manager (`DB_SECRET_ARN`), over TLS with the
 * certificate verified. The password is read from the secret for each new connection (cached a
 * minute), so a rotated secret reaches warm Lambdas without a restart.
 */
export async function resolveDatabaseTarget(env: Env): Promise<DatabaseTarget> {
  if (env.DATABASE_URL) {
    return {
      url: env.DATABASE_URL,
      max: env.DB_POOL_MAX,
      embedded: process.env.KAPA_EMBEDDED_DB === "1",
      timeouts: timeoutsOf(env),
    };
  }
  if (!env.DB_SECRET_ARN) {
    throw new Error("Set DATABASE_URL (or DB_SECRET_ARN and DB_HOST in AWS) to reach the database");
  }
  const secret = cachedSecret(env.DB_SECRET_ARN);
  const first = await secret();
  const host = env.DB_HOST ?? first.host;
  if (!host || !first.username) throw new Error("The database secret has no host or username");
  const url = new URL(`postgres://${host}:${first.port ?? 5432}/${first.dbname ?? env.DB_NAME}`);
  url.username = encodeURIComponent(first.username);
  return {
    url: url.toString(),
    max: env.DB_POOL_MAX,
    password: async () => (await secret()).password,
    timeouts: timeoutsOf(env),
    // DB_HOST is the RDS Proxy endpoint (infra/constructs/database.ts): no server-side prepared statements.
    proxy: true,
    // RDS Proxy's certificate chains to Amazon Trust Services, which Node trusts by default.
    ssl: "verify-full",
  };
}
