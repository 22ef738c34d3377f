import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

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
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
      throw new Error(`local runtime did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    output: () => output,
    async stop(signal = "SIGINT") {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, signal);
      return exited;
    },
  };
}

/** Runs a shell command line (a pasted curl, `npx kapa ...`) and returns its stdout. */
export async function shell(command: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run("bash", ["-c", command], {
    env: { ...process.env, ...env },
    maxBuffer: 10 * 1024 * 1024,
  });
  return stdout;
}
