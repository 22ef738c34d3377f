import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sample's function lives: a package, our own folder, Node itself, or the VM's states. */
function bucketOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (pkg) return pkg.startsWith("@smithy/") || pkg.startsWith("@aws-sdk/") ? "@aws-sdk + @smithy" : pkg;
  if (url.startsWith("node:")) return "node (internals)";
  const own = url.match(/\/(shared|local|functions|bench)\//)?.[1];
  return own ? `${own}/` : url;
}

/** Self time per bucket, as a share of the profiled wall time, highest first. */
function summarize(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    all += dt;
    const node = byId.get(id);
    if (node) totals.set(bucketOf(node), (totals.get(bucketOf(node)) ?? 0) + dt);
  });
  return Object.fromEntries(
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([bucket, us]) => [bucket, Math.round((us / all) * 1000) / 1000]),
  );
}

export interface Probe {
  /** Stops measuring: the event loop's delay (ms) and, when profiling, the CPU profile's shares. */
  stop(name: string): Promise<{
    event_loop_delay_ms: { p50: number; p99: number; max: number };
    cpu_profile?: Record<string, number>;
  }>;
}

/**
 * Event-loop delay (always) and, with BENCH_PROFILE=1, a V8 CPU profile of just the measured
 * window, written to bench/results/<name>.cpuprofile (open it in Chrome DevTools) and summed up
 * per package. Profiling slows the process: compare figures of runs without it.
 */
export async function startProbe(): Promise<Probe> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const session = process.env.BENCH_PROFILE === "1" ? new Session() : null;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  return {
    async stop(name) {
      delay.disable();
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const event_loop_delay_ms = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
      if (!session) return { event_loop_delay_ms };
      const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
      session.disconnect();
      mkdirSync("bench/results", { recursive: true });
      writeFileSync(`bench/results/${name}.cpuprofile`, JSON.stringify(profile));
      return { event_loop_delay_ms, cpu_profile: summarize(profile) };
    },
  };
}
