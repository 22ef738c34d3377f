import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { createProject, createTeam, createUser } from "../../shared/admin/tenants.js";
import type { Db } from "../../shared/db/client.js";
import { categories, questionAnswers, threads } from "../../shared/db/schema.js";
import { parsePeriod } from "../../shared/reports/period.js";

/** A team with users and projects, for the report tests; every address is unique to the run. */
export interface SeededTeam {
  teamId: string;
  name: string;
  emails: string[];
  userIds: string[];
  projects: Record<string, { id: string; categories: Record<string, string> }>;
}

export async function seedTeam(
  db: Db,
  input: { name: string; users: number; projects: string[]; extraCategories?: Record<string, string[]> },
): Promise<SeededTeam> {
  const team = await createTeam(db, { name: input.name });
  const tag = randomUUID().slice(0, 8);
  const emails: string[] = [];
  const userIds: string[] = [];
  for (let i = 1; i <= input.users; i++) {
    const user = await createUser(db, { teamId: team.id, email: `user${i}+${tag}@example.com`, firstName: `U${i}` });
    emails.push(user.email);
    userIds.push(user.id);
  }
  const projects: SeededTeam["projects"] = {};
  for (const name of input.projects) {
    const project = await createProject(db, { teamId: team.id, name });
    for (const extra of input.extraCategories?.[name] ?? []) {
      await db.insert(categories).values({ projectId: project.id, name: extra });
    }
    const rows = await db
      .select({ id: categories.id, name: categories.name })
      .from(categories)
      .where(eq(categories.projectId, project.id));
    projects[name] = { id: project.id, categories: Object.fromEntries(rows.map((r) => [r.name, r.id])) };
  }
  return { teamId: team.id, name: input.name, emails, userIds, projects };
}

/**
 * A thread created at `createdAt` with one question per entry of `questions` (the first at the
 * thread's creation), labelled with `category` (by the classifier) or not.
 */
export async function seedThread(
  db: Db,
  projectId: string,
  createdAt: string,
  options: { questions?: string[]; categoryId?: string; source?: "classifier" | "user" } = {},
): Promise<string> {
  const asked = [createdAt, ...(options.questions ?? [])];
  const [thread] = await db
    .insert(threads)
    .values({
      projectId,
      createdAt: new Date(createdAt),
      firstQuestion: "How do I deploy?",
      questionCount: asked.length,
      categoryId: options.categoryId ?? null,
      categorySource: options.categoryId ? (options.source ?? "classifier") : null,
      classifiedAt: options.categoryId ? new Date(createdAt) : null,
    })
    .returning({ id: threads.id });
  if (!thread) throw new Error("no thread inserted");
  await db.insert(questionAnswers).values(
    asked.map((at, i) => ({
      threadId: thread.id,
      position: i + 1,
      question: i === 0 ? "How do I deploy?" : `Follow-up ${i}`,
      answer: "Like this.",
      createdAt: new Date(at),
    })),
  );
  return thread.id;
}

/**
 * The report scenario: "Acme <& Co>" (two users; "Docs bot" with traffic in the period and the
 * week before, "API bot" with none) and "Globex" (one user; "Support" with an added category).
 * Times are relative to the period's start, so every test file can use a week of its own.
 */
export async function seedReportScenario(db: Db, periodId: string) {
  const period = parsePeriod(periodId);
  const at = (days: number, hours = 10) =>
    new Date(period.start.getTime() + days * 86_400_000 + hours * 3_600_000).toISOString();

  const acme = await seedTeam(db, { name: "Acme <& Co>", users: 2, projects: ["Docs bot", "API bot"] });
  const docs = acme.projects["Docs bot"] as SeededTeam["projects"][string];
  await seedThread(db, docs.id, at(-5), { questions: [at(1)] }); // last week, with a follow-up this week
  await seedThread(db, docs.id, at(0, 0), { questions: [at(0, 1)], categoryId: docs.categories.Troubleshooting });
  await seedThread(db, docs.id, at(2), { categoryId: docs.categories.Troubleshooting });
  await seedThread(db, docs.id, at(6, 23), { categoryId: docs.categories.Discovery, source: "user" });
  await seedThread(db, docs.id, at(3)); // unlabelled
  await seedThread(db, docs.id, at(7, 0)); // next week: not in the report

  const globex = await seedTeam(db, {
    name: "Globex",
    users: 1,
    projects: ["Support"],
    extraCategories: { Support: ["Careers"] },
  });
  const support = globex.projects.Support as SeededTeam["projects"][string];
  await seedThread(db, support.id, at(1), { categoryId: support.categories.Careers });
  await seedThread(db, support.id, at(4), { questions: [at(4, 11)], categoryId: support.categories.Careers });
  await seedThread(db, support.id, at(-3), { categoryId: support.categories.Discovery });
  await seedThread(db, support.id, at(-2), { categoryId: support.categories.Discovery });

  return { acme, globex };
}
