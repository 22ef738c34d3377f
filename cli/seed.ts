import { seedThreads } from "../shared/admin/seed.js";
import type { Db } from "../shared/db/client.js";
import { InvalidInputError } from "../shared/platform/errors.js";
import { createProgress } from "./progress.js";

export interface SeedCommandArgs {
  /** Threads to create. @default 1000 */
  count?: string | number;
  /** New projects to spread them over. @default 10 */
  projects?: string | number;
  /** The projects' team (default: a new "Seed team"). */
  team?: string;
}

type Output = { json: Record<string, unknown>; text: string };

function positive(value: string | number | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "number" ? value : Number(value.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidInputError(`--${flag} must be a whole number in 1..${max}`);
  return n;
}

/**
 * `npx kapa seed threads --count 1000000 --projects 100 [--team ID]`: realistic unlabelled threads
 * (first questions, follow-ups, answers) in new projects with the default categories, as the
 * threads that existed before classification: what `npx kapa backfill start` then labels.
 */
export async function seedCommand(
  db: Db,
  what: string | undefined,
  args: SeedCommandArgs,
  progress?: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<Output> {
  if (what !== "threads") throw new InvalidInputError("Usage: seed threads --count N --projects P [--team ID]");
  const count = positive(args.count, "count", 1000, 100_000_000);
  const projects = positive(args.projects, "projects", 10, 10_000);
  const bar = progress ? await createProgress(progress, { unit: "threads", plainEveryMs: 2000, initial: 0 }) : null;
  const seeded = await seedThreads(db, {
    count,
    projects,
    teamId: args.team,
    onProgress: (inserted) => bar?.update(inserted, count),
  }).finally(() => bar?.stop());
  return {
    json: {
      team_id: seeded.teamId,
      project_ids: seeded.projectIds,
      threads: seeded.threads,
      question_answers: seeded.questionAnswers,
      seconds: seeded.seconds,
    },
    text: `Seeded ${seeded.threads.toLocaleString("en-US")} threads (${seeded.questionAnswers.toLocaleString("en-US")} questions and answers) in ${seeded.projectIds.length} new project(s) of team ${seeded.teamId} in ${seeded.seconds} s`,
  };
}
