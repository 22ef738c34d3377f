import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { isTimeZone, localDate, startOfDay } from "../../shared/analytics/calendar.js";
import { type Bucket, readTrends, requestExport, type Trends } from "./api.js";

/**
 * The reference dashboard: everything it shows comes from the public API with the key the user
 * typed (kept in this page's memory only). Customers can copy it as a starting point.
 */

const UNLABELLED_COLOR = "#adb5bd";
const PALETTE = ["#3b5bdb", "#f08c00", "#2f9e44", "#c2255c", "#7048e8", "#0c8599", "#e8590c", "#5c940d", "#862e9c"];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $("controls") as HTMLFormElement;
const inputs = {
  base: $<HTMLInputElement>("base"),
  project: $<HTMLInputElement>("project"),
  key: $<HTMLInputElement>("key"),
  from: $<HTMLInputElement>("from"),
  to: $<HTMLInputElement>("to"),
  interval: $<HTMLSelectElement>("interval"),
  tz: $<HTMLInputElement>("tz"),
};
const charts = new Map<string, uPlot>();
let current: { trends: Trends; api: string; key: string } | undefined;

function status(message: string, error = false): void {
  const el = $("status");
  el.textContent = message;
  el.className = error ? "error" : "";
}

/** The API sits next to /dashboard: the same origin and stage prefix (…/prod/dashboard -> …/prod). */
function defaultBase(): string {
  return `${location.origin}${location.pathname.replace(/\/dashboard\/?$/, "")}`;
}

/** A date input's day as the instant its midnight happens in `tz`; `plusDays` moves it. */
function dayStart(value: string, tz: string, plusDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year = 0, month = 0, day = 0] = match.slice(1).map(Number);
  return new Date(startOfDay(tz, { year, month, day: day + plusDays })).toISOString();
}

function isoDay(t: number, tz: string): string {
  const d = localDate(tz, t);
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

function tile(value: string, label: string): string {
  const el = document.createElement("div");
  el.className = "tile";
  const b = document.createElement("b");
  b.textContent = value;
  const span = document.createElement("span");
  span.textContent = label;
  el.append(b, span);
  return el.outerHTML;
}

function renderTotals(buckets: Bucket[]): void {
  const sum = (f: (b: Bucket) => number) => buckets.reduce((n, b) => n + f(b), 0);
  const threads = sum((b) => b.threads);
  const labelled = threads - sum((b) => b.unlabelled);
  const user = sum((b) => b.by_source.user);
  const pct = (n: number, of: number) => (of === 0 ? "–" : `${Math.round((n / of) * 100)}%`);
  $("totals").innerHTML = [
    tile(threads.toLocaleString(), "threads"),
    tile(sum((b) => b.questions).toLocaleString(), "questions"),
    tile(pct(labelled, threads), "of threads labelled"),
    tile(pct(user, labelled), "of labels set by users"),
  ].join("");
}

interface SeriesDef {
  label: string;
  values: number[];
  color?: string;
}

/**
 * One uPlot chart. Stacked charts draw each series at its running total, the largest first,
 * every one filled to zero, so each band shows its own share; legend values stay the raw counts.
 */
function renderChart(id: string, x: number[], series: SeriesDef[], stacked: boolean, trends: Trends): void {
  const { tz, interval } = trends;
  const el = $(id);
  charts.get(id)?.destroy();
  let shown = series.map((s) => s.values);
  if (stacked) {
    const running = x.map(() => 0);
    shown = series.map((s) => s.values.map((v, i) => (running[i] = (running[i] ?? 0) + v))).reverse();
  }
  const ordered = stacked ? [...series].reverse() : series;
  const colors = series.map((s, i) => s.color ?? (PALETTE[i % PALETTE.length] as string));
  const orderedColors = stacked ? [...colors].reverse() : colors;
  const chart = new uPlot(
    {
      width: Math.max(320, el.clientWidth),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] } },
      series: [
        { label: interval.charAt(0).toUpperCase() + interval.slice(1) },
        ...ordered.map((s, i) => ({
          label: s.label,
          stroke: orderedColors[i],
          width: 2,
          fill: stacked ? orderedColors[i] : undefined,
          points: { show: !stacked && x.length < 60 },
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) =>
            idx === null ? "–" : String(s.values[idx] ?? 0),
        })),
      ],
      axes: [{}, { size: 56 }],
    },
    [x, ...shown],
    el,
  );
  el.dataset.series = JSON.stringify(series.map((s) => s.label));
  el.dataset.points = String(x.length);
  charts.set(id, chart);
}

