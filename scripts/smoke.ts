/**
 * Smoke test of a deployed kapa-service API (`npm run smoke`): a handful of real requests that
 * prove the stack answers end to end (API Gateway, authorizer, handlers, database, queue,
 * classifier). It changes nothing but one new thread in the given project.
 *
 *   API_URL      the stage URL; default: the stack output ApiUrl, read with
 *                `aws cloudformation describe-stacks` (`awslocal` ... when LOCALSTACK=1)
 *   STACK_NAME   default KapaService
 *   API_KEY      a project API key (`npx kapa key create --project $PROJECT_ID`), required
 *   PROJECT_ID   the project that key is granted, required
 *   SMOKE_LABEL_TIMEOUT_SECONDS  how long to wait for the classifier's label (default 300; 0 skips)
 *   SMOKE_THROTTLE=1             also burst requests until API Gateway answers 429 (spends quota)
 *
 * It needs a deployed stack (AWS, or LocalStack with Docker and a token): it cannot run on a
 * machine without either. Against the local runtime it works too: API_URL=http://localhost:8002.
 */
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

const env = process.env;
const checks: { name: string; ok: boolean; detail: string }[] = [];

function fail(message: string): never {
  console.error(`smoke: ${message}`);
  process.exit(2);
}

/** The ApiUrl output of the deployed stack (aws CLI, or awslocal for LocalStack). */
function stackApiUrl(stackName: string): string {
  const cli = env.LOCALSTACK === "1" ? "awslocal" : "aws";
  const args = [
    "cloudformation",
    "describe-stacks",
    "--stack-name",
    stackName,
    "--query",
    "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue",
    "--output",
    "text",
  ];
  try {
    const url = execFileSync(cli, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    if (!url || url === "None") fail(`stack ${stackName} has no ApiUrl output`);
    return url;
  } catch (error) {
    return fail(`could not read the ApiUrl of ${stackName} with \`${cli}\` (${(error as Error).message}); set API_URL`);
  }
}

async function call(method: string, url: string, options: { key?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (options.key !== undefined) headers["X-API-KEY"] = options.key;
  const response = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text, and the check that expects JSON fails.
  }
  return { status: response.status, body, headers: response.headers };
}

const field = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;

function check(name: string, reply: Reply, expected: number, assert: (body: unknown) => boolean = () => true) {
  const ok = reply.status === expected && assert(reply.body);
  checks.push({ name, ok, detail: `${reply.status} ${JSON.stringify(reply.body).slice(0, 120)}` });
  return ok;
}

const hasDetail = (body: unknown) => typeof field(body, "detail") === "string";

async function main(): Promise<void> {
  const apiKey = env.API_KEY ?? fail("set API_KEY (a project key: npx kapa key create --project ...)");
  const project = env.PROJECT_ID ?? fail("set PROJECT_ID (the project the key is granted)");
  const apiUrl = (env.API_URL ?? stackApiUrl(env.STACK_NAME ?? "KapaService")).replace(/\/+$/, "");
  const base = `${apiUrl}/query/v1/projects/${project}`;
  console.log(`smoke: ${apiUrl} (project ${project})`);

  check("GET /openapi.json without a key", await call("GET", `${apiUrl}/openapi.json`), 200, (b) =>
    String(field(b, "openapi")).startsWith("3."),
  );
  const question = { question: `Smoke test ${new Date().toISOString()}: how do I deploy?` };
  check("POST chat without a key -> 401", await call("POST", `${base}/chat`, { body: question }), 401, hasDetail);
  check(
    "POST chat with a wrong key -> 403",
    await call("POST", `${base}/chat`, { key: "kapa_000000000000_wrong", body: question }),
    403,
    (b) => field(b, "detail") === "Forbidden",
  );
  check(
    "POST chat with an invalid body -> 400",
    await call("POST", `${base}/chat`, { key: apiKey, body: { question: "" } }),
    400,
    hasDetail,
  );

  const first = await call("POST", `${base}/chat`, { key: apiKey, body: question });
  const threadId = field(first.body, "thread_id");
  const chatted = check("POST chat", first, 200, (b) => typeof field(b, "answer") === "string" && !!threadId);
  if (!chatted || typeof threadId !== "string") return;
  check(
    "POST chat follow-up in the thread",
    await call("POST", `${base}/chat`, { key: apiKey, body: { question: "And roll back?", thread_id: threadId } }),
    200,
    (b) => field(b, "thread_id") === threadId,
  );
  check("GET threads/", await call("GET", `${base}/threads/?limit=10`, { key: apiKey }), 200, (b) =>
    ((field(b, "results") ?? []) as unknown[]).some((t) => field(t, "id") === threadId),
  );
  check("GET threads/{id}/", await call("GET", `${base}/threads/${threadId}/`, { key: apiKey }), 200, (b) =>
    Array.isArray(field(b, "question_answers")),
  );
  check("GET categories/", await call("GET", `${base}/categories/`, { key: apiKey }), 200, (b) =>
    Array.isArray(field(b, "results")),
  );

  // The classifier labels the new thread asynchronously: poll with a deadline.
  const labelTimeout = Number(env.SMOKE_LABEL_TIMEOUT_SECONDS ?? 300);
  if (labelTimeout > 0) {
    const deadline = Date.now() + labelTimeout * 1000;
    let thread: Reply | undefined;
    do {
      thread = await call("GET", `${base}/threads/${threadId}/`, { key: apiKey });
      if (field(thread.body, "category")) break;
      await sleep(5000);
    } while (Date.now() < deadline);
    check(`thread labelled within ${labelTimeout} s`, thread, 200, (b) => !!field(field(b, "category"), "name"));
  }

  if (env.SMOKE_THROTTLE === "1") {
    // More than the per-key burst at once: API Gateway's usage plan answers some with 429.
    const burst = await Promise.all(
      Array.from({ length: 200 }, () => call("GET", `${base}/categories/`, { key: apiKey })),
    );
    const throttled = burst.find((r) => r.status === 429);
    checks.push({
      name: "per-key throttling -> 429",
      ok: !!throttled && hasDetail(throttled.body),
      detail: `${burst.filter((r) => r.status === 429).length} of ${burst.length} throttled`,
    });
  }
}

await main();
const width = Math.max(...checks.map((c) => c.name.length));
for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(width)}  ${c.detail}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
