import { handlerRuntime } from "../shared/composition/runtime.js";
import { loadExportsEnv } from "../shared/exports/config.js";
import { s3DownloadLinks } from "../shared/exports/links.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { toExportResource } from "../shared/exports/response-mappers.js";
import { getExport } from "../shared/exports/service.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";

/** The status's ports, built at the first request; the links port signs download links (AWS_ENDPOINT_URL_S3 locally). */
const statusRuntime = handlerRuntime(({ database }) => {
  const env = loadExportsEnv();
  return {
    exports: new ExportsRepository(database.db),
    links: s3DownloadLinks(),
    bucket: env.EXPORT_BUCKET,
    urlTtlSeconds: env.EXPORT_URL_TTL_SECONDS,
  };
});

export const handler = httpHandler(routes.getExport, async ({ path }) => ({
  status: 200,
  body: toExportResource(await getExport(await statusRuntime(), path.project_id, path.export_id)),
}));
