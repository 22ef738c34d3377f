import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll } from "vitest";
import { SHARED_CACHE_DIR } from "../../local/template.js";

/** What `npx kapa` runs, on the Node running the tests. */
const KAPA_BIN = `"${process.execPath}" "${join(import.meta.dirname, "../../cli/bin.mjs")}"`;

const run = promisify(execFile);

export interface Started {
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `npm start` as a user would and waits (with a deadline) until it prints `ready`. */
export async function startLocalRuntime(
  env: Record<string, string>,
  ready: RegExp,
  // npm start takes 60-80 s to its banner on 2 cores at load 16-20 (the state machine's synthesis).
  timeoutMs = 180_000,
): Promise<Started> {
  const child = spawn("npm", ["start", "--silent"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a signal reaches npm and the runtime alike, as Ctrl-C in a terminal does.
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  // "close": npm has exited and every process of its group has closed the output (the runtime
  // prints its last lines after npm has died of a signal).
  let closed = false;
  const ended = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      closed = true;
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const settle = (ok: boolean) => {
      clearTimeout(deadline);
      child.stdout?.off("data", onOutput);
      child.stderr?.off("data", onOutput);
      child.off("exit", onExit);
      if (ok) return resolve();
      signalGroup(child, "SIGKILL");
      reject(new Error(`local runtime did not start:\n${output}`));
    };
    // After the listeners above that append the chunk: the output then includes it.
    const onOutput = () => ready.test(output) && settle(true);
    const onExit = () => settle(false);
    const deadline = setTimeout(() => settle(false), timeoutMs);
    child.stdout?.on("data", onOutput);
    child.stderr?.on("data", onOutput);
    child.once("exit", onExit);
  });
  return {
    child,
    output: () => output,
    async stop(signal = "SIGINT") {
      if (!closed) signalGroup(child, signal);
      return ended;
    },
  };
}

/** Signals npm's process group, if any of it is left. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Runs a shell command line (a pasted curl, `npx kapa ...`) and returns its stdout. */
export async function shell(command: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run("bash", ["-c", command], {
    env: { ...process.env, ...env },
    maxBuffer: 10 * 1024 * 1024,
  });
  return stdout;
}

/** `npm start` up to its banner, with what the banner prints: the gateway and the demo project's key. */
export interface LocalRuntime extends Started {
  /** The gateway as printed, `http://localhost:<port>`. */
  baseUrl: string;
  projectId: string;
  /** `<baseUrl>/query/v1/projects/<projectId>`. */
  projectUrl: string;
  apiKey: string;
}

export interface LocalRuntimeFixture {
  /** The file's own data directory (DATA_DIR), removed after the file. */
  dataDir: string;
  /** The environment `npm start` runs with; also for the `npx kapa` commands of the test. */
  env: Record<string, string>;
  /**
   * Starts `npm start` (again: the previous one must have stopped) and waits for its banner;
   * `env` adds to the fixture's environment what is known only now (a proxy's URL).
   */
  start(options?: { timeoutMs?: number; env?: Record<string, string> }): Promise<LocalRuntime>;
  /**
   * `kapa <args> --json` on the runtime's database, its JSON answer: the bin `npx kapa` runs
   * (package.json "bin"), started directly; `"npx"` goes through npx as the README does, which
   * adds npx's own start to every call.
   */
  kapa(args: string, via?: "npx"): Promise<Record<string, unknown>>;
}

/** `npm start` on `dataDir`, with the embedded database and ports the OS picks (runs side by side). */
export function freshRuntimeEnv(dataDir: string): Record<string, string> {
  return { DATA_DIR: dataDir, PORT: "0", PGLITE_PORT: "0", SQS_PORT: "0", SES_PORT: "0", DATABASE_URL: "" };
}

/** Starts `npm start` with `env` and waits for its banner; what the banner prints comes with it. */
export async function startNpmStart(env: Record<string, string>, timeoutMs?: number): Promise<LocalRuntime> {
  const started = await startLocalRuntime(env, /Press Ctrl-C to stop/, timeoutMs);
  return { ...started, ...printedDemo(started.output()) };
}

/**
 * `npm start` on a fresh data directory of the test file's own: the embedded database, ports the
 * OS picks (test files run side by side), the run's cached template, LOG_LEVEL warn and no LLM delay unless `env` says
 * otherwise. After the file, the last runtime started gets `stopWith` and the directory goes.
 */
export function useLocalRuntime(
  name: string,
  env: Record<string, string> = {},
  stopWith: NodeJS.Signals = "SIGKILL",
): LocalRuntimeFixture {
  const dataDir = mkdtempSync(join(tmpdir(), `kapa-npm-start-${name}-`));
  const fullEnv = {
    ...freshRuntimeEnv(dataDir),
    LLM_DELAY_MS: "0",
    LOG_LEVEL: "warn",
    // The template the run's global setup synthesized (each fresh DATA_DIR would synthesize it
    // again); a test of a cold start sets it to "".
    TEMPLATE_CACHE_DIR: SHARED_CACHE_DIR,
    ...env,
  };
  let current: Started | undefined;
  afterAll(async () => {
    await current?.stop(stopWith);
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    dataDir,
    env: fullEnv,
    async start({ timeoutMs, env: more } = {}) {
      const started = await startNpmStart({ ...fullEnv, ...more }, timeoutMs);
      current = started;
      return started;
    },
    kapa: (args, via) =>
      shell(`${via === "npx" ? "npx kapa" : KAPA_BIN} ${args} --json`, fullEnv).then(
        (out) => JSON.parse(out) as Record<string, unknown>,
      ),
  };
}

function printedDemo(output: string): Omit<LocalRuntime, keyof Started> {
  const printed = (pattern: RegExp, what: string) => {
    const found = pattern.exec(output)?.[1];
    if (!found) throw new Error(`npm start printed no ${what}:\n${output}`);
    return found;
  };
  const baseUrl = printed(/kapa-service is running at (http:\/\/localhost:\d+)/, "gateway URL");
  const projectId = printed(/projects\/([0-9a-f-]{36})\/chat/, "demo project");
  const apiKey = printed(/X-API-KEY: (kapa2?_[\w-]+)'/, "demo key");
  return { baseUrl, projectId, projectUrl: `${baseUrl}/query/v1/projects/${projectId}`, apiKey };
}
