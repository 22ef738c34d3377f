import * as z from "zod";

/** The review queue's query parameters of `GET threads/` (shared/http/schemas.ts). */
export const reviewParams = {
  review: z
    .enum(["true", "false"], { message: "review must be true or false" })
    .transform((v) => v === "true")
    .optional()
    .meta({
      description: "`true`: the review queue, classifier labels below the project's threshold, least confident first",
    }),
  // A decimal, not z.coerce: Number() reads "" as 0 (an empty queue), "0x1" as 1, and allows spaces.
  confidence_below: z
    .string()
    .regex(/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/, { message: "confidence_below must be a number between 0 and 1" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(0, { message: "confidence_below must be between 0 and 1" })
        .max(1, { message: "confidence_below must be between 0 and 1" }),
    )
    .optional()
    .meta({
      description: "The review queue below this confidence instead of the project's threshold",
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        for (const key of Object.keys(jsonSchema)) if (key !== "description") delete jsonSchema[key];
        Object.assign(jsonSchema, { type: "number", minimum: 0, maximum: 1 });
      },
    }),
};

/** The review queue shrinks as labels are confirmed, so it pages by offset (from the front), never by cursor. */
export const reviewPagesByOffset = [
  (q: { review?: boolean; confidence_below?: number; cursor?: string }) =>
    !(q.review || q.confidence_below !== undefined) || q.cursor === undefined,
  { message: "The review queue pages by offset, not cursor", path: ["cursor"] as PropertyKey[] },
] as const;
