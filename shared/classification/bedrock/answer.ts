import type { ConverseCommandOutput } from "@aws-sdk/client-bedrock-runtime";
import * as z from "zod";
import { named } from "../../platform/errors.js";
import type { CategoryOption, Classification } from "../classifier.js";
import { LABEL_TOOL, RATIONALE_MAX_CHARS } from "./prompt.js";

/**
 * The model's answer is not a label of one of the categories offered: no call of the label tool,
 * an input that does not match its schema, an id not offered, a confidence outside [0, 1]. Never
 * written: the message fails, and SQS delivers it again (then dead-letters it).
 */
export class MalformedAnswerError extends named("MalformedAnswerError", Error) {}

const labelInput = z.object({
  category_id: z.string(),
  confidence: z.number().min(0).max(1),
  rationale: z.string().trim().min(1),
});

/** One sentence, at most RATIONALE_MAX_CHARS: a longer rationale is cut, not refused (the label is what counts). */
function oneSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > RATIONALE_MAX_CHARS ? `${flat.slice(0, RATIONALE_MAX_CHARS - 3).trimEnd()}...` : flat;
}

/** The label in a Converse answer, checked against the categories that were offered. */
export function parseAnswer(output: ConverseCommandOutput, categories: readonly CategoryOption[]): Classification {
  const content = output.output?.message?.content ?? [];
  const call = content.find((block) => block.toolUse?.name === LABEL_TOOL)?.toolUse;
  if (!call) {
    throw new MalformedAnswerError(
      `the model did not call the ${LABEL_TOOL} tool (stopReason ${output.stopReason ?? "none"})`,
    );
  }
  const parsed = labelInput.safeParse(call.input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    throw new MalformedAnswerError(`the ${LABEL_TOOL} tool's input does not match its schema: ${problems}`);
  }
  const { category_id: categoryId, confidence, rationale } = parsed.data;
  if (!categories.some((c) => c.id === categoryId)) {
    throw new MalformedAnswerError(
      `the model chose ${JSON.stringify(categoryId)}, which is not one of the categories offered`,
    );
  }
  return { categoryId, confidence, rationale: oneSentence(rationale) };
}
