import { beforeAll, describe, expect, it } from "vitest";
import { SHARED_CACHE_DIR } from "../../local/template.js";
import { useLocalRuntime } from "../support/processes.js";
import { eventually } from "../support/sqs.js";

/**
 * DESIGN.md's three team scenarios, end to end through `npm start` over HTTP: teams made with
 * `npx kapa`, categories edited through the API, labels read back from the threads list.
 */
const local = useLocalRuntime(
  "classification",
  {
    LLM_DELAY_MS: "20",
    CLASSIFIER_DELAY_MS: "50",
    LOCAL_VISIBILITY_TIMEOUT_SECONDS: "2",
    // The sweeper unlabels a deleted category's threads: every 5 s here, not every 5 minutes.
    LOCAL_RATE_SECONDS: "5",
    // The template the test run's global setup synthesized (test/e2e/startup.test.ts starts cold).
    TEMPLATE_CACHE_DIR: SHARED_CACHE_DIR,
  },
  "SIGINT",
);
let baseUrl: string;

interface Team {
  projectId: string;
  key: string;
}

interface ThreadBody {
  id: string;
  first_question: string;
  category: { id: string; name: string; source: string } | null;
}

beforeAll(async () => {
  baseUrl = (await local.start()).baseUrl;
}, 90_000);

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

async function newTeam(name: string): Promise<Team> {
  const team = await local.kapa(`team create --name '${name}'`);
  const project = await local.kapa(`project create --team ${team.id} --name '${name} bot'`);
  const key = await local.kapa(`key create --project ${project.id} --name e2e`);
  return { projectId: project.id as string, key: key.key as string };
}

async function api(team: Team, method: string, path: string, body?: unknown) {
  const response = await fetch(
    `${baseUrl.replace("localhost", "127.0.0.1")}/query/v1/projects/${team.projectId}/${path}`,
    {
      method,
      headers: { "X-API-KEY": team.key, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  );
  const text = await response.text();
  return { status: response.status, body: text ? json(text) : {} };
}

async function ask(team: Team, questions: string[]): Promise<void> {
  for (const question of questions) expect((await api(team, "POST", "chat", { question })).status).toBe(200);
}

async function categoryNames(team: Team): Promise<Map<string, string>> {
  const list = await api(team, "GET", "categories/");
  return new Map((list.body.results as { id: string; name: string }[]).map((c) => [c.id, c.name]));
}

/** Waits until every thread of the team carries a label, and returns them. */
function allLabelled(team: Team, count: number): Promise<ThreadBody[]> {
  return eventually(
    async () => {
      const page = await api(team, "GET", "threads/?limit=1000");
      const results = page.body.results as ThreadBody[];
      return results.length === count && results.every((t) => t.category) ? results : undefined;
    },
    60_000,
    250,
  );
}

describe("team scenarios over HTTP", () => {
  it("Team A keeps the defaults; a user's label survives", { timeout: 120_000 }, async () => {
    const a = await newTeam("Team A");
    await ask(a, ["How do I set up single sign-on?", "I get an error when I deploy", "Where is the pricing page?"]);
    const threads = await allLabelled(a, 3);
    const own = await categoryNames(a);
    expect(new Set(threads.map((t) => t.category?.name))).toEqual(new Set(["Discovery", "Troubleshooting"]));
    expect(threads.every((t) => own.has(t.category?.id as string) && t.category?.source === "classifier")).toBe(true);

    const target = threads.find((t) => t.category?.name === "Troubleshooting") as ThreadBody;
    const discoveryId = [...own].find(([, name]) => name === "Discovery")?.[0];
    expect((await api(a, "PATCH", `threads/${target.id}/`, { category_id: discoveryId })).status).toBe(200);
    await ask(a, ["One more question so the classifier keeps working"]);
    const after = await allLabelled(a, 4);
    expect(after.find((t) => t.id === target.id)?.category).toMatchObject({ name: "Discovery", source: "user" });
  });

  it("Team B adds Careers and Legal, and its threads use all four", { timeout: 120_000 }, async () => {
    const b = await newTeam("Team B");
    expect(
      (await api(b, "POST", "categories/", { name: "Careers", description: "Asking for open positions" })).status,
    ).toBe(201);
    expect(
      (await api(b, "POST", "categories/", { name: "Legal", description: "Asking about terms of service" })).status,
    ).toBe(201);
    await ask(b, [
      "Are there any open positions?",
      "What do your terms of service say?",
      "My build fails with an error",
    ]);
    const threads = await allLabelled(b, 3);
    const byQuestion = new Map(threads.map((t) => [t.first_question, t.category?.name]));
    expect(byQuestion.get("Are there any open positions?")).toBe("Careers");
    expect(byQuestion.get("What do your terms of service say?")).toBe("Legal");
    const own = await categoryNames(b);
    expect(threads.every((t) => own.has(t.category?.id as string))).toBe(true);
  });

  it("Team C deletes Discovery and adds Coding: old Discovery threads move to Coding or Troubleshooting", {
    timeout: 120_000,
  }, async () => {
    const c = await newTeam("Team C");
    await ask(c, [
      "How do I figure out how to do something?",
      "How do I try the new feature?",
      "I have a problem with my account",
    ]);
    const before = await allLabelled(c, 3);
    expect(before.filter((t) => t.category?.name === "Discovery").length).toBeGreaterThan(0);

    expect(
      (await api(c, "POST", "categories/", { name: "Coding", description: "Writing code against the API" })).status,
    ).toBe(201);
    const discoveryId = [...(await categoryNames(c))].find(([, name]) => name === "Discovery")?.[0];
    expect((await api(c, "DELETE", `categories/${discoveryId}/`)).status).toBe(204);
    await ask(c, ["How do I write code for the API?"]);

    const after = await allLabelled(c, 4);
    expect(after.every((t) => t.category?.name === "Coding" || t.category?.name === "Troubleshooting")).toBe(true);
    expect(after.find((t) => t.first_question === "How do I write code for the API?")?.category?.name).toBe("Coding");
  });
});
