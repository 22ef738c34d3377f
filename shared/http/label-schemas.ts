import * as z from "zod";
import { DEFAULT_REVIEW_THRESHOLD } from "../classification/classifier.js";
import { DEFAULT_LIST_LIMIT } from "../threads/model.js";
import { intParam } from "./numeric-params.js";
import { count, createdRange, EXAMPLE_IDS, EXAMPLE_TIME, rangeIsOrdered, rangeOrderIssue, uuid } from "./schemas.js";

/** Label history, review threshold and label quality: their schemas (their routes in routes.ts). */

export const MAX_HISTORY_LIMIT = 1000;

export const labelHistoryQuery = z.object({
  limit: intParam("limit", 1, MAX_HISTORY_LIMIT, DEFAULT_LIST_LIMIT).optional().meta({ description: "Page size" }),
  cursor: z.string().max(200).optional().meta({ description: "Opaque position from a `next` link" }),
});

const labelRef = z.object({ id: z.string().uuid(), name: z.string() }).meta({ id: "LabelRef" });

const labelChangeExample = {
  category: { id: EXAMPLE_IDS.category, name: "Billing" },
  previous: null,
  source: "classifier",
  actor: "local/glove-50k-int8-hybrid@2",
  confidence: 0.87,
  rationale: 'The question\'s "invoice" matches the name and description of "Billing".',
  at: EXAMPLE_TIME,
};

export const labelChange = z
  .object({
    category: labelRef.nullable().meta({ description: "The label after the change; null: no label" }),
    previous: labelRef.nullable().meta({ description: "The label before it" }),
    source: z.enum(["classifier", "user", "system"]),
    actor: z.string().meta({
      description:
        "Who changed it: the API key's id (user), the provider, model and version (classifier), the reason (system: `category_deleted`)",
    }),
    confidence: z.number().min(0).max(1).nullable().meta({ description: "The classifier's; null otherwise" }),
    rationale: z.string().nullable().meta({ description: "The classifier's one-sentence reason; null otherwise" }),
    at: z.string().datetime(),
  })
  .meta({ id: "LabelChange", example: labelChangeExample });

export const labelHistoryPage = z
  .object({
    next: z.string().nullable().meta({ description: "The next page (newer changes); null on the last" }),
    results: z.array(labelChange),
  })
  .meta({ id: "LabelHistoryPage", example: { next: null, results: [labelChangeExample] } });

const threshold = z
  .number({ message: "review_threshold must be a number" })
  .min(0, { message: "review_threshold must be at least 0" })
  .max(1, { message: "review_threshold must be at most 1" });

export const projectSettings = z
  .object({
    review_threshold: threshold.meta({
      description: `Classifier labels less confident than this are in the review queue (\`GET threads/?review=true\`); default ${DEFAULT_REVIEW_THRESHOLD}`,
    }),
  })
  .meta({ id: "ProjectSettings", example: { review_threshold: DEFAULT_REVIEW_THRESHOLD } });

export const updateProjectSettingsRequest = z
  .object({ review_threshold: threshold })
  .strict()
  .meta({ id: "UpdateProjectSettingsRequest", example: { review_threshold: 0.6 } });

export const categoryQualityQuery = z.object(createdRange).refine(rangeIsOrdered, rangeOrderIssue);

const qualityExample = {
  created_after: "2026-02-01T00:00:00.000Z",
  created_before: EXAMPLE_TIME,
  labels: 410,
  truncated: false,
  categories: [
    {
      id: EXAMPLE_IDS.category,
      name: "Billing",
      classifier_labels: 410,
      confirmed: 40,
      unchanged: 340,
      changed: 25,
      replaced: 5,
      kept_share: 0.927,
      changed_to: [{ category: { id: "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910", name: "Plans" }, count: 25 }],
    },
  ],
};

export const categoryQuality = z
  .object({
    created_after: z.string().datetime(),
    created_before: z.string().datetime(),
    labels: count(410, "Classifier labels considered (written in the window, at most the cap)"),
    truncated: z
      .boolean()
      .meta({ description: "More labels were written in the window than the cap: the newest were read" }),
    categories: z.array(
      z.object({
        id: uuid("id"),
        name: z.string(),
        classifier_labels: count(410, "Labels the classifier gave this category in the window"),
        confirmed: count(40, "Then confirmed by a user (the same category given again)"),
        unchanged: count(340, "Not changed since"),
        changed: count(25, "Then changed by a user (see changed_to)"),
        replaced: count(5, "Then replaced by the classifier (a reclassify) or removed by a category's deletion"),
        kept_share: z.number().min(0).max(1).meta({ description: "(confirmed + unchanged) / classifier_labels" }),
        changed_to: z.array(
          z.object({
            category: labelRef.nullable().meta({ description: "The user's category; null: the label was removed" }),
            count: count(25),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "CategoryQuality", example: qualityExample });

export type LabelHistoryPageResource = z.infer<typeof labelHistoryPage>;
export type ProjectSettingsResource = z.infer<typeof projectSettings>;
export type CategoryQualityResource = z.infer<typeof categoryQuality>;
