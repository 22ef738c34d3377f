import { inject } from "vitest";
import { type ExportPipeline, startExportPipeline } from "../../local/exports.js";

/** The export pipeline on the run's emulators, with a queue and a bucket of the test file's own. */
export function startTestExportPipeline(): Promise<ExportPipeline> {
  return startExportPipeline({
    s3Endpoint: inject("sqsEndpoint"),
    visibilityTimeoutSeconds: 30,
    queueName: `kapa-test-exports-${crypto.randomUUID().slice(0, 8)}`,
    bucket: `kapa-test-exports-${crypto.randomUUID().slice(0, 8)}`,
  });
}
