import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Env } from "../platform/config.js";
import { bedrockClassifier } from "./bedrock/classifier.js";
import { DEFAULT_BEDROCK_MODEL_ID } from "./bedrock/model-id.js";
import type { CategoryOption, Classification, Classifier, LabelExample } from "./classifier.js";
import { DEFAULT_VECTORS_PATH, LocalClassifier } from "./local/classifier.js";
import { decodeVectors } from "./local/vectors.js";

// One classifier per vector file and process: a Lambda's warm invocations and the local
// runtime's workers reuse it; a failed load is tried again at the next call.
const loaded = new Map<string, Promise<LocalClassifier>>();

function loadOnce(path: string): Promise<LocalClassifier> {
  let pending = loaded.get(path);
  if (!pending) {
    pending = readFile(path).then((buffer) => new LocalClassifier(decodeVectors(buffer)));
    loaded.set(path, pending);
    pending.catch(() => {
      if (loaded.get(path) === pending) loaded.delete(path);
    });
  }
  return pending;
}

/** The history's actor for the `local` provider: provider/model@version (the method and its vectors). */
export const LOCAL_CLASSIFIER_MODEL = "local/glove-50k-int8-hybrid@2";

/**
 * The embedded `local` provider. The vectors are read at the first classification, not when the
 * process starts: functions that never classify never pay for them.
 */
export function localClassifier(vectorsPath: string = DEFAULT_VECTORS_PATH): Classifier {
  return {
    async classify(question, categories, examples) {
      return {
        ...(await loadOnce(vectorsPath)).classify(question, categories, examples),
        model: LOCAL_CLASSIFIER_MODEL,
      };
    },
  };
}

/**
 * A provider with a hosted model's cost: `delayMs` before each answer, and a share of calls that
 * fail as an overloaded model would (fault injection).
 */
export function withHostedCost(inner: Classifier, delayMs: number, failureRate = 0): Classifier {
  if (delayMs <= 0 && failureRate <= 0) return inner;
  return {
    async classify(
      question: string,
      categories: readonly CategoryOption[],
      examples: readonly LabelExample[],
    ): Promise<Classification> {
      if (delayMs > 0) await sleep(delayMs);
      if (failureRate > 0 && Math.random() < failureRate) throw new Error("classifier unavailable (injected)");
      return inner.classify(question, categories, examples);
    },
  };
}

type ProviderSettings = Pick<
  Env,
  | "CLASSIFIER_PROVIDER"
  | "CLASSIFIER_MODEL_ID"
  | "CLASSIFIER_TIMEOUT_MS"
  | "CLASSIFIER_VECTORS_PATH"
  | "CLASSIFIER_DELAY_MS"
  | "CLASSIFIER_FAILURE_RATE"
>;

/**
 * The provider CLASSIFIER_PROVIDER names (set by the template from kapa:classifier, so `npm start`
 * and AWS agree). CLASSIFIER_DELAY_MS emulates a hosted model's cost for `local` only: `bedrock`
 * has the real one.
 */
export function classifierFor(env: ProviderSettings): Classifier {
  if (env.CLASSIFIER_PROVIDER === "bedrock") {
    const bedrock = bedrockClassifier({
      modelId: env.CLASSIFIER_MODEL_ID ?? DEFAULT_BEDROCK_MODEL_ID,
      timeoutMs: env.CLASSIFIER_TIMEOUT_MS,
    });
    return withHostedCost(bedrock, 0, env.CLASSIFIER_FAILURE_RATE);
  }
  return withHostedCost(
    localClassifier(env.CLASSIFIER_VECTORS_PATH),
    env.CLASSIFIER_DELAY_MS,
    env.CLASSIFIER_FAILURE_RATE,
  );
}
