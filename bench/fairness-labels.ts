import { createTenant } from "../shared/admin/tenants.js";
import { createApiKey } from "../shared/auth/api-keys.js";
import {
  type FairnessScenario,
  type FairnessWorld,
  judge,
  measureQuiet,
  type ProjectClient,
  projectClient,
  type QuietPlan,
  runScenarios,
  startFairnessWorld,
} from "./fairness-world.js";
import { report } from "./lib.js";

/** Issue 23's target for a quiet project's live labels while another project is noisy. */
const TARGET = { maxRatio: 2, maxMs: 10_000 };
const SEEDED = Number(process.env.BENCH_FAIR_THREADS ?? 100_000);
const BURST = Number(process.env.BENCH_FAIR_BURST ?? 5000);
const SWEEP_EVERY_SECONDS = 15;
const SEED_CHUNK = 20_000;
const BURST_CLIENTS = 32;
/**
 * The burst comes from this many keys of the noisy project: one key's usage plan alone would
 * throttle it below what the classifier drains, and no backlog would form on the live queue.
 */
const BURST_KEYS = Number(process.env.BENCH_FAIR_BURST_KEYS ?? 10);

/** A tenant of the world with its categories, created through the API. */
async function project(world: FairnessWorld, label: string, categories: string[]) {
  const tenant = await createTenant(world.database.db, label);
  const client = projectClient(world.baseUrl, tenant);
  const ids: string[] = [];
  for (const name of categories) {
    const created = await client.call("POST", "/categories", { name });
    if (created.status !== 201 && created.status !== 200) throw new Error(`category ${name}: ${created.status}`);
    ids.push(created.body.id as string);
  }
  return { client, categoryIds: ids };
}

/** `count` threads of the project labelled by the classifier with `categoryId` a day ago, in SQL. */
async function seedLabelled(world: FairnessWorld, projectId: string, categoryId: string, count: number) {
  for (let done = 0; done < count; done += SEED_CHUNK) {
    const n = Math.min(SEED_CHUNK, count - done);
    await world.sql`
      insert into threads (project_id, first_question, category_id, category_source, classified_at, created_at)
      select ${projectId}::uuid, 'Seeded question ' || g, ${categoryId}::uuid, 'classifier',
             now() - interval '1 day', now() - interval '2 days'
      from generate_series(1, ${n}) g`;
  }
  await world.sql`vacuum analyze threads`;
}

/** `total` chats from `keys` of one project, BURST_CLIENTS at a time; a 429 is retried after a pause (other statuses are counted). */
async function burst(keys: readonly ProjectClient[], total: number): Promise<Record<string, unknown>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  let throttled = 0;
  const client = async () => {
    while (next < total) {
      const i = next++;
      const noisy = keys[i % keys.length] as ProjectClient;
      for (;;) {
        const reply = await noisy.call("POST", "/chat", { question: `Noisy question ${i}: how do I reset it?` });
        if (reply.status !== 429) {
          statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
          break;
        }
        throttled++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: BURST_CLIENTS }, client));
  return { chats: total, keys: keys.length, statuses, throttled_429_retried: throttled };
}

/** The quiet project (chatting on one key, reading on another) and the three noisy ones. */
async function fairnessProjects(world: FairnessWorld) {
  const quiet = await project(world, "quiet", ["Billing", "Setup"]);
  const deleter = await project(world, "noisy-delete", ["Doomed", "Kept"]);
  const reclassifier = await project(world, "noisy-reclassify", ["Old", "New"]);
  const burster = await project(world, "noisy-burst", ["Questions"]);
  const burstKeys = [burster.client];
  for (let k = 1; k < BURST_KEYS; k++) {
    burstKeys.push(await extraKey(world, burster.client.projectId, `burst-${k}`));
  }
  // The quiet project's label is read through a key of its own (as a dashboard would): the
  // reads poll every 100 ms while several samples overlap, and on the chat's key they would use
  // up its usage plan and get the quiet chats themselves refused.
  const reader = await extraKey(world, quiet.client.projectId, "quiet-reader");
  const quietClient: ProjectClient = {
    projectId: quiet.client.projectId,
    call: (method, path, body) => (method === "GET" ? reader : quiet.client).call(method, path, body),
  };
  return { quietClient, deleter, reclassifier, burstKeys };
}

