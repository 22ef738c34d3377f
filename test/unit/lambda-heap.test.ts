import { execFileSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { lambdaHeap, lambdaHeapFlags, lambdaWorkerLimits } from "../../local/lambda-heap.js";

describe("the V8 heap of a local function", () => {
  it("is the one the Lambda Node.js bootstrap gives its memory size", () => {
    // new space = memory / 10, semi-space = half of it, old space = the rest (integer MB, as `expr`).
    expect(lambdaHeap(1024)).toEqual({ semiSpaceMb: 51, oldSpaceMb: 922 });
    expect(lambdaHeap(512)).toEqual({ semiSpaceMb: 25, oldSpaceMb: 461 });
    expect(lambdaHeap(128)).toEqual({ semiSpaceMb: 6, oldSpaceMb: 116 });
    expect(lambdaHeapFlags(1024)).toBe("--max-semi-space-size=51 --max-old-space-size=922");
  });

  it("bounds a worker thread's heap as the flags bound a process's", async () => {
    const heapLimit = "require('node:v8').getHeapStatistics().heap_size_limit";
    for (const memorySize of [512, 1024]) {
      const flags = lambdaHeapFlags(memorySize).split(" ");
      const processLimit = Number(execFileSync(process.execPath, [...flags, "-p", heapLimit], { encoding: "utf8" }));
      const worker = new Worker(`require("node:worker_threads").parentPort.postMessage(${heapLimit})`, {
        eval: true,
        resourceLimits: lambdaWorkerLimits(memorySize),
      });
      const workerLimit = await new Promise<number>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      await worker.terminate();

      expect(workerLimit).toBe(processLimit);
      // And the node defaults of this machine are something else (the reason for all this).
      expect(processLimit).not.toBe(Number(execFileSync(process.execPath, ["-p", heapLimit], { encoding: "utf8" })));
    }
  });
});
