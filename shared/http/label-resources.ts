import type { CategoryQuality } from "../categories/quality.js";
import type { LabelChange } from "../labels/history.js";
import type { ProjectSettings } from "../projects/settings.js";
import type { CategoryQualityResource, LabelHistoryPageResource, ProjectSettingsResource } from "./label-schemas.js";

/** Label history, settings and quality as the API shows them (shared/http/label-schemas.ts). */

export const toLabelHistoryPageResource = (changes: LabelChange[], next: string | null): LabelHistoryPageResource => ({
  next,
  results: changes.map((c) => ({
    category: c.category,
    previous: c.previous,
    source: c.source,
    actor: c.actor,
    confidence: c.confidence,
    rationale: c.rationale,
    at: c.at.toISOString(),
  })),
});

export const toProjectSettingsResource = (settings: ProjectSettings): ProjectSettingsResource => ({
  review_threshold: settings.reviewThreshold,
});

const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);

export const toCategoryQualityResource = (quality: CategoryQuality): CategoryQualityResource => ({
  created_after: quality.after.toISOString(),
  created_before: quality.before.toISOString(),
  labels: quality.labels,
  truncated: quality.truncated,
  categories: quality.categories.map((c) => ({
    id: c.id,
    name: c.name,
    classifier_labels: c.classifierLabels,
    confirmed: c.confirmed,
    unchanged: c.unchanged,
    changed: c.changed,
    replaced: c.replaced,
    kept_share: share(c.confirmed + c.unchanged, c.classifierLabels),
    changed_to: c.changedTo,
  })),
});
