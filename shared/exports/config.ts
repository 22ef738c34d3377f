import * as z from "zod";
import { parseEnv } from "../platform/config.js";
import { DEFAULT_EXPORT_MAX_ACTIVE_PER_PROJECT } from "./queue.js";

/** How long a download link works by default (EXPORT_URL_TTL_SECONDS): one hour. */
export const DEFAULT_EXPORT_URL_TTL_SECONDS = 3600;
/**
 * Threads per keyset page of an export (EXPORT_PAGE_SIZE). Small, because the page read ahead is
 * what survives V8's nursery collections: with Lambda's heap flags for the worker, pages of 1,000
 * let the nursery grow with the export (peak RSS at 1M 1.08-1.15x that at 100k), pages of 250 do
 * not (1.01-1.07x), for 20-40% more time (docs/exports.md).
 */
export const DEFAULT_EXPORT_PAGE_SIZE = 250;

/**
 * The environment of the export pipeline, parsed once and checked at cold start like
 * shared/platform/config.ts (kept here, next to the code that reads it).
 */
const exportsEnvSchema = z.object({
  /** The bucket the files go to (CDK sets it; locally the bucket on the S3 emulator). */
  EXPORT_BUCKET: z.string().optional(),
  /** The export queue (SQS): the API sends one message per export, the worker consumes it. */
  EXPORT_QUEUE_URL: z.string().optional(),
  /**
   * Lifetime of a presigned download link. At most 7 days (SigV4's limit), and in Lambda the
   * link also dies with the role session that signed it (a few hours).
   */
  EXPORT_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(DEFAULT_EXPORT_URL_TTL_SECONDS),
  EXPORT_PAGE_SIZE: z.coerce.number().int().min(1).max(50_000).default(DEFAULT_EXPORT_PAGE_SIZE),
  EXPORT_MAX_ACTIVE_PER_PROJECT: z.coerce.number().int().min(1).max(100).default(DEFAULT_EXPORT_MAX_ACTIVE_PER_PROJECT),
});

export type ExportsEnv = z.infer<typeof exportsEnvSchema>;

export function loadExportsEnv(source: NodeJS.ProcessEnv = process.env): ExportsEnv {
  return parseEnv(exportsEnvSchema, source);
}

/** The setting, or a clear error naming it (a function that needs it was deployed without it). */
export function required<K extends keyof ExportsEnv>(env: ExportsEnv, name: K): NonNullable<ExportsEnv[K]> {
  const value = env[name];
  if (value === undefined || value === null) throw new Error(`${name} is not set`);
  return value as NonNullable<ExportsEnv[K]>;
}
