/**
 * Bedrock model ids, as `-c kapa:classifierModel` takes them: a foundation model
 * (`anthropic.claude-haiku-4-5-20251001-v1:0`) or a cross-Region inference profile, which is the
 * foundation model's id behind a geography prefix (`us.`, `eu.`, `apac.`, ..., `global.`).
 * Newer Claude models are offered on demand only through an inference profile.
 */

/**
 * Claude Haiku 4.5 through the US inference profile: the smallest current Claude on Bedrock
 * (the model card lists `anthropic.claude-haiku-4-5-20251001-v1:0` and this profile). A stack
 * outside the US names its geography's profile (`eu.`, `apac.`, ...).
 */
export const DEFAULT_BEDROCK_MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/** Provider-dot-model, an optional `:version`; an optional geography prefix before it. */
export const BEDROCK_MODEL_ID_PATTERN = /^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?$/;

const PROFILE_GEOGRAPHIES = new Set(["us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"]);

export interface BedrockModelRef {
  /** What the Converse call names. */
  id: string;
  /** The foundation model that answers (the id without its geography prefix). */
  foundationModelId: string;
  /** Set for an inference profile: requests may run in any Region of its geography. */
  inferenceProfile: boolean;
}

export function bedrockModelRef(id: string): BedrockModelRef {
  if (!BEDROCK_MODEL_ID_PATTERN.test(id)) throw new Error(`not a Bedrock model id: ${JSON.stringify(id)}`);
  const dot = id.indexOf(".");
  const prefix = id.slice(0, dot);
  const rest = id.slice(dot + 1);
  // A profile's rest is itself a foundation model id (provider.model), so it has a dot.
  if (PROFILE_GEOGRAPHIES.has(prefix) && rest.includes(".")) {
    return { id, foundationModelId: rest, inferenceProfile: true };
  }
  return { id, foundationModelId: id, inferenceProfile: false };
}
