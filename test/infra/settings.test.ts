import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, parseSettings, SETTING_KEYS } from "../../infra/settings.js";
import { cdkJsonContext } from "./support.js";

describe("stack settings", () => {
  it("cdk.json names only settings of the schema, at the schema's defaults", () => {
    const settings = Object.entries(cdkJsonContext()).filter(([key]) => key.startsWith("kapa:"));
    for (const [key] of settings) expect(SETTING_KEYS).toContain(key.slice("kapa:".length));
    expect(parseSettings(Object.fromEntries(settings))).toEqual(DEFAULT_SETTINGS);
  });

  it("take context values given as strings (`-c key=value`) as the JSON values of cdk.json", () => {
    const given = { "kapa:classifierBatchSize": "5", "kapa:tracing": "true", "kapa:dbMinCapacity": "1.5" };
    expect(parseSettings(given)).toMatchObject({ classifierBatchSize: 5, tracing: true, dbMinCapacity: 1.5 });
  });

  it("fill the database's protection from the profile unless set explicitly", () => {
    expect(parseSettings({ "kapa:profile": "prod" })).toMatchObject({
      dbDeletionProtection: true,
      dbReaderInstance: true,
    });
    expect(parseSettings({ "kapa:profile": "prod", "kapa:dbReaderInstance": "false" })).toMatchObject({
      dbDeletionProtection: true,
      dbReaderInstance: false,
    });
  });

  it("name the key, what it expects and the value given when a value is invalid", () => {
    expect(() => parseSettings({ "kapa:sweeperMaxThreads": "many" })).toThrow(
      'Invalid CDK context kapa:sweeperMaxThreads: expected a multiple of 1 in [1, 1000000], got "many"',
    );
    expect(() => parseSettings({ "kapa:dbMinCapacity": 8, "kapa:dbMaxCapacity": "4" })).toThrow(
      "Invalid CDK context kapa:dbMaxCapacity: expected at least kapa:dbMinCapacity (8), got 4",
    );
  });
});
