import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { Tenant } from "../../shared/admin/tenants.js";
import { type RouteName, routes } from "../../shared/http/routes.js";
import { apiEvent, lambdaContext } from "./events.js";
import { recordResponse } from "./openapi-recorder.js";

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface Invocation {
  status: number;
  body: Record<string, unknown>;
  raw: APIGatewayProxyResult;
}

/**
 * Invokes a route's Lambda handler with the event API Gateway would send once our authorizer
 * allowed `tenant`'s key: path parameters filled from the route's template.
 */
export async function invoke(
  name: RouteName,
  tenant: Tenant,
  options: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<Invocation> {
  const route = routes[name];
  const params: Record<string, string> = { project_id: tenant.projectId, ...options.params };
  const path = route.path.replace(/\{(\w+)\}/g, (_, key: string) => params[key] ?? "");
  const module = (await import(`../../functions/${route.handler}.ts`)) as { handler: ProxyHandler };
  const raw = await module.handler(
    apiEvent({
      method: route.method,
      resource: route.path,
      path: `${path}/`,
      pathParameters: params,
      query: options.query,
      body: options.body,
      rawBody: options.rawBody,
      auth: { apiKeyId: tenant.apiKeyId, projectIds: [tenant.projectId] },
    }),
    lambdaContext,
  );
  const headers = Object.fromEntries(Object.entries(raw.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  recordResponse({
    method: route.method,
    path: `${path}/`,
    status: raw.statusCode,
    contentType: headers["content-type"] ?? null,
    body: raw.body,
    headers,
  });
  return { status: raw.statusCode, body: raw.body ? (JSON.parse(raw.body) as Record<string, unknown>) : {}, raw };
}
