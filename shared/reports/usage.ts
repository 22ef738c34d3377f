import { and, asc, eq, gte, isNull, lt, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../db/client.js";
import { categories, projects, questionAnswers, teams, threads } from "../db/schema.js";
import { type Period, previousPeriod } from "./period.js";

export interface CategoryUsage {
  id: string;
  name: string;
  /** Threads created in the period that carry this label. */
  threads: number;
}

export interface Figures {
  /** Questions asked in the period (question_answers rows), in this and in the previous period. */
  questions: number;
  previousQuestions: number;
  /** Threads started in the period, in this and in the previous period. */
  newThreads: number;
  previousNewThreads: number;
}

export interface ProjectUsage extends Figures {
  projectId: string;
  name: string;
  /** Every category of the project, most used first (then by name): zeros included. */
  categories: CategoryUsage[];
  /** Threads created in the period that have no label (yet). */
  unlabelled: number;
}

export interface TeamUsage {
  teamId: string;
  teamName: string;
  period: Period;
  previous: Period;
  /** The team's projects, by name. */
  projects: ProjectUsage[];
  totals: Figures;
}

/** A period bound as a SQL timestamptz literal parameter. */
const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;

/** The rows created in the period (`current`) and in the one before it (`previous`), counted in one pass. */
const countsAround = (createdAt: AnyPgColumn, periodStart: Date) => ({
  current: sql<number>`(count(*) filter (where ${createdAt} >= ${at(periodStart)}))::int`,
  previous: sql<number>`(count(*) filter (where ${createdAt} < ${at(periodStart)}))::int`,
});

/**
 * The team's rows for a period and the one before it. One grouped query per concern, over all of
 * the team's projects at once (never one query per project): projects, questions, threads,
 * labels, category names. Threads and labels read the (project_id, created_at) and
 * (project_id, category_id, created_at) indexes; questions are found through the team's threads.
 */
function readTeamRows(db: DbOrTx, teamId: string, period: Period, previous: Period) {
  const inTeam = eq(projects.teamId, teamId);
  return Promise.all([
    db
      .select({ id: projects.id, name: projects.projectName })
      .from(projects)
      .where(inTeam)
      .orderBy(asc(projects.projectName), asc(projects.id)),
    db
      .select({ projectId: threads.projectId, ...countsAround(questionAnswers.createdAt, period.start) })
      .from(questionAnswers)
      .innerJoin(threads, eq(threads.id, questionAnswers.threadId))
      .innerJoin(projects, eq(projects.id, threads.projectId))
      .where(
        and(
          inTeam,
          gte(questionAnswers.createdAt, previous.start),
          lt(questionAnswers.createdAt, period.end),
          // A thread's questions come after it starts: later threads cannot contribute.
          lt(threads.createdAt, period.end),
        ),
      )
      .groupBy(threads.projectId),
    db
      .select({ projectId: threads.projectId, ...countsAround(threads.createdAt, period.start) })
      .from(threads)
      .innerJoin(projects, eq(projects.id, threads.projectId))
      .where(and(inTeam, gte(threads.createdAt, previous.start), lt(threads.createdAt, period.end)))
      .groupBy(threads.projectId),
    db
      .select({ projectId: threads.projectId, categoryId: threads.categoryId, threads: sql<number>`count(*)::int` })
      .from(threads)
      .innerJoin(projects, eq(projects.id, threads.projectId))
      .where(and(inTeam, gte(threads.createdAt, period.start), lt(threads.createdAt, period.end)))
      .groupBy(threads.projectId, threads.categoryId),
    db
      .select({ id: categories.id, projectId: categories.projectId, name: categories.name })
      .from(categories)
      .innerJoin(projects, eq(projects.id, categories.projectId))
      .where(and(inTeam, isNull(categories.deletedAt))),
  ]);
}

/** Each project's figures from the team's rows, its categories most used first. */
function projectUsages([projectRows, questionRows, threadRows, labelRows, categoryRows]: Awaited<
  ReturnType<typeof readTeamRows>
>): ProjectUsage[] {
  const questionsBy = new Map(questionRows.map((r) => [r.projectId, r]));
  const threadsBy = new Map(threadRows.map((r) => [r.projectId, r]));
  const labelled = new Map(labelRows.map((r) => [`${r.projectId}/${r.categoryId ?? ""}`, r.threads]));
  return projectRows.map((project): ProjectUsage => {
    const projectCategories = categoryRows
      .filter((c) => c.projectId === project.id)
      .map((c) => ({ id: c.id, name: c.name, threads: labelled.get(`${project.id}/${c.id}`) ?? 0 }))
      .sort((a, b) => b.threads - a.threads || a.name.localeCompare(b.name));
    return {
      projectId: project.id,
      name: project.name,
      questions: questionsBy.get(project.id)?.current ?? 0,
      previousQuestions: questionsBy.get(project.id)?.previous ?? 0,
      newThreads: threadsBy.get(project.id)?.current ?? 0,
      previousNewThreads: threadsBy.get(project.id)?.previous ?? 0,
      categories: projectCategories,
      unlabelled: labelled.get(`${project.id}/`) ?? 0,
    };
  });
}

/** One team's usage in a period and the one before it; null for a team that does not exist. */
export async function teamUsage(db: DbOrTx, teamId: string, period: Period): Promise<TeamUsage | null> {
  const previous = previousPeriod(period);
  const [team] = await db.select({ name: teams.name }).from(teams).where(eq(teams.id, teamId));
  if (!team) return null;
  const usage = projectUsages(await readTeamRows(db, teamId, period, previous));
  const sum = (key: keyof Figures) => usage.reduce((total, p) => total + p[key], 0);
  return {
    teamId,
    teamName: team.name,
    period,
    previous,
    projects: usage,
    totals: {
      questions: sum("questions"),
      previousQuestions: sum("previousQuestions"),
      newThreads: sum("newThreads"),
      previousNewThreads: sum("previousNewThreads"),
    },
  };
}

/** The project's most used categories in the period (those used at all), most first. */
export function topCategories(project: ProjectUsage, count = 3): CategoryUsage[] {
  return project.categories.filter((c) => c.threads > 0).slice(0, count);
}
