import { expect, it } from "vitest";
import { useLocalRuntime } from "../support/processes.js";

/**
 * Nothing runs before the runtime is complete: on a fresh data directory (no cached template, an
 * empty database) with the sweeper's schedule at 1 s, no scheduled or polled function runs before
 * the migrations (no ERROR lines), and the API has every binding from the first request on.
 */
const local = useLocalRuntime(
  "startup",
  { LLM_DELAY_MS: "20", LOCAL_RATE_SECONDS: "1", LOG_LEVEL: "info", TEMPLATE_CACHE_DIR: "" },
  "SIGINT",
);

it("starts complete: migrated before anything runs, reclassify bound from the first request", {
  timeout: 240_000,
}, async () => {
  const runtime = await local.start({ timeoutMs: 200_000 });
  const output = runtime.output();
  expect(output).toMatch(/started in: +\d+\.\d s \(template synthesized now/);
  expect(output).toMatch(/DEVIATION: +rate\(\) schedules run every 1 s/);
  expect(output.slice(0, output.indexOf("kapa-service is running"))).not.toMatch(/ERROR/);
  // Requests one after another for four of the sweeper's 1 s periods, so that its runs fall
  // between them: never "BACKFILL_STATE_MACHINE_ARN is not set".
  const statuses = new Set<number>();
  const until = Date.now() + 4 * 1000;
  let requests = 0;
  while (requests < 16 || Date.now() < until) {
    const response = await fetch(`${runtime.projectUrl}/reclassify/`, {
      method: "POST",
      headers: { "X-API-KEY": runtime.apiKey },
      body: JSON.stringify({ scope: "classifier" }),
    });
    requests++;
    statuses.add(response.status);
    expect(response.status, await response.text()).toBeLessThan(500);
  }
  expect(statuses.has(202)).toBe(true);
  expect(runtime.output()).not.toMatch(/ERROR/);
});
