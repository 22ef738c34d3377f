import { describe, expect, it } from "vitest";
import type { ThreadExportRow } from "../../shared/db/schema.js";
import { EXPORT_QUEUED_EXPIRY_SECONDS, EXPORT_STALE_SECONDS } from "../../shared/exports/queue.js";
import { publicStatus } from "../../shared/exports/service.js";

const T0 = new Date("2026-12-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const row = (status: ThreadExportRow["status"], updatedAfterSeconds = 0): ThreadExportRow => ({
  id: "00000000-0000-4000-8000-000000000001",
  projectId: "00000000-0000-4000-8000-000000000002",
  format: "csv",
  includeQuestions: false,
  filters: {},
  status,
  rows: 0,
  s3Key: "exports/x",
  attempts: status === "queued" ? 0 : 1,
  error: null,
  createdAt: T0,
  updatedAt: at(updatedAfterSeconds),
  finishedAt: null,
});

describe("an export's status as its owner sees it (injected clock)", () => {
  it("a queued export is never failed by waiting, only once the queue can no longer hold it", () => {
    expect(publicStatus(row("queued"), at(EXPORT_STALE_SECONDS + 1))).toBe("queued");
    expect(publicStatus(row("queued"), at(EXPORT_QUEUED_EXPIRY_SECONDS))).toBe("queued");
    expect(publicStatus(row("queued"), at(EXPORT_QUEUED_EXPIRY_SECONDS + 1))).toBe("failed");
  });

  it("a running export is failed once its worker has been silent too long, counted from the heartbeat", () => {
    const claimedLate = row("running", 3600); // waited an hour in the queue, then claimed
    expect(publicStatus(claimedLate, at(3600 + EXPORT_STALE_SECONDS))).toBe("running");
    expect(publicStatus(claimedLate, at(3600 + EXPORT_STALE_SECONDS + 1))).toBe("failed");
  });

  it("done and failed are what they are", () => {
    expect(publicStatus(row("done"), at(10 * EXPORT_QUEUED_EXPIRY_SECONDS))).toBe("done");
    expect(publicStatus(row("failed"), at(1))).toBe("failed");
  });
});
