import { describe, expect, it } from "vitest";
import { parseExpiry } from "../../cli/admin.js";
import { completionScript } from "../../cli/completion.js";
import { UsageError, uuidArg } from "../../cli/context.js";

describe("CLI argument checks", () => {
  it("rejects dates that do not exist instead of rolling them over", () => {
    expect(parseExpiry("2027-02-28T00:00:00Z").toISOString()).toBe("2027-02-28T00:00:00.000Z");
    expect(parseExpiry("2028-02-29").toISOString()).toBe("2028-02-29T00:00:00.000Z");
    for (const bad of [
      "2027-02-30T00:00:00Z",
      "2027-02-29",
      "2027-13-01",
      "2027-04-31",
      "2027-01-01T24:00:00Z",
      "soon",
    ]) {
      expect(() => parseExpiry(bad), bad).toThrow(UsageError);
    }
  });

  it("accepts any spelling of a UUID and normalises it to lowercase", () => {
    expect(uuidArg("3F1C2A9E-5B7D-4C8E-9F0A-1B2C3D4E5F60", "--project")).toBe("3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60");
    expect(() => uuidArg("nope", "--project")).toThrow(/--project must be a UUID/);
  });

  it("builds completion scripts from the command tree", () => {
    const leaf = (name: string, longs: string[]) => ({
      name: () => name,
      commands: [],
      options: longs.map((long) => ({ long })),
    });
    const program = {
      name: () => "kapa",
      commands: [{ name: () => "key", commands: [leaf("create", ["--name"])], options: [] }],
      options: [{ long: "--json" }],
    };
    const bash = completionScript(program, "bash");
    expect(bash).toContain('"key create") words="--name --help"');
    expect(bash).toContain("complete -F _kapa_complete kapa");
    expect(completionScript(program, "zsh")).toMatch(/^#compdef kapa/);
    expect(() => completionScript(program, "fish")).toThrow(UsageError);
  });
});
