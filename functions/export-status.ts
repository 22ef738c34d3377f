import { loadExportsEnv } from "../shared/exports/config.js";
import { s3DownloadLinks } from "../shared/exports/links.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { getExport } from "../shared/exports/service.js";
import { httpHandler } from "../shared/http/handler.js";
import { toExportResource } from "../shared/http/resources.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/platform/runtime.js";

const env = loadExportsEnv();
// One per process; it signs the download links (AWS_ENDPOINT_URL_S3 locally).
const links = s3DownloadLinks();

export const handler = httpHandler(routes.getExport, async ({ path }) => {
  const { database } = await runtime();
  const deps = {
    exports: new ExportsRepository(database.db),
    links,
    bucket: env.EXPORT_BUCKET,
    urlTtlSeconds: env.EXPORT_URL_TTL_SECONDS,
  };
  return { status: 200, body: toExportResource(await getExport(deps, path.project_id, path.export_id)) };
});
