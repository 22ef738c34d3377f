import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { httpHandler } from "../shared/http/handler.js";
import { openApiDocument } from "../shared/http/openapi.js";
import { routes } from "../shared/http/routes.js";
import { REDOC_CSP, securityHeaders } from "../shared/http/security-headers.js";

/** A small inline icon: the page needs no request for it (and none to a favicon.ico outside the stage). */
const ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#32329f"/><path d="M10 7v18M10 16l10-9M13 14l8 11" stroke="#fff" stroke-width="3" fill="none"/></svg>',
  );

/** Relative links, so the page works under an API Gateway stage prefix, with or without the trailing slash. */
const redocPage = (specUrl: string, scriptUrl: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>kapa-service API reference</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="icon" href="${ICON}" />
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
  // Redoc's "API docs by Redocly" footer loads its logo from cdn.redoc.ly: ours loads nothing from outside.
  redocScript ??= readFileSync(path, "utf8").replaceAll("https://cdn.redoc.ly/redoc/logo-mini.svg", ICON);
  return redocScript;
}

const documents = new Map<string, string>();

/** The document names the server it was fetched from (stage prefix included) as its first server. */
export const openapi = httpHandler(routes.openapi, async ({ linkTo }) => {
  const serverUrl = linkTo({}).replace(/\/openapi\.json\/?$/, "");
  let document = documents.get(serverUrl);
  if (!document) {
    document = JSON.stringify(openApiDocument(serverUrl));
    if (documents.size < 16) documents.set(serverUrl, document);
  }
  return { status: 200, body: document, contentType: "application/json", headers: securityHeaders(REDOC_CSP) };
});

export const redoc = httpHandler(routes.redoc, async ({ event }) => {
  const page = event.path.endsWith("/")
    ? redocPage("../openapi.json", "redoc.standalone.js")
    : redocPage("openapi.json", "redoc/redoc.standalone.js");
  return { status: 200, body: page, contentType: "text/html; charset=utf-8", headers: securityHeaders(REDOC_CSP) };
});

export const redocScriptHandler = httpHandler(routes.redocScript, async () => ({
  status: 200,
  body: loadRedocScript(),
  contentType: "application/javascript; charset=utf-8",
  headers: { "cache-control": "public, max-age=86400", ...securityHeaders(REDOC_CSP) },
}));

/** One Lambda serves the three documentation routes. */
export const handler = async (...args: Parameters<typeof openapi>) => {
  const [event] = args;
  const path = event.path.replace(/\/+$/, "");
  if (path.endsWith("/openapi.json")) return openapi(...args);
  if (path.endsWith("/redoc.standalone.js")) return redocScriptHandler(...args);
  return redoc(...args);
};
