/**
 * The V8 heap a Lambda function of `memorySize` MB gets. The Node.js runtime's bootstrap
 * (/var/runtime/bootstrap in the public.ecr.aws/lambda/nodejs images) starts node with
 * `--max-semi-space-size=<new/2> --max-old-space-size=<memory - new>`, where new = memory / 10.
 * The local runtime gives each function the same limits, so that V8 sizes and collects its heap
 * as it would in Lambda, not as it would on a 24 GB development machine (where it lets garbage
 * accumulate far longer).
 */
export interface LambdaHeap {
  semiSpaceMb: number;
  oldSpaceMb: number;
}

export function lambdaHeap(memorySize: number): LambdaHeap {
  const newSpaceMb = Math.floor(memorySize / 10);
  return { semiSpaceMb: Math.floor(newSpaceMb / 2), oldSpaceMb: memorySize - newSpaceMb };
}

/** The same limits as node flags (NODE_OPTIONS of a process that plays the function). */
export function lambdaHeapFlags(memorySize: number): string {
  const { semiSpaceMb, oldSpaceMb } = lambdaHeap(memorySize);
  return `--max-semi-space-size=${semiSpaceMb} --max-old-space-size=${oldSpaceMb}`;
}

/**
 * The same limits for a worker thread. V8's young generation is three semi-spaces' worth (two
 * semi-spaces and the new large-object space): https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib
 */
export function lambdaWorkerLimits(memorySize: number): {
  maxYoungGenerationSizeMb: number;
  maxOldGenerationSizeMb: number;
} {
  const { semiSpaceMb, oldSpaceMb } = lambdaHeap(memorySize);
  return { maxYoungGenerationSizeMb: 3 * semiSpaceMb, maxOldGenerationSizeMb: oldSpaceMb };
}
