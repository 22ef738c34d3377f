/**
 * Headers of the HTML pages the API serves (the dashboard and Redoc) and their assets: a
 * Content-Security-Policy that lets a page load only its own files and talk only to its own
 * origin, no framing (clickjacking), no MIME sniffing, and no full URLs in the Referer header
 * (a project id is part of a path). The Lambdas set them, so API Gateway and the local gateway
 * send the same (docs/analytics.md).
 */
function csp(directives: Record<string, string>): string {
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join("; ");
}

const COMMON = {
  "default-src": "'none'",
  "base-uri": "'none'",
  "frame-ancestors": "'none'",
  "form-action": "'none'",
};

/** The dashboard: its own script and stylesheet, an inline icon, its own API (same origin). */
export const DASHBOARD_CSP = csp({
  ...COMMON,
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self' data:",
  "connect-src": "'self'",
});

/**
 * Redoc: its own script, which injects <style> elements at run time (styled-components, hence
 * 'unsafe-inline' for styles only, never for scripts) and runs its search index in a worker made
 * from a blob: URL; it fetches the document from the same origin.
 */
export const REDOC_CSP = csp({
  ...COMMON,
  "script-src": "'self'",
  "style-src": "'self' 'unsafe-inline'",
  "img-src": "'self' data:",
  "font-src": "'self' data:",
  "connect-src": "'self'",
  "worker-src": "blob:",
});

export function securityHeaders(policy: string): Record<string, string> {
  return {
    "content-security-policy": policy,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}
