import { describe, expect, it } from "vitest";
import { csvField, type ExportedThread, encoderFor } from "../../shared/exports/format.js";
import { parseCsv } from "../support/csv.js";

const thread = (first_question: string, labelled = true): ExportedThread => ({
  id: "00000000-0000-4000-8000-000000000001",
  project: "00000000-0000-4000-8000-000000000002",
  created_at: "2026-11-02T10:00:00.000Z",
  first_question,
  total_questions: 2,
  category: labelled
    ? {
        id: "00000000-0000-4000-8000-000000000003",
        name: 'Trouble, "really"',
        source: "user",
        assigned_at: "2026-11-02T10:01:00.000Z",
        confidence: null,
      }
    : null,
});

function never(): never {
  throw new Error("the fixture thread is labelled");
}

const classified = (first_question: string, confidence: number): ExportedThread => {
  const t = thread(first_question);
  return { ...t, category: t.category && { ...t.category, source: "classifier", confidence } };
};

describe("CSV fields (RFC 4180)", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["crlf\r\nline", '"crlf\r\nline"'],
    ["  spaces kept  ", "  spaces kept  "],
    ["日本語 ✓ 🎉", "日本語 ✓ 🎉"],
    ["", ""],
  ])("%j -> %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ["+1+1", `"'+1+1"`],
    ["-2+3", `"'-2+3"`],
    ["@SUM(A1)", `"'@SUM(A1)"`],
    ["\t=1", `"'\t=1"`],
    ["\r=1", `"'\r=1"`],
    ["a=1", "a=1"],
    [" =1", " =1"],
    ["'quoted", "'quoted"],
  ])("neutralises a formula: %j -> %j (OWASP: a leading quote, the field quoted)", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it("leaves numbers alone, even negative ones (ours, never a formula)", () => {
    expect(csvField(-1)).toBe("-1");
  });

  it("writes numbers as they are and null as an empty field", () => {
    expect(csvField(42)).toBe("42");
    expect(csvField(null)).toBe("");
  });
});

describe("export encoders", () => {
  const tricky = ['He said "no", then\r\nleft', "Ünïcödé, 🎉", ",", '"', "\n"];

  it("CSV: a header row, one CRLF-terminated record per thread, that reads back exactly", () => {
    const encoder = encoderFor("csv", false);
    const text = encoder.header() + encoder.rows(tricky.map((q, i) => thread(q, i % 2 === 0)));
    const [header, ...records] = parseCsv(text);
    expect(header).toHaveLength(10);
    expect(records.map((r) => r[3])).toEqual(tricky);
    expect(records[0]?.slice(5)).toEqual([
      "00000000-0000-4000-8000-000000000003",
      'Trouble, "really"',
      "user",
      "2026-11-02T10:01:00.000Z",
      "",
    ]);
    expect(records[1]?.slice(5)).toEqual(["", "", "", "", ""]);
    expect(encoder.contentType).toMatch(/^text\/csv; charset=utf-8/);
  });

  it("CSV and NDJSON: a classifier label's confidence, a user label's none", () => {
    const csv = encoderFor("csv", false);
    const [header, byClassifier, byUser] = parseCsv(csv.header() + csv.rows([classified("a", 0.625), thread("b")]));
    expect(header?.at(-1)).toBe("category_confidence");
    expect([byClassifier?.at(-1), byUser?.at(-1)]).toEqual(["0.625", ""]);
    const lines = encoderFor("ndjson", false)
      .rows([classified("a", 0.625), thread("b")])
      .trim()
      .split("\n");
    expect(lines.map((l) => JSON.parse(l).category.confidence)).toEqual([0.625, null]);
  });

  it("CSV with questions: their JSON in a last column", () => {
    const encoder = encoderFor("csv", true);
    const qa = [{ id: "q1", question: 'a, "b"\nc', answer: "d", created_at: "2026-11-02T10:00:00.000Z" }];
    const [header, record] = parseCsv(encoder.header() + encoder.rows([{ ...thread("x"), question_answers: qa }]));
    expect(header?.at(-1)).toBe("question_answers");
    expect(JSON.parse(record?.at(-1) as string)).toEqual(qa);
  });

  it("CSV: a cell a spreadsheet would evaluate reads back with a leading quote; NDJSON keeps it verbatim", () => {
    const formulas = ["=1+1", "+cmd", "-5 degrees?", "@user", "\tx", "\rx"];
    const threads = formulas.map((q) => ({ ...thread(q), category: { ...(thread(q).category ?? never()), name: q } }));
    const csv = encoderFor("csv", false);
    const records = parseCsv(csv.header() + csv.rows(threads)).slice(1);
    expect(records.map((r) => r[3])).toEqual(formulas.map((q) => `'${q}`));
    expect(records.map((r) => r[6])).toEqual(formulas.map((q) => `'${q}`));
    const ndjson = encoderFor("ndjson", false).rows(threads).split("\n").filter(Boolean);
    expect(ndjson.map((l) => JSON.parse(l).first_question)).toEqual(formulas);
  });

  it("NDJSON: one thread per line, whatever its text holds", () => {
    const encoder = encoderFor("ndjson", false);
    expect(encoder.header()).toBe("");
    const threads = tricky.map((q) => thread(q));
    const text = encoder.rows(threads);
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => JSON.parse(l))).toEqual(threads);
  });
});
