import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Db } from "../../shared/db/client.js";

// The drizzle migrator and the logger are the two things runMigrations talks to here.
const migrate = vi.fn<() => Promise<void>>();
const warn = vi.fn();
vi.mock("drizzle-orm/postgres-js/migrator", () => ({ migrate }));
vi.mock("../../shared/platform/logger.js", () => ({ logger: { warn, info: vi.fn(), error: vi.fn(), debug: vi.fn() } }));
const { runMigrations } = await import("../../shared/db/migrate.js");

/** No database is touched: the folder has no `concurrent/` subfolder, so only the migrator runs. */
const db = {} as Db;
const FOLDER = "/nonexistent/migrations";
const racedError = () => Object.assign(new Error('relation "threads" already exists'), { code: "42P07" });

beforeEach(() => {
  migrate.mockReset();
  warn.mockReset();
});

describe("runMigrations", () => {
  it("logs a first database failure and succeeds on the retry (the race with another migrating process)", async () => {
    const first = racedError();
    migrate.mockRejectedValueOnce(first).mockResolvedValueOnce(undefined);

    await runMigrations(db, FOLDER);

    expect(migrate).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[1]).toEqual({ error: first });
  });

  it("throws the retry's failure when the second attempt fails too", async () => {
    const second = Object.assign(new Error("permission denied for schema public"), { code: "42501" });
    migrate.mockRejectedValueOnce(racedError()).mockRejectedValueOnce(second);

    await expect(runMigrations(db, FOLDER)).rejects.toBe(second);
    expect(warn).toHaveBeenCalledOnce();
  });

  it("does not retry what is not a database failure (a missing journal)", async () => {
    const missing = new Error("Can't find meta/_journal.json file");
    migrate.mockRejectedValueOnce(missing);

    await expect(runMigrations(db, FOLDER)).rejects.toBe(missing);
    expect(migrate).toHaveBeenCalledOnce();
    expect(warn).not.toHaveBeenCalled();
  });
});
