import { describe, expect, it } from "vitest";
import { parsePeriod, previousPeriod } from "../../shared/reports/period.js";
import { escapeHtml, formatChange, renderReport } from "../../shared/reports/render.js";
import type { ProjectUsage, TeamUsage } from "../../shared/reports/usage.js";

// Prepare ------------------------------------------------------------------------------------

const period = parsePeriod("2026-W47");

function project(overrides: Partial<ProjectUsage>): ProjectUsage {
  return {
    projectId: "p",
    name: "Docs bot",
    questions: 10,
    previousQuestions: 8,
    newThreads: 4,
    previousNewThreads: 0,
    categories: [
      { id: "c1", name: "Troubleshooting", threads: 3 },
      { id: "c2", name: "Discovery", threads: 1 },
      { id: "c3", name: "Careers", threads: 0 },
    ],
    unlabelled: 0,
    ...overrides,
  };
}

function usage(overrides: Partial<TeamUsage> = {}): TeamUsage {
  const projects = overrides.projects ?? [project({})];
  return {
    teamId: "t",
    teamName: "Acme",
    period,
    previous: previousPeriod(period),
    projects,
    totals: {
      questions: projects.reduce((n, p) => n + p.questions, 0),
      previousQuestions: projects.reduce((n, p) => n + p.previousQuestions, 0),
      newThreads: projects.reduce((n, p) => n + p.newThreads, 0),
      previousNewThreads: projects.reduce((n, p) => n + p.previousNewThreads, 0),
    },
    ...overrides,
  };
}

describe("report rendering", () => {
  it("names the team and the period in the subject", () => {
    expect(renderReport(usage()).subject).toBe("Acme: kapa usage report for 2026-W47");
    expect(renderReport(usage({ teamName: "Evil\r\nBcc: x@y.z" })).subject).toBe(
      "Evil Bcc: x@y.z: kapa usage report for 2026-W47",
    );
  });

  it("writes the figures, the change and the labels in the text part", () => {
    const { text } = renderReport(usage());
    expect(text).toContain("2026-W47: 2026-11-16 to 2026-11-22 (UTC)");
    expect(text).toContain("Questions asked: 10 (+25% vs 2026-W46: 8)");
    expect(text).toContain("New threads:     4 (new vs 2026-W46: 0)");
    expect(text).toContain("Top categories:  Troubleshooting (3), Discovery (1)");
    expect(text).toMatch(/Careers\s+0\n/);
    expect(text).toMatch(/Unlabelled\s+0\n/);
  });

  it("escapes every user-provided name in the HTML part, and the text part keeps them as they are", () => {
    const hostile = usage({
      teamName: `<script>alert("team")</script> & Co`,
      projects: [
        project({
          name: "<img src=x onerror=alert(1)>",
          categories: [{ id: "c", name: `Q&A "tips" <b>`, threads: 2 }],
        }),
      ],
    });
    const { html, text } = renderReport(hostile);
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;script&gt;alert(&quot;team&quot;)&lt;/script&gt; &amp; Co");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("Q&amp;A &quot;tips&quot; &lt;b&gt;");
    expect(text).toContain("<img src=x onerror=alert(1)>");
  });

  it("is a self-contained HTML page: inline styles, no external resources", () => {
    const { html } = renderReport(usage());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<img|<link|<script|<style|src=|href=|url\(/i);
    expect(html).toContain('style="');
    expect(html).toContain("<table");
  });

  it("says so when a team has no projects", () => {
    const { text, html } = renderReport(usage({ projects: [] }));
    expect(text).toContain("This team has no projects yet.");
    expect(html).toContain("This team has no projects yet.");
  });

  it("formats week-over-week changes", () => {
    expect(formatChange(10, 8)).toBe("+25%");
    expect(formatChange(6, 8)).toBe("-25%");
    expect(formatChange(0, 8)).toBe("-100%");
    expect(formatChange(3, 0)).toBe("new");
    expect(formatChange(0, 0)).toBe("no change");
    expect(formatChange(5, 5)).toBe("no change");
  });

  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});
