import * as z from "zod";
import { decimalParam } from "./numeric-params.js";

/** The review queue's query parameters of `GET threads/` (shared/http/schemas.ts). */
export const reviewParams = {
  review: z
    .enum(["true", "false"], { message: "review must be true or false" })
    .transform((v) => v === "true")
    .optional()
    .meta({
      description: "`true`: the review queue, classifier labels below the project's threshold, least confident first",
    }),
  confidence_below: decimalParam("confidence_below", 0, 1)
    .optional()
    .meta({ description: "The review queue below this confidence instead of the project's threshold" }),
};

/** The review queue shrinks as labels are confirmed, so it pages by offset (from the front), never by cursor. */
export const reviewPagesByOffset = [
  (q: { review?: boolean; confidence_below?: number; cursor?: string }) =>
    !(q.review || q.confidence_below !== undefined) || q.cursor === undefined,
  { message: "The review queue pages by offset, not cursor", path: ["cursor"] as PropertyKey[] },
] as const;
