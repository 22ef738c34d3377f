import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ESBUILD_TARGET } from "../../infra/bundling.js";
import { REPO_ROOT } from "../../infra/constructs/lambda.js";
import { props, synth } from "./support.js";

const { resourcesOf } = synth();

/**
 * One Node major everywhere: the Lambda runtime of the synthesized template, the `node`
 * devDependency that npm scripts, the tests and CI run on (docs/decisions.md, "The Node pin"),
 * and the process running this test. A bump of one without the others fails here. package.json has
 * no `engines`: npm would check it against the Node running npm, not the pin (docs/decisions.md).
 */
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
  engines?: { node?: string };
  devDependencies: Record<string, string>;
};
const pinned = pkg.devDependencies.node ?? "";
const majorOf = (version: string) => Number(/^v?(\d+)\.\d+\.\d+$/.exec(version)?.[1]);
const pinnedMajor = majorOf(pinned);

const runtimes = [...resourcesOf("AWS::Lambda::Function").values()].map((fn) => String(props(fn).Runtime));

describe("the Node pin", () => {
  it("is one exact version of the node package", () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("is the major of every Lambda runtime in the template and of the bundles' target", () => {
    expect(runtimes.length).toBeGreaterThan(0);
    expect(new Set(runtimes)).toEqual(new Set([`nodejs${pinnedMajor}.x`]));
    expect(ESBUILD_TARGET).toBe(`node${pinnedMajor}`);
  });

  it("is the major of the Node these tests run on", () => {
    expect(majorOf(process.version)).toBe(pinnedMajor);
  });

  it("is not restated as an engines range, which npm would check against its own Node", () => {
    expect(pkg.engines?.node).toBeUndefined();
  });
});
