import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toProjectSettingsResource } from "../shared/http/label-resources.js";
import { routes } from "../shared/http/routes.js";
import { ProjectSettingsRepository } from "../shared/projects/settings.js";

const settings = handlerRuntime((shared) => new ProjectSettingsRepository(shared.database.db));

const get = httpHandler(routes.getProjectSettings, async ({ path }) => ({
  status: 200,
  body: toProjectSettingsResource(await (await settings()).get(path.project_id)),
}));

const update = httpHandler(routes.updateProjectSettings, async ({ path, body }) => ({
  status: 200,
  body: toProjectSettingsResource(
    await (await settings()).update(path.project_id, { reviewThreshold: body.review_threshold }),
  ),
}));

/** One function for the settings resource: GET reads, PATCH changes. */
export const handler = (event: APIGatewayProxyEvent, context?: Context) =>
  event.httpMethod === "PATCH" ? update(event, context) : get(event, context);
