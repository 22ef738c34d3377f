import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { bundleFunctions } from "../../local/lambda-bundle.js";
import { REPO_ROOT, SHARED_CACHE_DIR } from "../../local/template.js";

/** The functions' bundles the local worlds run (local/lambda-bundle.ts), as the global setup built them. */
describe("the functions' bundles", () => {
  it("holds every function of functions/ and the environment's runtime, and is found again, not rebuilt", async () => {
    const first = await bundleFunctions({ cacheDir: SHARED_CACHE_DIR });
    const entries = readdirSync(join(REPO_ROOT, "functions")).map((name) => name.replace(/\.ts$/, ""));
    for (const entry of entries) expect(existsSync(fileURLToPath(first.module(entry))), entry).toBe(true);
    expect(existsSync(fileURLToPath(first.worker))).toBe(true);
    const again = await bundleFunctions({ cacheDir: SHARED_CACHE_DIR });
    expect(again.dir).toBe(first.dir);
  });

  it("maps a function's stack trace to its TypeScript sources, with the template's --enable-source-maps", async () => {
    const { module } = await bundleFunctions({ cacheDir: SHARED_CACHE_DIR });
    // The authorizer without an API key in its event fails inside shared/ code.
    const code = `
      const { parentPort } = await import("node:worker_threads");
      const { handler } = await import(${JSON.stringify(module("authorizer"))});
      try { await handler(null, {}); parentPort.postMessage("no error"); }
      catch (error) { parentPort.postMessage(String(error.stack)); }`;
    const worker = new Worker(code, {
      eval: true,
      execArgv: ["--enable-source-maps"],
      env: { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none" },
    });
    const stack = await new Promise<string>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(stack).toMatch(/\/(functions|shared)\/[\w/-]+\.ts:\d+:\d+/);
    expect(stack).not.toMatch(/\.mjs:\d+/);
  });
});
