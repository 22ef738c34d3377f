import { afterEach, describe, expect, it, vi } from "vitest";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { classifyDbError } from "../../shared/db/errors.js";
import { errorReply } from "../../shared/http/errors.js";
import { logger } from "../../shared/platform/logger.js";
import { RagAgent } from "../../shared/rag/agent.js";
import { KeywordRetriever } from "../../shared/rag/retriever.js";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { chat } from "../../shared/threads/service.js";
import { createTenant, useTestDb } from "../support/db.js";
import { createTestQueue, testSqs } from "../support/sqs.js";

/**
 * A question's text never reaches the logs, also when the database driver fails in a way nobody
 * classified: drizzle then puts the statement's parameters (the question among them) in its
 * error's message. Provoked for real: the LLM (a stand-in, it is an external service) answers
 * with a value the driver cannot serialize (an invalid date), so postgres.js fails the chat's
 * insert, whose parameters hold the question, with a Node.js error code no one classified.
 */
const db = useTestDb();
const { queueUrl } = await createTestQueue("log-redaction");
const QUESTION = "Why does my payroll export leak secret-7f3a9c salaries?";

/** What the logger writes (stdout: JSON lines; stderr: pretty lines) while `fn` runs. */
async function captured(format: "json" | "pretty", fn: () => unknown): Promise<string> {
  vi.stubEnv("LOG_LEVEL", "info");
  vi.stubEnv("LOG_FORMAT", format);
  const out: string[] = [];
  const keep = (chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(keep);
  vi.spyOn(process.stderr, "write").mockImplementation(keep);
  try {
    await fn();
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
  return out.join("");
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function failedChat(): Promise<unknown> {
  const { projectId } = await createTenant(db, "log-redaction");
  const silent = new RagAgent(new KeywordRetriever(), {
    complete: async () => new Date(Number.NaN) as unknown as string,
  });
  const deps = {
    threads: new ThreadsRepository(db),
    agent: silent,
    classificationQueue: new SqsClassificationQueue(testSqs, queueUrl),
  };
  return chat(deps, { projectId, question: QUESTION }).then(
    () => null,
    (error: unknown) => error,
  );
}

describe("a driver error of no known kind, with a question among its parameters", () => {
  it("is provoked for real: unclassified, and its message quotes the question", async () => {
    const error = await failedChat();
    expect(error).toBeInstanceOf(Error);
    expect(classifyDbError(error)).toBeNull();
    expect(String((error as Error).message)).toContain("secret-7f3a9c");
  });

  it.each(["json", "pretty"] as const)("reaches the %s logs without the question", async (format) => {
    const error = await failedChat();
    const logs = await captured(format, () => {
      // The HTTP handler's path (a 500), and a consumer's own log call.
      expect(errorReply(error).statusCode).toBe(500);
      logger.error("classification failed", { threadId: "t1", error });
    });
    expect(logs).toContain("unhandled error");
    expect(logs).toContain("classification failed");
    // What is logged still tells what failed: the driver's code and the statement's name.
    expect(logs).toContain('"kind":"other"');
    expect(logs).toContain("ERR_INVALID_ARG_TYPE");
    expect(logs).toContain("with threads");
    expect(logs).not.toContain("secret-7f3a9c");
    expect(logs).not.toContain("payroll");
  });
});
