import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  BackfillDatabaseError,
  BackfillError,
  BackfillQueryError,
  BackfillQueueError,
  InvalidBackfillInput,
  RETRYABLE_BACKFILL_ERRORS,
} from "../../shared/backfill/errors.js";
import { NoCategoriesError } from "../../shared/classification/classifier.js";
import { errorReply, ForbiddenError, PayloadTooLargeError, UnauthenticatedError } from "../../shared/http/errors.js";
import {
  ConflictError,
  DomainError,
  InvalidInputError,
  NotFoundError,
  TooManyRequestsError,
  UnavailableError,
} from "../../shared/platform/errors.js";
import { ReportSendError } from "../../shared/reports/service.js";

const family = [
  NotFoundError,
  ConflictError,
  InvalidInputError,
  UnavailableError,
  PayloadTooLargeError,
  UnauthenticatedError,
  ForbiddenError,
  BackfillError,
  BackfillQueueError,
  BackfillDatabaseError,
  BackfillQueryError,
  InvalidBackfillInput,
];

describe("the error family", () => {
  it("is one hierarchy, each class named as it is spelled", () => {
    for (const type of family) {
      const error = new type("x");
      expect(error).toBeInstanceOf(DomainError);
      expect(error.name).toBe(type.name);
    }
    expect(new NoCategoriesError()).toBeInstanceOf(DomainError);
    expect(new NoCategoriesError().name).toBe("NoCategoriesError");
    const send = new ReportSendError("team", "2026-W10", [{ email: "a@b.c", error: "throttled" }], 1);
    expect(send).toBeInstanceOf(DomainError);
    expect(send.name).toBe("ReportSendError");
    const busy = new TooManyRequestsError("x", 10);
    expect(busy).toBeInstanceOf(DomainError);
    expect(busy.name).toBe("TooManyRequestsError");
  });

  it("answers 429 with the error's Retry-After and the resource in the way", () => {
    const id = "00000000-0000-4000-8000-000000000001";
    expect(errorReply(new TooManyRequestsError("An export is running", 10, id))).toEqual({
      statusCode: 429,
      body: { detail: "An export is running", id },
      headers: { "retry-after": "10" },
    });
  });

  it("keeps its names in a minified Lambda bundle (Step Functions retries by name)", async () => {
    const entry = fileURLToPath(new URL("../../shared/backfill/errors.ts", import.meta.url));
    const out = await build({
      stdin: {
        contents: `import * as e from ${JSON.stringify(entry)};
          export const names = [new e.BackfillQueueError("").name, new e.BackfillDatabaseError("").name];`,
        resolveDir: process.cwd(),
        loader: "ts",
      },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      write: false,
      external: ["@aws-lambda-powertools/*"],
    });
    const code = out.outputFiles[0]?.text ?? "";
    const bundled = (await import(`data:text/javascript,${encodeURIComponent(code)}`)) as { names: string[] };
    expect(bundled.names).toEqual([...RETRYABLE_BACKFILL_ERRORS]);
  });

  it("answers 500 without the message for a domain error that has no status (a pipeline's)", () => {
    const reply = errorReply(new BackfillQueryError("Database error: other (42P01 in select threads)"));
    expect(reply).toEqual({ statusCode: 500, body: { detail: "Internal server error" } });
  });
});
