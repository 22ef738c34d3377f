import { describe, expect, it } from "vitest";
import { startupFailure } from "../../local/startup-errors.js";
import { classifyDbError, statementName } from "../../shared/db/errors.js";
import { errorReply } from "../../shared/http/errors.js";
import { loggableError } from "../../shared/platform/log-errors.js";

/** A failed query as drizzle reports it: the driver's error in `cause`, the SQL and its parameters outside. */
const failedQuery = (cause: unknown, query = 'insert into "threads" ("id", "first_question") values ($1, $2)') =>
  Object.assign(new Error(`Failed query: ${query}\nparams: 1,my secret question`), {
    query,
    params: ["1", "my secret question"],
    cause,
  });
const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`postgres says ${code}`), { name: "PostgresError", code, ...extra });
const socketError = (code: string) =>
  Object.assign(new Error(`connect ${code} 10.0.0.5:5432`), { code, address: "10.0.0.5", port: 5432 });

describe("classifyDbError", () => {
  it.each([
    [socketError("ECONNREFUSED"), "unavailable"],
    [socketError("ECONNRESET"), "unavailable"],
    [socketError("EHOSTUNREACH"), "unavailable"],
    [Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" }), "unavailable"],
    [Object.assign(new Error("write CONNECT_TIMEOUT"), { code: "CONNECT_TIMEOUT" }), "timeout"],
    [pgError("53300"), "unavailable"],
    [pgError("57P03"), "unavailable"],
    [pgError("57P01"), "unavailable"],
    [pgError("08006"), "unavailable"],
    [pgError("57014"), "timeout"],
    [pgError("40001"), "transient"],
    [pgError("23505"), "unique"],
    [pgError("23503"), "foreign-key"],
    [pgError("22P05"), "invalid-input"],
    [pgError("42P01"), "other"],
  ])("finds %s in the cause chain: %s", (cause, kind) => {
    expect(classifyDbError(failedQuery(cause))?.kind).toBe(kind);
    expect(classifyDbError(cause)?.kind).toBe(kind);
  });

  it("is null for errors that are not the database's", () => {
    expect(classifyDbError(new Error("boom"))).toBeNull();
    expect(classifyDbError(Object.assign(new Error("x"), { code: "ERR_INVALID_ARG_TYPE" }))).toBeNull();
  });

  it("names the statement and the address, never the parameters", () => {
    const db = classifyDbError(failedQuery(socketError("ECONNREFUSED")));
    expect(db).toMatchObject({ statement: "insert threads", address: "10.0.0.5:5432", retryable: true });
    expect(statementName('with t as (update "threads" set x = 1) select 1')).toBe("with threads");
    expect(statementName("begin")).toBe("begin");
  });
});

describe("what reaches the logs and the client", () => {
  it("logs a failed query by SQLSTATE and statement, without its parameters or message", () => {
    const logged = JSON.stringify(
      loggableError(failedQuery(pgError("22P02", { message: 'invalid input syntax: "my secret question"' }))),
    );
    expect(logged).toContain("22P02");
    expect(logged).toContain("insert threads");
    expect(logged).not.toContain("secret");
  });

  it("logs a failed query of no known kind by name, code and statement, without its message", () => {
    // postgres.js's own error (no SQLSTATE), wrapped by drizzle with the parameters in its message.
    const driver = Object.assign(new Error("Undefined values are not allowed"), { code: "UNDEFINED_VALUE" });
    const error = failedQuery(driver);
    expect(classifyDbError(error)).toBeNull();
    const logged = JSON.stringify(loggableError(error));
    expect(logged).toContain("UNDEFINED_VALUE");
    expect(logged).toContain("insert threads");
    expect(logged).not.toContain("secret");
    // Any error that carries a statement's values, even unwrapped: its message is left out.
    const bare = Object.assign(new TypeError("cannot serialize my secret question"), { parameters: ["x"] });
    expect(JSON.stringify(loggableError(bare))).not.toContain("secret");
    expect(loggableError(new Error("plain failure"))).toMatchObject({ message: "plain failure" });
  });

  it("answers 503 with Retry-After for an unreachable database, 4xx for data and constraint errors", () => {
    const down = errorReply(failedQuery(socketError("ECONNREFUSED")));
    expect(down).toMatchObject({ statusCode: 503, headers: { "retry-after": "1" } });
    expect(errorReply(failedQuery(pgError("57014"))).statusCode).toBe(503);
    expect(errorReply(failedQuery(pgError("22008"))).statusCode).toBe(400);
    expect(errorReply(failedQuery(pgError("23503"))).statusCode).toBe(409);
    expect(errorReply(failedQuery(pgError("42P01"))).statusCode).toBe(500);
    expect(JSON.stringify(errorReply(failedQuery(pgError("23503"))).body)).not.toContain("secret");
  });

  it("tells at startup which database refused and what to do", () => {
    const message = startupFailure(failedQuery(socketError("ECONNREFUSED")), "postgres://u:pw@db.example:6543/kapa");
    expect(message).toContain("10.0.0.5:5432 refused the connection");
    expect(message).toContain("DATABASE_URL");
    const noAddress = Object.assign(new Error("write CONNECT_TIMEOUT"), { code: "CONNECT_TIMEOUT" });
    expect(startupFailure(noAddress, "postgres://u:pw@db.example:6543/kapa")).toContain("db.example:6543");
    expect(startupFailure(noAddress, "postgres://u:pw@db.example:6543/kapa")).not.toContain("pw");
  });
});
