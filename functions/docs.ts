import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { httpHandler } from "../shared/http/handler.js";
import { openApiDocument } from "../shared/http/openapi.js";
import { routes } from "../shared/http/routes.js";

/** Relative links, so the page works under an API Gateway stage prefix, with or without the trailing slash. */
const redocPage = (specUrl: string, scriptUrl: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>kapa-service API reference</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="${specUrl}"></redoc>
    <script src="${scriptUrl}"></script>
  </body>
</html>`;

let redocScript: string | undefined;

/** The bundled Lambda ships the file next to its code (REDOC_SCRIPT_PATH); locally it is in node_modules. */
function loadRedocScript(): string {
  const path =
    process.env.REDOC_SCRIPT_PATH ?? createRequire(import.meta.url).resolve("redoc/bundles/redoc.standalone.js");
  redocScript ??= readFileSync(path, "utf8");
  return redocScript;
}

const document = JSON.stringify(openApiDocument());

export const openapi = httpHandler(routes.openapi, async () => ({
  status: 200,
  body: document,
  contentType: "application/json",
}));

export const redoc = httpHandler(routes.redoc, async ({ event }) => {
  const page = event.path.endsWith("/")
    ? redocPage("../openapi.json", "redoc.standalone.js")
    : redocPage("openapi.json", "redoc/redoc.standalone.js");
  return { status: 200, body: page, contentType: "text/html; charset=utf-8" };
});

export const redocScriptHandler = httpHandler(routes.redocScript, async () => ({
  status: 200,
  body: loadRedocScript(),
  contentType: "application/javascript; charset=utf-8",
  headers: { "cache-control": "public, max-age=86400" },
}));

/** One Lambda serves the three documentation routes. */
export const handler = async (...args: Parameters<typeof openapi>) => {
  const [event] = args;
  const path = event.path.replace(/\/+$/, "");
  if (path.endsWith("/openapi.json")) return openapi(...args);
  if (path.endsWith("/redoc.standalone.js")) return redocScriptHandler(...args);
  return redoc(...args);
};
