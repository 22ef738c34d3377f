import { inject } from "vitest";
import { startWorldOn, type TestWorld, type TestWorldOptions, type WorldPlace } from "./local-world.js";

export type { TestWorld, TestWorldOptions } from "./local-world.js";

/**
 * The local world for one test file, on the run's SQS emulator and, unless the file has one of
 * its own, the run's test database (global-setup.ts).
 */
export function startTestWorld(
  options: TestWorldOptions,
  database: WorldPlace["database"] = inject("database"),
): Promise<TestWorld> {
  return startWorldOn({ sqsEndpoint: inject("sqsEndpoint"), database }, options);
}
