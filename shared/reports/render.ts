import { periodDays } from "./period.js";
import { type Figures, type ProjectUsage, type TeamUsage, topCategories } from "./usage.js";

export interface RenderedReport {
  subject: string;
  text: string;
  html: string;
}

/** Everything that comes from users (team, project and category names) goes through here into HTML. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A header value on one line: a name with a line break must not add headers (or look odd). */
const oneLine = (value: string) => value.replace(/[\r\n\t]+/g, " ").trim();

/** Week-over-week change: "+25%", "-10%", "no change", or "new" when there was nothing before. */
export function formatChange(current: number, previous: number): string {
  if (current === previous) return "no change";
  if (previous === 0) return "new";
  const percent = Math.round(((current - previous) / previous) * 100);
  return `${percent > 0 ? "+" : ""}${percent}%`;
}

const topLine = (project: ProjectUsage) =>
  topCategories(project)
    .map((c) => `${oneLine(c.name)} (${c.threads})`)
    .join(", ") || "none";

export function reportSubject(usage: TeamUsage): string {
  return oneLine(`${usage.teamName}: kapa usage report for ${usage.period.id}`);
}

function renderText(usage: TeamUsage): string {
  const { first, last } = periodDays(usage.period);
  const vs = `vs ${usage.previous.id}`;
  const figures = (f: Figures, indent: string) => [
    `${indent}Questions asked: ${f.questions} (${formatChange(f.questions, f.previousQuestions)} ${vs}: ${f.previousQuestions})`,
    `${indent}New threads:     ${f.newThreads} (${formatChange(f.newThreads, f.previousNewThreads)} ${vs}: ${f.previousNewThreads})`,
  ];
  const lines = [
    `kapa usage report for ${oneLine(usage.teamName)}`,
    `${usage.period.id}: ${first} to ${last} (UTC)`,
    "",
    `All projects (${usage.projects.length})`,
    ...figures(usage.totals, "  "),
  ];
  for (const project of usage.projects) {
    const width = Math.max(10, ...project.categories.map((c) => c.name.length));
    lines.push(
      "",
      oneLine(project.name),
      ...figures(project, "  "),
      `  Top categories:  ${topLine(project)}`,
      "  Labels of the new threads:",
      ...project.categories.map((c) => `    ${oneLine(c.name).padEnd(width)}  ${c.threads}`),
      `    ${"Unlabelled".padEnd(width)}  ${project.unlabelled}`,
    );
  }
  if (usage.projects.length === 0) lines.push("", "This team has no projects yet.");
  lines.push("", "Labels are those of the threads started in the period, as they are when the report is sent.");
  return `${lines.join("\n")}\n`;
}

// Inline styles only: mail clients drop <style> blocks and external resources.
const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2933;";
const TABLE = "border-collapse:collapse;margin:8px 0 20px 0;font-size:14px;";
const TH = "text-align:left;padding:6px 12px;border-bottom:2px solid #cbd2d9;background:#f5f7fa;";
const TD = "padding:6px 12px;border-bottom:1px solid #e4e7eb;";
const NUM = `${TD}text-align:right;`;
const MUTED = "color:#616e7c;font-size:13px;";

const cell = (value: string | number, style = TD) => `<td style="${style}">${escapeHtml(String(value))}</td>`;
const row = (cells: string[]) => `<tr>${cells.join("")}</tr>`;
const headerRow = (names: string[]) => row(names.map((n) => `<th style="${TH}">${escapeHtml(n)}</th>`));

function renderHtml(usage: TeamUsage): string {
  const { first, last } = periodDays(usage.period);
  const overview = [
    headerRow(["Project", "Questions", "Change", "New threads", "Change", "Top categories"]),
    ...[...usage.projects, { ...usage.totals, name: "All projects", total: true as const }].map((p) =>
      row([
        "total" in p ? `<td style="${TD}font-weight:bold;">${escapeHtml(p.name)}</td>` : cell(p.name),
        cell(p.questions, NUM),
        cell(formatChange(p.questions, p.previousQuestions), NUM),
        cell(p.newThreads, NUM),
        cell(formatChange(p.newThreads, p.previousNewThreads), NUM),
        cell("total" in p ? "" : topLine(p)),
      ]),
    ),
  ].join("");
  const labels = usage.projects
    .map((p) =>
      [
        `<h3 style="font-size:15px;margin:16px 0 4px 0;">${escapeHtml(p.name)}: labels of the new threads</h3>`,
        `<table role="presentation" style="${TABLE}">`,
        headerRow(["Category", "Threads"]),
        ...p.categories.map((c) => row([cell(c.name), cell(c.threads, NUM)])),
        row([`<td style="${TD}font-style:italic;">Unlabelled</td>`, cell(p.unlabelled, NUM)]),
        "</table>",
      ].join(""),
    )
    .join("\n");
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(reportSubject(usage))}</title></head>`,
    `<body style="margin:0;padding:24px;${FONT}">`,
    `<h1 style="font-size:20px;margin:0 0 4px 0;">kapa usage report for ${escapeHtml(usage.teamName)}</h1>`,
    `<p style="${MUTED}margin:0 0 16px 0;">${usage.period.id}: ${first} to ${last} (UTC). Changes are against ${usage.previous.id}.</p>`,
    usage.projects.length === 0
      ? "<p>This team has no projects yet.</p>"
      : `<table role="presentation" style="${TABLE}">${overview}</table>`,
    labels,
    `<p style="${MUTED}">Labels are those of the threads started in the period, as they are when the report is sent.</p>`,
    "</body></html>",
  ].join("\n");
}

/** The email of one team's report: subject, plain-text part and HTML part. */
export function renderReport(usage: TeamUsage): RenderedReport {
  return { subject: reportSubject(usage), text: renderText(usage), html: renderHtml(usage) };
}