function render(trends: Trends): void {
  const { buckets } = trends;
  const x = buckets.map((b) => Date.parse(b.start) / 1000);
  renderTotals(buckets);
  renderChart(
    "chart-volume",
    x,
    [
      { label: "Threads", values: buckets.map((b) => b.threads) },
      { label: "Questions", values: buckets.map((b) => b.questions) },
    ],
    false,
    trends,
  );
  const categories = buckets[0]?.categories ?? [];
  renderChart(
    "chart-categories",
    x,
    [
      ...categories.map((c, i) => ({ label: c.name, values: buckets.map((b) => b.categories[i]?.count ?? 0) })),
      { label: "Unlabelled", values: buckets.map((b) => b.unlabelled), color: UNLABELLED_COLOR },
    ],
    true,
    trends,
  );
  renderChart(
    "chart-labels",
    x,
    [
      { label: "Classifier", values: buckets.map((b) => b.by_source.classifier) },
      { label: "User", values: buckets.map((b) => b.by_source.user), color: "#f08c00" },
      { label: "Unlabelled", values: buckets.map((b) => b.unlabelled), color: UNLABELLED_COLOR },
    ],
    true,
    trends,
  );
}

async function load(): Promise<void> {
  const tz = inputs.tz.value.trim() || "UTC";
  if (!isTimeZone(tz)) return status(`${tz} is not an IANA time zone (e.g. Europe/Berlin)`, true);
  const api = `${inputs.base.value.replace(/\/+$/, "")}/query/v1/projects/${encodeURIComponent(inputs.project.value.trim())}`;
  const key = inputs.key.value;
  status("Loading…");
  const result = await readTrends(api, key, {
    interval: inputs.interval.value,
    tz,
    created_after: dayStart(inputs.from.value, tz),
    created_before: dayStart(inputs.to.value, tz, 1),
  });
  if (!result.ok) return status(result.detail, true);
  current = { trends: result.trends, api, key };
  render(result.trends);
  const { created_after, created_before, buckets } = result.trends;
  inputs.from.value ||= isoDay(Date.parse(created_after), tz);
  inputs.to.value ||= isoDay(Date.parse(created_before) - 1, tz);
  status(`${buckets.length} ${result.trends.interval} buckets from ${created_after} to ${created_before} (${tz})`);
  ($("export-start") as HTMLButtonElement).disabled = false;
  document.body.dataset.state = "ready";
}

async function startExport(): Promise<void> {
  if (!current) return;
  const button = $<HTMLButtonElement>("export-start");
  const link = $<HTMLAnchorElement>("export-link");
  const say = (text: string) => {
    $("export-status").textContent = text;
  };
  button.disabled = true;
  link.hidden = true;
  const format = $<HTMLSelectElement>("export-format").value;
  const { api, key, trends } = current;
  const range = { created_after: trends.created_after, created_before: trends.created_before };
  const done = await requestExport(api, key, { format, ...range }, (s) => say(`Export ${s.status}…`));
  button.disabled = false;
  if (!done.ok) return say(done.detail);
  say(`Export ready: ${done.export.rows ?? 0} threads.`);
  link.href = done.export.url ?? "#";
  link.textContent = `Download ${format.toUpperCase()}`;
  link.hidden = false;
}

inputs.base.value = defaultBase();
inputs.tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
inputs.project.value = new URLSearchParams(location.search).get("project") ?? "";
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load().catch((error: unknown) => status(`Could not load: ${String(error)}`, true));
});
$("export-start").addEventListener("click", () => {
  startExport().catch((error: unknown) => {
    $("export-status").textContent = `Export failed: ${String(error)}`;
  });
});
window.addEventListener("resize", () => {
  for (const [id, chart] of charts) chart.setSize({ width: Math.max(320, $(id).clientWidth), height: 260 });
});
