import { execFileSync, spawnSync } from "node:child_process";
import { createTeam } from "../shared/admin/tenants.js";
import { benchEnvironment, report, stats } from "./lib.js";

/**
 * `npm run bench cli`: how long `npx kapa` takes to start, as a multiple of a bare `node -e 0`
 * measured in the same run (interleaved, so both see the same machine load). Targets (issue 14):
 * `kapa --help` at most 5x, `kapa team list` (on Postgres, 20 teams) at most 15x.
 */
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 15);
const TARGETS: Record<string, number> = { "kapa --help": 5, "kapa team list": 15 };

function wallMs(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

export async function benchCli(): Promise<void> {
  const environment = await benchEnvironment();
  try {
    for (let i = 0; i < 20; i++) await createTeam(environment.database.db, { name: `Bench team ${i}` });
    // Build (or check) the CLI once, outside the measurement, as `npm install` does.
    execFileSync(process.execPath, ["cli/bin.mjs", "--help"], { stdio: "ignore" });
    const commands: Record<string, string[]> = {
      "node -e 0": ["-e", "0"],
      "kapa --help": ["cli/bin.mjs", "--help"],
      "kapa team list": ["cli/bin.mjs", "team", "list"],
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
    for (let run = 0; run < RUNS + 2; run++) {
      for (const [name, args] of Object.entries(commands)) {
        const ms = wallMs(args);
        if (run >= 2) samples[name]?.push(ms); // two warm-up rounds (file cache)
      }
    }
    const baseline = stats(samples["node -e 0"] ?? []).p50;
    const rows = Object.entries(samples).map(([name, times]) => {
      const s = stats(times);
      const ratio = Math.round((s.p50 / baseline) * 10) / 10;
      const target = TARGETS[name];
      return {
        command: name,
        runs: s.n,
        p50_ms: Math.round(s.p50),
        p90_ms: Math.round(s.p90),
        x_node: ratio,
        target: target ? `<= ${target}x` : "",
        met: target ? (ratio <= target ? "yes" : "NO") : "",
      };
    });
    report("CLI start-up vs node -e 0", rows, { runs: RUNS, database: "Postgres (DATABASE_URL)", rows });
  } finally {
    await environment.close();
  }
}
