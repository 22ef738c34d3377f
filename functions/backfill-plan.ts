import { asBackfillTask } from "../shared/backfill/errors.js";
import type { LoopState } from "../shared/backfill/model.js";
import { planPage } from "../shared/backfill/steps.js";
import { runtime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/** The backfill state machine's Plan task: the next page of thread-id ranges. */
export const handler = withLambdaContext(async (event: unknown): Promise<LoopState> => {
  return asBackfillTask(async () => planPage((await runtime()).backfill, event));
});
