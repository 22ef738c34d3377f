import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Dependencies point one way (docs/architecture.md, "Dependencies"): read every TypeScript
 * source's imports (static, re-exports and dynamic `import()`, as the compiler's pre-processor sees
 * them) and check the rules on the graph of folders.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const TOOLS = ["test", "bench", "scripts"];
const TOP_LEVEL = ["shared", "functions", "local", "cli", "infra", "bench", "client", "web", "scripts", "test"];

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join("/"));
}

interface Edge {
  from: string;
  to: string;
}

/** Every relative import between the repository's own files (packages are not our layering). */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of TOP_LEVEL.flatMap(sources)) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(file), fileName))
        .split(sep)
        .join("/");
      edges.push({ from: file, to: target });
    }
  }
  return edges;
}

/** The node a file belongs to: its top-level folder, or `shared/<folder>` inside shared/. */
function folderOf(file: string): string {
  const [top, sub] = file.split("/");
  return top === "shared" && sub && !sub.includes(".") ? `shared/${sub}` : (top ?? file);
}

const topOf = (file: string) => file.split("/")[0] ?? file;

/** The cycles of a directed graph (Tarjan's strongly connected components with more than one node). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) ?? 0, indexOf.get(next) ?? 0));
    }
    if (low.get(node) !== indexOf.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return found;
}

function graphOf(edges: readonly Edge[], nodeOf: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [nodeOf(from), nodeOf(to)];
    if (!graph.has(a)) graph.set(a, new Set());
    if (a !== b) graph.get(a)?.add(b);
  }
  return graph;
}

const describeEdge = ({ from, to }: Edge) => `${from} -> ${to}`;

describe("dependencies", () => {
  const edges = importEdges();

  it("reads the imports of the sources", () => {
    expect(edges.filter((e) => e.from.startsWith("functions/")).length).toBeGreaterThan(20);
  });

  it("shared/ and functions/ import neither local/ nor cli/", () => {
    const wrong = edges.filter(
      (e) => ["shared", "functions"].includes(topOf(e.from)) && ["local", "cli"].includes(topOf(e.to)),
    );
    expect(wrong.map(describeEdge)).toEqual([]);
  });

  it("shared/platform imports no other shared/ folder (it is the leaf, not the composition root)", () => {
    const wrong = edges.filter(
      (e) =>
        e.from.startsWith("shared/platform/") && e.to.startsWith("shared/") && !e.to.startsWith("shared/platform/"),
    );
    expect(wrong.map(describeEdge)).toEqual([]);
  });

  it("no import cycle between the top-level folders", () => {
    // test/, bench/ and scripts/ are one ring of tools around the product: they drive it and share
    // helpers both ways (test/support's fault proxy, bench's data sets); the product imports none.
    const ring = (file: string) => (TOOLS.includes(topOf(file)) ? "tools" : topOf(file));
    expect(cycles(graphOf(edges, ring))).toEqual([]);
    const intoRing = edges.filter((e) => ring(e.from) !== "tools" && ring(e.to) === "tools");
    expect(intoRing.map(describeEdge)).toEqual([]);
  });

  it("no import cycle between the folders of shared/", () => {
    const inShared = edges.filter((e) => e.from.startsWith("shared/") && e.to.startsWith("shared/"));
    expect(cycles(graphOf(inShared, folderOf))).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const graph = graphOf(
      [
        { from: "a/x.ts", to: "b/y.ts" },
        { from: "b/y.ts", to: "a/z.ts" },
        { from: "c/w.ts", to: "a/x.ts" },
      ],
      topOf,
    );
    expect(cycles(graph)).toEqual([["a", "b"]]);
  });
});
