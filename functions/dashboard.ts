import { readFileSync } from "node:fs";
import path from "node:path";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";
import { DASHBOARD_CSP, securityHeaders } from "../shared/http/security-headers.js";

/** The reference dashboard's three files (web/dashboard/), by the path's last segment. */
type DashboardFile = "index.html" | "app.js" | "app.css";
type Assets = Map<DashboardFile, string>;

const CONTENT_TYPES: Record<DashboardFile, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "application/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

let assets: Promise<Assets> | undefined;

/**
 * In Lambda the files were built at synth time and ship next to the code (DASHBOARD_ASSETS_DIR);
 * locally they are built by esbuild at the first request (the builder is loaded by a computed
 * path, so the Lambda bundle never pulls esbuild in).
 */
function loadAssets(): Promise<Assets> {
  const dir = process.env.DASHBOARD_ASSETS_DIR;
  if (dir) {
    const files = Object.keys(CONTENT_TYPES) as DashboardFile[];
    return Promise.resolve(new Map(files.map((f) => [f, readFileSync(path.join(dir, f), "utf8")])));
  }
  const builder = ["..", "web", "build.ts"].join("/");
  return (import(builder) as Promise<{ buildDashboardAssets(): Promise<Assets> }>).then((m) =>
    m.buildDashboardAssets(),
  );
}

function fileOf(eventPath: string): DashboardFile {
  if (eventPath.replace(/\/+$/, "").endsWith("/app.js")) return "app.js";
  if (eventPath.replace(/\/+$/, "").endsWith("/app.css")) return "app.css";
  return "index.html";
}

const serve = (route: typeof routes.dashboard | typeof routes.dashboardScript | typeof routes.dashboardStyle) =>
  httpHandler(route, async ({ event }) => {
    assets ??= loadAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    const file = fileOf(event.path);
    let body = (await assets).get(file) ?? "";
    // Relative links, so the page works under an API Gateway stage prefix, with or without the slash.
    if (file === "index.html") body = body.replaceAll("%ASSETS%", event.path.endsWith("/") ? "" : "dashboard/");
    const cache = file === "index.html" ? "no-cache" : "public, max-age=3600";
    return {
      status: 200,
      body,
      contentType: CONTENT_TYPES[file],
      headers: { "cache-control": cache, ...securityHeaders(DASHBOARD_CSP) },
    };
  });

const page = serve(routes.dashboard);
const script = serve(routes.dashboardScript);
const style = serve(routes.dashboardStyle);

/** One Lambda serves the page and its two assets. */
export const handler = async (...args: Parameters<typeof page>) => {
  const file = fileOf(args[0].path);
  if (file === "app.js") return script(...args);
  if (file === "app.css") return style(...args);
  return page(...args);
};
