import { inject } from "vitest";
import { startWorldOn, type TestWorld, type TestWorldOptions } from "./local-world.js";

export type { TestWorld, TestWorldOptions } from "./local-world.js";

/** The local world for one test file, on the run's SQS emulator and test database (global-setup.ts). */
export function startTestWorld(options: TestWorldOptions): Promise<TestWorld> {
  return startWorldOn({ sqsEndpoint: inject("sqsEndpoint"), database: inject("database") }, options);
}
