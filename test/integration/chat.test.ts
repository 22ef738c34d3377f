import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { projects, questionAnswers, threads } from "../../shared/db/schema.js";
import { toThreadDetailResource } from "../../shared/http/response-mappers.js";
import { NotFoundError } from "../../shared/platform/errors.js";
import { RagAgent } from "../../shared/rag/agent.js";
import { KeywordRetriever } from "../../shared/rag/retriever.js";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { chat, getThread } from "../../shared/threads/service.js";
import { createTenant, useTestDb } from "../support/db.js";
import { createTestQueue, drainRequests, testSqs } from "../support/sqs.js";

const db = useTestDb();
const repo = new ThreadsRepository(db);
const { queueUrl } = await createTestQueue("chat");
const queue = new SqsClassificationQueue(testSqs, queueUrl);
const deps = (agent: RagAgent) => ({ threads: repo, agent, classificationQueue: queue });
const answering = (text: string) => new RagAgent(new KeywordRetriever(), { complete: async () => text });
const failing = new RagAgent(new KeywordRetriever(), {
  complete: async () => {
    throw new Error("LLM unavailable");
  },
});

async function countRows(projectId: string) {
  const [row] = await db
    .select({
      threads: sql<number>`(select count(*)::int from threads where project_id = ${projectId})`,
      answers: sql<number>`(select count(*)::int from question_answers qa join threads t on t.id = qa.thread_id where t.project_id = ${projectId})`,
      counter: projects.threadCount,
    })
    .from(projects)
    .where(eq(projects.id, projectId));
  return row;
}

describe("chat", () => {
  it("starts a thread, continues it, and keeps first_question and question_count on the thread", async () => {
    const { projectId } = await createTenant(db);
    const agent = answering("42");
    const first = await chat(deps(agent), { projectId, question: "What is it?" });
    expect(first).toMatchObject({ question: "What is it?", answer: "42" });
    const second = await chat(deps(agent), { projectId, question: "And then?", threadId: first.threadId });
    expect(second.threadId).toBe(first.threadId);
    expect(second.questionAnswerId).not.toBe(first.questionAnswerId);

    const detail = toThreadDetailResource(await getThread(repo, projectId, first.threadId));
    expect(detail).toMatchObject({
      first_question: "What is it?",
      total_questions: 2,
      category: null,
      project: projectId,
    });
    expect(detail.question_answers.map((qa) => qa.question)).toEqual(["What is it?", "And then?"]);
    expect(await countRows(projectId)).toEqual({ threads: 1, answers: 2, counter: 1 });
  });

  it("writes nothing when the LLM call fails, for new threads and follow-ups", async () => {
    const { projectId } = await createTenant(db);
    await expect(chat(deps(failing), { projectId, question: "q" })).rejects.toThrow("LLM unavailable");
    expect(await countRows(projectId)).toEqual({ threads: 0, answers: 0, counter: 0 });

    const started = await chat(deps(answering("a")), { projectId, question: "q" });
    await expect(chat(deps(failing), { projectId, question: "q2", threadId: started.threadId })).rejects.toThrow(
      "LLM unavailable",
    );
    const [thread] = await db.select().from(threads).where(eq(threads.id, started.threadId));
    expect(thread?.questionCount).toBe(1);
    expect(await countRows(projectId)).toEqual({ threads: 1, answers: 1, counter: 1 });
  });

  it("treats another project's thread as not found and writes nothing there", async () => {
    const mine = await createTenant(db);
    const theirs = await createTenant(db);
    const their = await chat(deps(answering("a")), { projectId: theirs.projectId, question: "secret" });
    let llmCalls = 0;
    const counting = new RagAgent(new KeywordRetriever(), {
      complete: async () => {
        llmCalls++;
        return "a";
      },
    });
    await expect(
      chat(deps(counting), { projectId: mine.projectId, question: "q", threadId: their.threadId }),
    ).rejects.toThrow(NotFoundError);
    expect(llmCalls).toBe(0);
    const answers = await db.select().from(questionAnswers).where(eq(questionAnswers.threadId, their.threadId));
    expect(answers).toHaveLength(1);
    await expect(getThread(repo, mine.projectId, their.threadId)).rejects.toThrow(NotFoundError);
  });

  it("keeps the conversation's order for concurrent follow-ups", async () => {
    const { projectId } = await createTenant(db);
    const agent = answering("a");
    const started = await chat(deps(agent), { projectId, question: "q0" });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        chat(deps(agent), { projectId, question: `q${i + 1}`, threadId: started.threadId }),
      ),
    );
    const rows = await db
      .select({ position: questionAnswers.position })
      .from(questionAnswers)
      .where(eq(questionAnswers.threadId, started.threadId));
    expect(rows.map((r) => r.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    const detail = toThreadDetailResource(await getThread(repo, projectId, started.threadId));
    expect(detail.total_questions).toBe(11);
    expect(detail.question_answers[0]?.question).toBe("q0");
  });
});

describe("chat and the classification queue", () => {
  it("counts concurrent new threads exactly", async () => {
    const { projectId } = await createTenant(db);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat(deps(answering("a")), { projectId, question: `q${i}` })),
    );
    expect(await countRows(projectId)).toEqual({ threads: 30, answers: 30, counter: 30 });
  });

  it("sends each new thread to the classifier once, and nothing for follow-ups", async () => {
    const { projectId } = await createTenant(db);
    await drainRequests(queueUrl);
    const first = await chat(deps(answering("a")), { projectId, question: "q" });
    await chat(deps(answering("a")), { projectId, question: "q2", threadId: first.threadId });
    await chat(deps(answering("a")), { projectId, question: "q3", threadId: first.threadId });
    // New-thread requests are delayed so the thread is stored before the classifier looks.
    const requests = await drainRequests(queueUrl, 3500);
    // Other tests of this file share the queue: keep this test's requests.
    expect(requests.filter((r) => r.threadId === first.threadId)).toEqual([
      { threadId: first.threadId, projectId, reason: "new-thread" },
    ]);
    expect(await countRows(projectId)).toEqual({ threads: 1, answers: 3, counter: 1 });
  });

  it("answers even when the queue is unreachable, and stores the thread for the sweeper", async () => {
    const { projectId } = await createTenant(db);
    const broken = new SqsClassificationQueue(testSqs, `${queueUrl}-does-not-exist`);
    const reply = await chat(
      { threads: repo, agent: answering("fine"), classificationQueue: broken },
      { projectId, question: "q" },
    );
    expect(reply.answer).toBe("fine");
    const [thread] = await db.select().from(threads).where(eq(threads.id, reply.threadId));
    expect(thread).toMatchObject({ categoryId: null, firstQuestion: "q" });
  });

  it("does not wait for a queue that hangs", async () => {
    const { projectId } = await createTenant(db);
    const hanging = { send: () => new Promise<void>(() => {}) };
    const reply = await chat(
      { threads: repo, agent: answering("still answered"), classificationQueue: hanging },
      { projectId, question: "q" },
    );
    expect(reply.answer).toBe("still answered");
  });
});
