import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Env } from "../config.js";
import type { DatabaseTarget } from "./client.js";

interface DbSecret {
  username: string;
  password: string;
  host?: string;
  port?: number;
  dbname?: string;
}

/**
 * Where this process's database is: `DATABASE_URL` locally; in AWS the RDS Proxy endpoint
 * (`DB_HOST`) with the credentials from Secrets Manager (`DB_SECRET_ARN`), over TLS.
 */
export async function resolveDatabaseTarget(env: Env): Promise<DatabaseTarget> {
  if (env.DATABASE_URL)
    return { url: env.DATABASE_URL, max: env.DB_POOL_MAX, embedded: process.env.KAPA_EMBEDDED_DB === "1" };
  if (!env.DB_SECRET_ARN) {
    throw new Error("Set DATABASE_URL (or DB_SECRET_ARN and DB_HOST in AWS) to reach the database");
  }
  const client = new SecretsManagerClient({});
  const out = await client.send(new GetSecretValueCommand({ SecretId: env.DB_SECRET_ARN }));
  const secret = JSON.parse(out.SecretString ?? "{}") as DbSecret;
  const host = env.DB_HOST ?? secret.host;
  if (!host || !secret.username) throw new Error("The database secret has no host or username");
  const url = new URL(`postgres://${host}:${secret.port ?? 5432}/${secret.dbname ?? env.DB_NAME}`);
  url.username = encodeURIComponent(secret.username);
  url.password = encodeURIComponent(secret.password);
  url.searchParams.set("sslmode", "require");
  return { url: url.toString(), max: env.DB_POOL_MAX };
}
