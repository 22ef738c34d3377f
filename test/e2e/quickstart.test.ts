import { describe, expect, it } from "vitest";
import { shell, useLocalRuntime } from "../support/processes.js";

/**
 * The README's quick start, as a newcomer does it: `npm start` on a fresh data directory with the
 * embedded database, paste the printed curl, continue the thread, list it, then create a second
 * project and key with `npx kapa` while the runtime runs, and check the keys cannot cross.
 */
const local = useLocalRuntime("quickstart", { LLM_DELAY_MS: "50" });

function printedCurl(output: string): string {
  const lines = output.split("\n");
  const start = lines.findIndex((l) => l.trim().startsWith("curl -s -X POST"));
  return lines
    .slice(start, start + 3)
    .map((l) => l.trim())
    .join(" ")
    .replace(/\\ /g, " ");
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe("quick start over HTTP", () => {
  it("chats, continues, lists, and isolates a second project's key", { timeout: 180_000 }, async () => {
    let runtime = await local.start();
    const curl = printedCurl(runtime.output());
    expect(curl).toMatch(/^curl -s -X POST http:\/\/localhost:\d+\/query\/v1\/projects\/[0-9a-f-]+\/chat/);

    const first = json(await shell(curl));
    expect(first).toMatchObject({ question: "How do I create an API key?", answer: expect.any(String) });

    const base = /(http:\/\/localhost:\d+\/query\/v1\/projects\/[0-9a-f-]+)\/chat/.exec(curl)?.[1] as string;
    const key = /X-API-KEY: (kapa2?_\S+)'/.exec(curl)?.[1] as string;
    const followUp = json(
      await shell(
        `curl -s -X POST ${base}/chat -H 'X-API-KEY: ${key}' -H 'Content-Type: application/json' -d '{"question": "And then?", "thread_id": "${first.thread_id}"}'`,
      ),
    );
    expect(followUp.thread_id).toBe(first.thread_id);

    const listed = json(await shell(`curl -s ${base}/threads/ -H 'X-API-KEY: ${key}'`));
    expect(listed.count).toBe(1);
    expect(listed.results).toMatchObject([{ id: first.thread_id, total_questions: 2, category: null }]);

    const team = await local.kapa("team create --name 'Second team'", "npx");
    const project = await local.kapa(`project create --team ${team.id} --name 'Second bot'`);
    const secondKey = await local.kapa(`key create --project ${project.id} --name second`);
    expect(secondKey).toMatchObject({
      id: expect.any(String),
      prefix: expect.any(String),
      key: expect.stringMatching(/^kapa2?_/),
    });

    const crossed = await shell(`curl -s -w ' %{http_code}' ${base}/threads/ -H 'X-API-KEY: ${secondKey.key}'`);
    expect(crossed).toBe('{"detail":"Forbidden"} 403');
    const crossedThread = await shell(
      `curl -s -w ' %{http_code}' ${base}/threads/${first.thread_id}/ -H 'X-API-KEY: ${secondKey.key}'`,
    );
    expect(crossedThread).toBe('{"detail":"Forbidden"} 403');
    const secondBase = base.replace(/projects\/[0-9a-f-]+/, `projects/${project.id}`);
    const own = json(await shell(`curl -s ${secondBase}/threads/ -H 'X-API-KEY: ${secondKey.key}'`));
    expect(own).toMatchObject({ count: 0, results: [] });
    const ownThreadOfOther = await shell(
      `curl -s -w ' %{http_code}' ${secondBase}/threads/${first.thread_id}/ -H 'X-API-KEY: ${secondKey.key}'`,
    );
    expect(ownThreadOfOther).toMatch(/not found.* 404$/);

    const revoked = await local.kapa(`key revoke ${secondKey.id}`);
    expect(revoked.id).toBe(secondKey.id);

    // Ctrl-C: npm dies of the signal, the runtime shuts down cleanly and says so.
    await runtime.stop("SIGINT");
    expect(runtime.output()).toMatch(/SIGINT: stopping\.\.\.\nstopped/);

    // A restart keeps the data and the demo key.
    runtime = await local.start();
    const again = printedCurl(runtime.output());
    const restartedBase = /(http:\/\/localhost:\d+\/query\/v1\/projects\/[0-9a-f-]+)\/chat/.exec(again)?.[1] as string;
    const after = json(await shell(`curl -s ${restartedBase}/threads/ -H 'X-API-KEY: ${key}'`));
    expect(after.count).toBe(1);
    await runtime.stop("SIGINT");
    expect(runtime.output()).toMatch(/stopped/);
  });
});
