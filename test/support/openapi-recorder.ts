import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { openApiDocument } from "../../shared/http/openapi.js";

/**
 * Every HTTP response the tests see through their clients is recorded here, and checked against
 * the OpenAPI document with ajv (a validator nobody on this project wrote) when the test file
 * ends (see openapi-check.ts): the status must be documented for the operation, the media type
 * too, JSON bodies must match the schema, and 429/503 must carry Retry-After.
 */
export interface RecordedResponse {
  method: string;
  /** The request path (a query string or a stage prefix is ignored). */
  path: string;
  status: number;
  contentType: string | null;
  body: string;
  headers: Record<string, string>;
}

const recorded: RecordedResponse[] = [];

export function recordResponse(response: RecordedResponse): void {
  recorded.push(response);
}

export async function recordFetchResponse(method: string, url: string, response: Response): Promise<void> {
  const copy = response.clone();
  recordResponse({
    method,
    path: new URL(url).pathname,
    status: copy.status,
    contentType: copy.headers.get("content-type"),
    body: await copy.text(),
    headers: Object.fromEntries(copy.headers.entries()),
  });
}

/** A fetch that records what it receives. */
export const recordingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const response = await fetch(request);
  await recordFetchResponse(request.method, request.url, response);
  return response;
};

export function takeRecorded(): RecordedResponse[] {
  return recorded.splice(0);
}

type Document = ReturnType<typeof openApiDocument>;
interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: object }>; headers?: Record<string, unknown> }>;
}

let compiled: { doc: Document; templates: { regex: RegExp; path: string }[]; ajv: Ajv2020 } | undefined;
const validators = new Map<string, ValidateFunction>();

function setup() {
  if (compiled) return compiled;
  const doc = openApiDocument();
  // `example` and friends are annotations; the components are reached through $ref.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: "openapi.json", components: doc.components }, "openapi.json");
  const templates = Object.keys(doc.paths ?? {}).map((path) => ({
    path,
    regex: new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
  }));
  compiled = { doc, templates, ajv };
  return compiled;
}

function validator(ajv: Ajv2020, key: string, schema: object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));
    validate = ajv.compile(rewritten);
    validators.set(key, validate);
  }
  return validate;
}

/** Problems of one response against the document; an empty list when it conforms. */
export function checkResponse(response: RecordedResponse): string[] {
  const { doc, templates, ajv } = setup();
  const what = `${response.method} ${response.path} ${response.status}`;
  const method = response.method.toLowerCase();
  const matching = templates.filter((t) => t.regex.test(response.path));
  // A path the API does not have (a test of the 404 for unknown routes) is not an operation.
  if (matching.length === 0) return response.status === 404 ? [] : [`${what}: no such path in the document`];
  // `categories/stats` also matches `categories/{category_id}`: the one with this method decides.
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  const template = matching.find((t) => paths[t.path]?.[method]);
  const operation = template ? paths[template.path]?.[method] : undefined;
  if (!template || !operation) return response.status === 405 ? [] : [`${what}: no such operation in the document`];
  const documented = operation.responses?.[String(response.status)];
  if (!documented) return [`${what}: status not documented`];
  const problems: string[] = [];
  if (documented.headers?.["Retry-After"] && !response.headers["retry-after"]) problems.push(`${what}: no Retry-After`);
  const mediaTypes = Object.keys(documented.content ?? {});
  if (mediaTypes.length === 0) {
    if (response.body !== "") problems.push(`${what}: documented without content, got a body`);
    return problems;
  }
  const mediaType = mediaTypes.find((type) => response.contentType?.startsWith(type));
  if (!mediaType) return [...problems, `${what}: content type ${response.contentType} not in ${mediaTypes.join(", ")}`];
  const schema = documented.content?.[mediaType]?.schema;
  if (mediaType !== "application/json" || !schema) return problems;
  const validate = validator(ajv, `${template.path} ${response.method} ${response.status}`, schema);
  if (!validate(JSON.parse(response.body))) {
    problems.push(`${what}: ${ajv.errorsText(validate.errors)} in ${response.body.slice(0, 300)}`);
  }
  return problems;
}
