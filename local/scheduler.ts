import { logger } from "../shared/platform/logger.js";

/**
 * Plays EventBridge Scheduler for rate schedules: runs `job` every `intervalMs`, never two runs
 * of one job at once, logging failures (the next run is the retry).
 */
export function every(name: string, intervalMs: number, job: () => Promise<unknown>): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = job()
      .catch((error: unknown) => logger.error(`scheduled job ${name} failed`, { error }))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
