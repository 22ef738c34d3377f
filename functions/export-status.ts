import { loadExportsEnv } from "../shared/exports/config.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { createS3Client } from "../shared/exports/s3.js";
import { getExport } from "../shared/exports/service.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/runtime.js";

const env = loadExportsEnv();
// One client per process; it signs the download links (AWS_ENDPOINT_URL_S3 locally).
const s3 = createS3Client();

export const handler = httpHandler(routes.getExport, async ({ path }) => {
  const { database } = await runtime();
  const deps = {
    exports: new ExportsRepository(database.db),
    s3,
    bucket: env.EXPORT_BUCKET,
    urlTtlSeconds: env.EXPORT_URL_TTL_SECONDS,
  };
  return { status: 200, body: await getExport(deps, path.project_id, path.export_id) };
});
