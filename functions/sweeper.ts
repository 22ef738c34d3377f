import type { Context } from "aws-lambda";
import { relabelDeletedCategories } from "../shared/categories/relabel.js";
import { UnlabelRepository } from "../shared/categories/unlabel.js";
import { sweep } from "../shared/classification/sweeper.js";
import { handlerRuntime, runtime } from "../shared/composition/runtime.js";
import { logger, withLambdaContext } from "../shared/platform/logger.js";

/** The share of the function's time the deleted categories' unlabelling may take: the sweep follows it. */
const RELABEL_SHARE_OF_TIMEOUT = 0.5;
/** Without a Lambda context (the local scheduler): this long. */
const RELABEL_BUDGET_MS = 60_000;

const unlabel = handlerRuntime((shared) => new UnlabelRepository(shared.database.db));

/**
 * Run by EventBridge Scheduler every few minutes: unlabels the threads of deleted categories, a
 * batch at a time, and sends them to the backfill queue; then re-sends threads left unclassified.
 */
export const handler = withLambdaContext(async (_event: unknown, context?: Context) => {
  const { labels, classificationQueue, backfillQueue, env } = await runtime();
  const budget = context ? context.getRemainingTimeInMillis() * RELABEL_SHARE_OF_TIMEOUT : RELABEL_BUDGET_MS;
  // A failed unlabelling (the database unavailable) leaves it to the next run; the sweep still runs.
  const relabelled = await relabelDeletedCategories(
    { unlabel: await unlabel(), backfillQueue },
    { deadline: Date.now() + budget },
  ).catch((error: unknown) => {
    logger.warn("could not unlabel the threads of deleted categories; the next run will", { error });
    return null;
  });
  const swept = await sweep(
    { labels, queue: classificationQueue, backfillQueue },
    {
      graceSeconds: env.SWEEPER_GRACE_SECONDS,
      lookbackHours: env.SWEEPER_LOOKBACK_HOURS,
      maxThreads: env.SWEEPER_MAX_THREADS,
    },
  );
  return { ...swept, relabelled };
});
