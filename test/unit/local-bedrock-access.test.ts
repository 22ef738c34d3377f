import { describe, expect, it } from "vitest";
import { type LocalResources, resolveEnvironment } from "../../local/environment.js";
import { contextFromEnv } from "../../local/settings.js";
import type { TopologyFunction } from "../../local/topology.js";

/** `npm start` and the template share the provider setting; the local world reaches Bedrock the developer's way. */
const resources: LocalResources = {
  queues: new Map(),
  stateMachines: new Map(),
  buckets: new Map(),
  database: { url: "postgres://local/kapa", embedded: true },
  endpoints: {
    sqs: "http://127.0.0.1:1",
    sfn: "http://127.0.0.1:2",
    ses: "http://127.0.0.1:3",
    s3: "http://127.0.0.1:1",
  },
};
const fn = (environment: Record<string, string>): TopologyFunction => ({
  logicalId: "Classifier",
  entry: "classifier",
  bundledFiles: [],
  timeoutSeconds: 60,
  memorySize: 512,
  environment,
  asyncRetryAttempts: 2,
  asyncMaxEventAgeSeconds: 21_600,
});
const resolve = (environment: Record<string, string>, local: NodeJS.ProcessEnv) =>
  resolveEnvironment({ Resources: {} }, fn(environment), resources, local).variables;

describe("the classifier provider under npm start", () => {
  it("is CDK context, so the template, and the function's environment from it, have it", () => {
    expect(contextFromEnv({ CLASSIFIER_PROVIDER: "bedrock", CLASSIFIER_MODEL_ID: "amazon.nova-micro-v1:0" })).toEqual({
      "kapa:classifier": "bedrock",
      "kapa:classifierModel": "amazon.nova-micro-v1:0",
    });
  });

  it("gives a bedrock function the developer's endpoint or credentials instead of the emulators'", () => {
    const endpoint = { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: "http://127.0.0.1:9" };
    expect(resolve({ CLASSIFIER_PROVIDER: "bedrock" }, endpoint)).toMatchObject({
      ...endpoint,
      AWS_ACCESS_KEY_ID: "local",
    });
    const profile = resolve({ CLASSIFIER_PROVIDER: "bedrock" }, { AWS_PROFILE: "dev" });
    expect(profile.AWS_PROFILE).toBe("dev");
    expect(profile.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(
      resolve({ CLASSIFIER_PROVIDER: "bedrock" }, { AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s" }),
    ).toMatchObject({ AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s" });
    // A local classifier, and every other function, keep the emulators' credentials and endpoints only.
    const local = resolve({ CLASSIFIER_PROVIDER: "local" }, { ...endpoint, AWS_PROFILE: "dev" });
    expect(local.AWS_ENDPOINT_URL_BEDROCK_RUNTIME).toBeUndefined();
    expect(local.AWS_PROFILE).toBeUndefined();
    expect(local.AWS_ACCESS_KEY_ID).toBe("local");
  });
});
