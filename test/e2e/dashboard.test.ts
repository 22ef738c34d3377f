import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRunningEmbeddedDatabase } from "../../local/embedded-db.js";
import { seedThreads } from "../../shared/admin/seed.js";
import { connect } from "../../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../../shared/db/deadline.js";
import type { CategoryTrendsResource } from "../../shared/http/analytics-schemas.js";
import { useLocalRuntime } from "../support/processes.js";

/**
 * The reference dashboard in headless Chromium (Debian's `chromium`, driven by puppeteer-core)
 * against `npm start` with seeded data: it must draw the series the API returns, and its export
 * button must lead to a download. The screenshot goes to test-results/dashboard.png.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const OUTPUT_DIR = join(process.cwd(), "test-results");
const local = useLocalRuntime("dashboard", {}, "SIGINT");
const DAY = 86_400_000;

/** The few DOM shapes the page functions below touch (the test itself compiles without the DOM library). */
type Input = { value: string };
type Canvas = {
  width: number;
  height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
};

let browser: Browser | undefined;
let baseUrl: string;
let projectId: string;
let apiKey: string;

/** 3,000 realistic threads over 45 days, labelled with a drifting category mix, some by users, some not at all. */
async function seed(): Promise<void> {
  const target = await findRunningEmbeddedDatabase(local.dataDir);
  if (!target) throw new Error("npm start advertises no embedded database");
  // The seed is a few large statements: no API statement deadline on the test's own connection.
  const database = connect({ ...target, timeouts: UNBOUNDED_STATEMENTS });
  try {
    const { db } = database;
    for (const name of ["Billing", "Careers"]) {
      await fetch(`${baseUrl}/query/v1/projects/${projectId}/categories/`, {
        method: "POST",
        headers: { "X-API-KEY": apiKey },
        body: JSON.stringify({ name }),
      });
    }
    await seedThreads(db, { count: 3000, projects: 0, projectIds: [projectId], days: 45 });
    const hash = sql.raw("abs(hashtext(id::text))");
    await db.execute(sql`
      with c as (select array_agg(id order by name) as ids from categories where project_id = ${projectId})
      update threads t set
        category_id = c.ids[1 + (${hash} % 7 + extract(epoch from now() - t.created_at)::bigint / 86400 / 12) % 4],
        category_source = case when ${hash} % 9 = 0 then 'user' else 'classifier' end,
        classified_at = now()
      from c where t.project_id = ${projectId} and ${hash} % 11 <> 0`);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  const runtime = await local.start({ timeoutMs: 150_000 });
  baseUrl = runtime.baseUrl.replace("localhost", "127.0.0.1");
  ({ projectId, apiKey } = runtime);
  await seed();
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

/** The page's Content-Security-Policy violations and console errors, recorded from before its first script. */
async function watchPolicy(page: Page): Promise<() => Promise<string[]>> {
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text()))
      consoleErrors.push(message.text());
  });
  await page.evaluateOnNewDocument(() => {
    const seen: string[] = [];
    const g = globalThis as unknown as { __cspViolations: string[]; document: EventTarget };
    g.__cspViolations = seen;
    g.document.addEventListener("securitypolicyviolation", (event) => {
      const e = event as unknown as { violatedDirective: string; blockedURI: string };
      seen.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return async () => [
    ...consoleErrors,
    ...(await page.evaluate(() => (globalThis as unknown as { __cspViolations: string[] }).__cspViolations)),
  ];
}

function expectSecurityHeaders(headers: Record<string, string>): void {
  expect(headers["content-security-policy"]).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
}

async function legend(page: Page, chart: string): Promise<string[]> {
  return page.$$eval(`#${chart} .u-legend .u-series .u-label`, (labels) => labels.map((l) => l.textContent ?? ""));
}

/** Pixels the chart's canvas painted (not transparent). */
async function paintedPixels(page: Page, chart: string): Promise<number> {
  return page.$eval(`#${chart} canvas`, (canvas) => {
    const c = canvas as unknown as Canvas;
    const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
    return painted;
  });
}

/** A page of the API in the (shared) browser, opened under the policy watch; its security headers checked. */
async function openPage(path: string, height: number) {
  browser ??= await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height, deviceScaleFactor: 1 });
  const offline: string[] = [];
  page.on("request", (request) => {
    if (/^https?:/.test(request.url()) && !request.url().startsWith(baseUrl)) offline.push(request.url());
  });
  const violations = await watchPolicy(page);
  const response = await page.goto(`${baseUrl}${path}`, { waitUntil: "networkidle0" });
  expectSecurityHeaders(response?.headers() ?? {});
  return { page, offline, violations };
}

/** Fills the dashboard's form (project, key, UTC, the range) and loads the charts. */
async function loadDashboard(page: Page, from: string, to: string): Promise<void> {
  expect(await page.$eval("#base", (el) => (el as unknown as Input).value)).toBe(baseUrl);
  await page.type("#project", projectId);
  await page.type("#key", apiKey);
  await page.$eval("#tz", (el) => {
    (el as unknown as Input).value = "UTC";
  });
  await page.$eval("#from", (el, value) => ((el as unknown as Input).value = value), from);
  await page.$eval("#to", (el, value) => ((el as unknown as Input).value = value), to);
  await page.click("#load");
  await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
}

describe.skipIf(!CHROMIUM && !process.env.CI)("reference dashboard in Chromium", () => {
  it("draws the API's series for the chosen range and offers an export", { timeout: 180_000 }, async () => {
    const to = new Date(Date.now()).toISOString().slice(0, 10);
    const from = new Date(Date.now() - 41 * DAY).toISOString().slice(0, 10);
    const api = `${baseUrl}/query/v1/projects/${projectId}`;
    const query = new URLSearchParams({
      interval: "day",
      tz: "UTC",
      created_after: `${from}T00:00:00Z`,
      created_before: new Date(Date.parse(`${to}T00:00:00Z`) + DAY).toISOString(),
    });
    const expected = (await (
      await fetch(`${api}/analytics/categories/?${query}`, { headers: { "X-API-KEY": apiKey } })
    ).json()) as CategoryTrendsResource;
    expect(expected.buckets).toHaveLength(42);

    const { page, offline, violations } = await openPage("/dashboard", 1200);
    await loadDashboard(page, from, to);

    const categories = expected.buckets[0]?.categories.map((c) => c.name) ?? [];
    expect(categories).toEqual(["Billing", "Careers", "Discovery", "Troubleshooting"]);
    expect(await legend(page, "chart-volume")).toEqual(["Day", "Threads", "Questions"]);
    expect(await legend(page, "chart-categories")).toEqual(["Day", "Unlabelled", ...[...categories].reverse()]);
    expect(await legend(page, "chart-labels")).toEqual(["Day", "Unlabelled", "User", "Classifier"]);
    for (const chart of ["chart-volume", "chart-categories", "chart-labels"]) {
      expect(
        await page.$eval(`#${chart}`, (el) => (el as unknown as { dataset: { points?: string } }).dataset.points),
      ).toBe("42");
      expect(await paintedPixels(page, chart)).toBeGreaterThan(5_000);
    }
    const threads = expected.buckets.reduce((n, b) => n + b.threads, 0);
    expect(threads).toBeGreaterThan(2500);
    const tiles = await page.$$eval("#totals .tile b", (els) => els.map((e) => e.textContent));
    expect(tiles[0]).toBe(threads.toLocaleString("en-US"));
    expect(offline).toEqual([]);
    expect(await violations()).toEqual([]);

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, "dashboard.png"), fullPage: true });

    // The export: POST exports/, poll, follow the presigned URL.
    expect(await page.$("#export-start")).not.toBeNull();
    await page.click("#export-start");
    await page.waitForSelector("#export-link:not([hidden])", { timeout: 120_000 });
    const href = await page.$eval("#export-link", (a) => (a as unknown as { href: string }).href);
    const csv = await (await fetch(href)).text();
    expect(csv.split("\n").filter(Boolean).length).toBe(threads + 1);
    expect(await violations()).toEqual([]);
  });

  it("renders the Redoc reference under its policy", { timeout: 120_000 }, async () => {
    const { page, violations } = await openPage("/redoc", 1000);
    await page.waitForSelector("h1", { timeout: 60_000 });
    expect(await page.$eval("h1", (h) => h.textContent)).toMatch(/kapa-service API/);
    // Operations are listed, and the search (Redoc's worker, from a blob: URL) finds one.
    expect(await page.$$eval("h2", (hs) => hs.length)).toBeGreaterThan(10);
    await page.type('input[placeholder="Search..."]', "export");
    await page.waitForSelector('[data-role="search:results"] li', { timeout: 30_000 });
    expect(await violations()).toEqual([]);
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, "redoc.png") });
  });
});
