import { sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { classifyDbError } from "./errors.js";

/** The group role of the application's privileges (drizzle/0007_app_role.sql). */
export const APP_ROLE = "kapa_app";
/** The login user the functions connect as (its secret: DB_APP_SECRET_ARN in AWS). */
export const APP_USER = "kapa_app_user";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A Postgres string literal (standard_conforming_strings: only quotes are doubled). */
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Makes `username` a login user with `password` and the application role's privileges, creating
 * it if needed: run as the owner by the Migrate function after the migrations, with the
 * application secret's current values. Secrets Manager's alternating-users rotation then creates
 * the clone user itself, with the same memberships. The password never reaches a log: the
 * statement is not logged and errors are re-thrown without it.
 */
export async function ensureAppLogin(db: Db, username: string, password: string): Promise<void> {
  if (!IDENTIFIER.test(username)) throw new Error(`Not a plain role name: ${username}`);
  try {
    await db.execute(
      sql.raw(`DO $$ BEGIN
        CREATE ROLE ${username} LOGIN;
      EXCEPTION WHEN duplicate_object THEN NULL;
      END $$`),
    );
    await db.execute(sql.raw(`ALTER ROLE ${username} WITH LOGIN PASSWORD ${literal(password)}`));
    await db.execute(sql.raw(`GRANT ${APP_ROLE} TO ${username}`));
  } catch (error) {
    // The SQLSTATE only: the error's message may quote the statement, and with it the password.
    const code = classifyDbError(error)?.code ?? "error";
    throw new Error(`Could not set up the application login ${username} (${code})`);
  }
}

/** ensureAppLogin with the username and password of the application's secret (Secrets Manager). */
export async function ensureAppLoginFromSecret(db: Db, secretArn: string): Promise<string> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const secret = JSON.parse(out.SecretString ?? "{}") as { username?: string; password?: string };
  if (!secret.username || !secret.password)
    throw new Error("The application's database secret has no username or password");
  await ensureAppLogin(db, secret.username, secret.password);
  return secret.username;
}
