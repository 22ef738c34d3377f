import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";

/** A REST (v1) proxy event as API Gateway sends it after our authorizer allowed the request. */
export function apiEvent(options: {
  method: string;
  path: string;
  resource: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  auth?: { apiKeyId: string; projectIds: string[] } | null;
}): APIGatewayProxyEvent {
  const body = options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  return {
    resource: options.resource,
    path: options.path,
    httpMethod: options.method,
    headers: { Host: "api.test", "Content-Type": "application/json", ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "test",
      authorizer: options.auth
        ? { apiKeyId: options.auth.apiKeyId, projectIds: options.auth.projectIds.join(",") }
        : null,
      domainName: "api.test",
      httpMethod: options.method,
      identity: {} as APIGatewayProxyEvent["requestContext"]["identity"],
      path: `/prod${options.path}`,
      protocol: "HTTP/1.1",
      requestId: "test-request",
      requestTimeEpoch: Date.now(),
      resourceId: "test",
      resourcePath: options.resource,
      stage: "prod",
    },
  };
}

export const lambdaContext = { awsRequestId: "test", functionName: "test" } as Context;

export function jsonBody(result: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(result.body) as Record<string, unknown>;
}
