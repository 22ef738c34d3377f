import { asBackfillTask } from "../shared/backfill/errors.js";
import type { EnqueueRangeResult } from "../shared/backfill/model.js";
import { enqueueRange } from "../shared/backfill/steps.js";
import { runtime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/** The backfill state machine's EnqueueRange task (one Map iteration): one range's ids to the backfill queue. */
export const handler = withLambdaContext(async (event: unknown): Promise<EnqueueRangeResult> => {
  return asBackfillTask(async () => {
    const { backfill, backfillQueue } = await runtime();
    return enqueueRange({ threads: backfill, queue: backfillQueue }, event);
  });
});
