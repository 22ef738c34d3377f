import type { CategoryTrends } from "../analytics/model.js";
import type { CategoryStats, SourceCounts } from "../categories/model.js";
import type { CategoryRow, QuestionAnswerRow } from "../db/schema.js";
import type { ChatAnswer, ThreadDetail, ThreadList, ThreadView } from "../threads/model.js";
import type { CategoryTrendsResource } from "./analytics-schemas.js";
import type {
  CategoryResource,
  CategoryStatsResource,
  ChatResponse,
  QuestionAnswerResource,
  ThreadDetailResource,
  ThreadPageResource,
  ThreadResource,
} from "./schemas.js";

/**
 * The domain's objects as the API shows them: snake_case names, ISO-8601 times, null for absent.
 * The one place that knows both the domain models and the wire schemas (shared/http/schemas.ts).
 */

export const toChatResponse = (reply: ChatAnswer): ChatResponse => ({
  question: reply.question,
  answer: reply.answer,
  question_answer_id: reply.questionAnswerId,
  thread_id: reply.threadId,
});

export function toThreadResource(row: ThreadView): ThreadResource {
  return {
    id: row.id,
    project: row.projectId,
    created_at: row.createdAt.toISOString(),
    first_question: row.firstQuestion,
    total_questions: row.questionCount,
    category:
      row.categoryId && row.categoryName && row.categorySource
        ? {
            id: row.categoryId,
            name: row.categoryName,
            source: row.categorySource,
            assigned_at: (row.classifiedAt ?? row.createdAt).toISOString(),
            confidence: row.categorySource === "classifier" ? row.categoryConfidence : null,
          }
        : null,
  };
}

export function toQuestionAnswerResource(row: QuestionAnswerRow): QuestionAnswerResource {
  return { id: row.id, question: row.question, answer: row.answer, created_at: row.createdAt.toISOString() };
}

export const toThreadDetailResource = ({ thread, answers }: ThreadDetail): ThreadDetailResource => ({
  ...toThreadResource(thread),
  question_answers: answers.map(toQuestionAnswerResource),
});

export const toThreadPageResource = (page: ThreadList): ThreadPageResource => ({
  count: page.count,
  next: page.next,
  previous: page.previous,
  results: page.threads.map(toThreadResource),
});

export const toEditTimes = (row: { createdAt: Date; updatedAt: Date }) => ({
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export function toCategoryResource(row: CategoryRow): CategoryResource {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ...toEditTimes(row),
  };
}

const sourceCounts = (counts: SourceCounts) => ({ user: counts.user, classifier: counts.classifier });

export const toCategoryStatsResource = (stats: CategoryStats): CategoryStatsResource => ({
  created_after: stats.range.after?.toISOString() ?? null,
  created_before: stats.range.before?.toISOString() ?? null,
  total: stats.total,
  unlabelled: stats.unlabelled,
  by_source: sourceCounts(stats.bySource),
  categories: stats.categories.map((c) => ({
    id: c.id,
    name: c.name,
    count: c.count,
    by_source: sourceCounts(c.bySource),
  })),
});

export const toCategoryTrendsResource = (trends: CategoryTrends): CategoryTrendsResource => ({
  interval: trends.interval,
  tz: trends.tz,
  created_after: trends.from.toISOString(),
  created_before: trends.to.toISOString(),
  buckets: trends.buckets.map((b) => ({
    start: b.start,
    end: b.end,
    threads: b.threads,
    questions: b.questions,
    unlabelled: b.unlabelled,
    by_source: sourceCounts(b.bySource),
    categories: b.categories,
  })),
});
