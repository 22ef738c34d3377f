import { inject } from "vitest";
import { testDatabase } from "./database.js";
import { startWorldOn, type TestWorld, type TestWorldOptions, type WorldPlace } from "./local-world.js";

export type { TestWorld, TestWorldOptions } from "./local-world.js";

/**
 * The local world for one test file, on the run's SQS emulator and, unless the file has one of
 * its own, this worker's test database (database.ts).
 */
export function startTestWorld(
  options: TestWorldOptions,
  database: WorldPlace["database"] = testDatabase(),
): Promise<TestWorld> {
  return startWorldOn({ sqsEndpoint: inject("sqsEndpoint"), database }, options);
}
