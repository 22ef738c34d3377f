import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { type Started, startLocalRuntime } from "../support/processes.js";

/**
 * Nothing runs before the runtime is complete: on a fresh data directory (no cached template, an
 * empty database) with the sweeper's schedule at 1 s, no scheduled or polled function runs before
 * the migrations (no ERROR lines), and the API has every binding from the first request on.
 */
const dataDir = mkdtempSync(join(tmpdir(), "kapa-e2e-startup-"));
const env = {
  DATA_DIR: dataDir,
  PORT: "0",
  PGLITE_PORT: "0",
  SQS_PORT: "0",
  SES_PORT: "0",
  DATABASE_URL: "",
  LLM_DELAY_MS: "20",
  LOCAL_RATE_SECONDS: "1",
  LOG_LEVEL: "info",
};
let runtime: Started | undefined;

afterAll(async () => {
  await runtime?.stop("SIGINT");
  rmSync(dataDir, { recursive: true, force: true });
});

it("starts complete: migrated before anything runs, reclassify bound from the first request", {
  timeout: 240_000,
}, async () => {
  runtime = await startLocalRuntime(env, /Press Ctrl-C to stop/, 200_000);
  const output = runtime.output();
  expect(output).toMatch(/started in: +\d+\.\d s \(template synthesized now/);
  expect(output).toMatch(/DEVIATION: +rate\(\) schedules run every 1 s/);
  expect(output.slice(0, output.indexOf("kapa-service is running"))).not.toMatch(/ERROR/);
  const base = /curl -s -X POST (http:\/\/localhost:\d+\/query\/v1\/projects\/[0-9a-f-]+)\/chat/.exec(output)?.[1];
  const key = /X-API-KEY: (kapa_[\w-]+)/.exec(output)?.[1] as string;
  // While the sweeper runs every second, for a few seconds: never "BACKFILL_STATE_MACHINE_ARN is not set".
  const deadline = Date.now() + 4000;
  const statuses = new Set<number>();
  while (Date.now() < deadline) {
    const response = await fetch(`${base}/reclassify/`, {
      method: "POST",
      headers: { "X-API-KEY": key },
      body: JSON.stringify({ scope: "classifier" }),
    });
    statuses.add(response.status);
    expect(response.status, await response.text()).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(statuses.has(202)).toBe(true);
  expect(runtime.output()).not.toMatch(/ERROR/);
});