async function extraKey(world: FairnessWorld, projectId: string, name: string): Promise<ProjectClient> {
  const { key } = await createApiKey(world.database.db, { name, projectIds: [projectId] });
  return projectClient(world.baseUrl, { projectId, apiKey: key });
}

/**
 * `npm run bench fairness-labels`: a quiet project's live label latency (its chat answered -> the
 * thread's label visible through the API) alone, and while a noisy project (a) deletes a category
 * over 100,000 threads, (b) reclassifies (scope classifier) 100,000 threads, (c) bursts 5,000
 * chats; on `npm start`'s world with a 2 s classifier and the real Postgres. Each scenario starts
 * from empty queues; each is compared with the quiet project alone in the same run.
 */
export async function benchFairnessLabels(): Promise<void> {
  const plan: QuietPlan = {
    samples: Number(process.env.BENCH_FAIR_SAMPLES ?? 20),
    spacingMs: Number(process.env.BENCH_FAIR_SPACING_MS ?? 1000),
    giveUpMs: Number(process.env.BENCH_FAIR_GIVE_UP_MS ?? 120_000),
  };
  // The sweeper unlabels a deleted category's threads: a declared deviation runs it every 15 s
  // instead of every 5 minutes, so that work happens inside the quiet project's measurement.
  const world = await startFairnessWorld("fairness_labels", {
    CLASSIFIER_DELAY_MS: "2000",
    LOCAL_RATE_SECONDS: String(SWEEP_EVERY_SECONDS),
  });
  try {
    const { quietClient, deleter, reclassifier, burstKeys } = await fairnessProjects(world);
    const seedStarted = performance.now();
    await seedLabelled(world, deleter.client.projectId, deleter.categoryIds[0] as string, SEEDED);
    await seedLabelled(world, reclassifier.client.projectId, reclassifier.categoryIds[0] as string, SEEDED);
    const seedMs = Math.round(performance.now() - seedStarted);

    // Warm-up: the world's first invocations start their Lambda environments.
    await measureQuiet(quietClient, { ...plan, samples: 3 }, "warm-up");
    const alone = await measureQuiet(quietClient, plan, "alone");
    const scenarios: FairnessScenario[] = [
      { name: `(c) burst of ${BURST} chats from ${BURST_KEYS} keys`, noisy: () => burst(burstKeys, BURST) },
      {
        name: `(a) delete a category over ${SEEDED} threads`,
        noisy: async () => {
          const reply = await deleter.client.call("DELETE", `/categories/${deleter.categoryIds[0]}`);
          return { status: reply.status, body: reply.status >= 300 ? reply.body : undefined };
        },
      },
      {
        name: `(b) reclassify scope classifier over ${SEEDED} threads`,
        noisy: async () => {
          const reply = await reclassifier.client.call("POST", "/reclassify", { scope: "classifier" });
          return { status: reply.status, body: reply.body };
        },
      },
    ];
    const results = await runScenarios(world, quietClient, scenarios, plan);
    const rows = [
      { phase: "alone", ...alone, p50_ratio: 1, p99_ratio: 1, met: "" },
      ...results.map((r) => ({
        phase: r.scenario,
        ...r.quiet,
        ...judge(alone, r.quiet, TARGET),
        deepest_queues: Object.entries(r.deepest_queues)
          .map(([queue, depth]) => `${queue.replace(/[A-F0-9]{8}$/, "")}=${depth}`)
          .join(" "),
      })),
    ];
    report("fairness-labels", rows, {
      unit: "ms",
      classifier_delay_ms: 2000,
      sweeper_every_seconds: SWEEP_EVERY_SECONDS,
      seeded_threads_per_noisy_project: SEEDED,
      seed_ms: seedMs,
      plan,
      target: { p99_ratio_at_most: TARGET.maxRatio, p99_ms_at_most: TARGET.maxMs },
      alone,
      scenarios: results.map((r) => ({ ...r, ...judge(alone, r.quiet, TARGET) })),
    });
  } finally {
    await world.stop();
  }
}
