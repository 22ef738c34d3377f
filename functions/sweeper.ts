import { sweep } from "../shared/classification/sweeper.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { runtime } from "../shared/platform/runtime.js";

/** Run by EventBridge Scheduler every few minutes: re-sends threads left unclassified. */
export const handler = withLambdaContext(async (): Promise<{ requeued: number }> => {
  const { labels, classificationQueue, env } = await runtime();
  return sweep(
    { labels, queue: classificationQueue },
    {
      graceSeconds: env.SWEEPER_GRACE_SECONDS,
      lookbackHours: env.SWEEPER_LOOKBACK_HOURS,
      maxThreads: env.SWEEPER_MAX_THREADS,
    },
  );
});
