/**
 * The public API as the dashboard uses it: plain fetch with the X-API-KEY header. The shapes are
 * the OpenAPI document's CategoryTrends and the exports resource.
 */

export interface Bucket {
  start: string;
  end: string;
  threads: number;
  questions: number;
  unlabelled: number;
  by_source: { user: number; classifier: number };
  categories: { id: string; name: string; count: number }[];
}

export interface Trends {
  interval: string;
  tz: string;
  created_after: string;
  created_before: string;
  buckets: Bucket[];
}

export interface ExportStatus {
  id: string;
  status: "queued" | "running" | "done" | "failed";
  rows?: number | null;
  url?: string | null;
  expires_at?: string | null;
}

type Failure = { ok: false; detail: string };

async function call<T>(url: string, key: string, init: RequestInit = {}): Promise<{ ok: true; body: T } | Failure> {
  const response = await fetch(url, {
    ...init,
    headers: { "X-API-KEY": key, "Content-Type": "application/json", ...init.headers },
  });
  const body = (await response.json().catch(() => ({}))) as T & { detail?: string };
  if (response.ok) return { ok: true, body };
  return { ok: false, detail: `${response.status}: ${body.detail ?? response.statusText}` };
}

export async function readTrends(
  api: string,
  key: string,
  query: Record<string, string | undefined>,
): Promise<{ ok: true; trends: Trends } | Failure> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const result = await call<Trends>(`${api}/analytics/categories/?${params}`, key);
  return result.ok ? { ok: true, trends: result.body } : result;
}

const POLL_MS = 1000;
const POLL_LIMIT_MS = 10 * 60_000;

/** POST exports/, then GET exports/{id}/ until it is done or failed. */
export async function requestExport(
  api: string,
  key: string,
  body: Record<string, string>,
  progress: (status: ExportStatus) => void,
): Promise<{ ok: true; export: ExportStatus } | Failure> {
  const started = await call<ExportStatus>(`${api}/exports/`, key, { method: "POST", body: JSON.stringify(body) });
  if (!started.ok) return started;
  const deadline = Date.now() + POLL_LIMIT_MS;
  let state = started.body;
  while ((state.status === "queued" || state.status === "running") && Date.now() < deadline) {
    progress(state);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const polled = await call<ExportStatus>(`${api}/exports/${encodeURIComponent(state.id)}/`, key);
    if (!polled.ok) return polled;
    state = polled.body;
  }
  if (state.status !== "done")
    return { ok: false, detail: `Export ${state.status === "failed" ? "failed" : "is taking too long"}` };
  return { ok: true, export: state };
}
