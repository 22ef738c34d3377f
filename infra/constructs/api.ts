import path from "node:path";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { AUTHORIZER_FAILURE, RETRY_AFTER_SECONDS } from "../../shared/http/errors.js";
import type { RouteDef } from "../../shared/http/route.js";
import { buildDashboardSync } from "../../web/build.js";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { type BundledFile, KapaFunction, REPO_ROOT } from "./lambda.js";
import { ApiFirewall } from "./waf.js";

/** The header the authorizer reads; API Gateway caches its decision per value of it. */
export const API_KEY_HEADER = "X-API-KEY";
export const REDOC_SCRIPT_PATH = "/var/task/redoc.standalone.js";
/** The dashboard's page, script and styles, built at synth time (web/build.ts) and shipped with its Lambda. */
export const DASHBOARD_ASSETS_DIR = "/var/task/dashboard";
const DASHBOARD_BUILD_DIR = "build/dashboard";

/** What a handler needs beyond the defaults (database access, 1024 MB, 29 s). */
interface HandlerOptions {
  /** Bind to the database (VPC, env, secret). @default true */
  database?: boolean;
  memorySize?: number;
  environment?: Record<string, string>;
  bundledFiles?: readonly BundledFile[];
  /** Bundle the AWS SDK (KapaFunctionProps.bundleAwsSdk). */
  bundleAwsSdk?: boolean;
  /** Sends thread ids to the live classification queue (CLASSIFICATION_QUEUE_URL, sqs:SendMessage). */
  classificationQueue?: boolean;
  /** Starts or reads backfill jobs (BACKFILL_STATE_MACHINE_ARN; StartExecution or DescribeExecution). */
  backfillJobs?: "start" | "read";
  /** Starts exports (the export queue) or reads them (signs download links from the export bucket). */
  exports?: "start" | "read";
  /** Sends webhook deliveries (redeliver): WEBHOOK_QUEUE_URL, sqs:SendMessage on that queue. */
  webhookDeliveries?: boolean;
}

/** The one list of what each handler gets beyond the defaults; every key must be a route's handler. */
const HANDLER_OPTIONS: Readonly<Record<string, HandlerOptions>> = {
  // Static documents: no database, no VPC (faster cold starts, no secret access).
  docs: {
    database: false,
    memorySize: 512,
    environment: { REDOC_SCRIPT_PATH },
    bundledFiles: [{ from: "node_modules/redoc/bundles/redoc.standalone.js", to: "redoc.standalone.js" }],
  },
  dashboard: {
    database: false,
    memorySize: 512,
    environment: { DASHBOARD_ASSETS_DIR },
    bundledFiles: [{ from: DASHBOARD_BUILD_DIR, to: "dashboard" }],
  },
  // A new thread is enqueued for classification.
  chat: { classificationQueue: true },
  // Removing a user label hands the thread back to the classifier.
  "update-thread": { classificationQueue: true },
  // Reclassify jobs: executions of the backfill state machine.
  "reclassify-start": { backfillJobs: "start" },
  "reclassify-status": { backfillJobs: "read" },
  // Exports: a message to the export worker; download links signed for the export bucket.
  "export-start": { exports: "start" },
  "export-status": { exports: "read", bundleAwsSdk: true },
  // Webhook endpoints; redeliver sends to the delivery queue.
  "webhook-api": { webhookDeliveries: true },
};

/** API Gateway's own errors (no Lambda involved) get the API's error shape: {"detail": "..."}. */
interface ErrorResponse {
  type: apigateway.ResponseType;
  /** Overrides API Gateway's status code; omit to keep it. */
  statusCode?: string;
  /** A fixed message, or the VTL expression of a JSON string. */
  detail: string | { vtl: string };
  /** Static response headers (values are quoted literals). */
  headers?: Record<string, string>;
}

// Gateway responses can set static headers: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
const retryAfter = { "Retry-After": `'${RETRY_AFTER_SECONDS}'` };

const ERROR_RESPONSES: readonly ErrorResponse[] = [
  // The header is missing (API Gateway skips the authorizer) or the authorizer said "Unauthorized".
  {
    type: apigateway.ResponseType.UNAUTHORIZED,
    statusCode: "401",
    detail: `Missing API key (${API_KEY_HEADER} header)`,
  },
  // The authorizer's policy denies this project: unknown, revoked, expired or not granted (no oracle).
  { type: apigateway.ResponseType.ACCESS_DENIED, statusCode: "403", detail: "Forbidden" },
  { type: apigateway.ResponseType.INVALID_API_KEY, statusCode: "403", detail: "Forbidden" },
  // API Gateway's answer to a path or method it has no route for.
  { type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: "404", detail: "Not found" },
  { type: apigateway.ResponseType.RESOURCE_NOT_FOUND, statusCode: "404", detail: "Not found" },
  {
    type: apigateway.ResponseType.BAD_REQUEST_BODY,
    statusCode: "400",
    detail: { vtl: "$context.error.messageString" },
  },
  {
    type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
    statusCode: "400",
    detail: { vtl: "$context.error.messageString" },
  },
  { type: apigateway.ResponseType.REQUEST_TOO_LARGE, statusCode: "413", detail: "Request too large" },
  { type: apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, statusCode: "415", detail: "Unsupported media type" },
  { type: apigateway.ResponseType.THROTTLED, statusCode: "429", detail: "Too many requests", headers: retryAfter },
  {
    type: apigateway.ResponseType.QUOTA_EXCEEDED,
    statusCode: "429",
    detail: "Too many requests",
    headers: retryAfter,
  },
  // The authorizer failed (say, the database is unreachable): 503 to retry, never a 401/403.
  // A Lambda authorizer that throws (other than "Unauthorized") gives AUTHORIZER_FAILURE; one API
  // Gateway cannot invoke gives AUTHORIZER_CONFIGURATION_ERROR. Both default to 500:
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
  ...[apigateway.ResponseType.AUTHORIZER_FAILURE, apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR].map(
    (type): ErrorResponse => ({
      type,
      statusCode: String(AUTHORIZER_FAILURE.statusCode),
      detail: AUTHORIZER_FAILURE.detail,
      headers: retryAfter,
    }),
  ),
  { type: apigateway.ResponseType.API_CONFIGURATION_ERROR, statusCode: "500", detail: "Internal server error" },
  { type: apigateway.ResponseType.INTEGRATION_FAILURE, statusCode: "502", detail: "Bad gateway" },
  { type: apigateway.ResponseType.INTEGRATION_TIMEOUT, statusCode: "504", detail: "The request timed out" },
  { type: apigateway.ResponseType.DEFAULT_4XX, detail: { vtl: "$context.error.messageString" } },
  { type: apigateway.ResponseType.DEFAULT_5XX, detail: "Internal server error" },
];

/** "list-threads" -> "ListThreads", for construct ids. */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

function errorTemplate(detail: ErrorResponse["detail"]): string {
  return typeof detail === "string" ? JSON.stringify({ detail }) : `{"detail":${detail.vtl}}`;
}

/** What the API needs of the classification pipeline (constructs/classification.ts). */
export interface ClassificationQueueBinder {
  /** Grants sqs:SendMessage on the live queue and sets CLASSIFICATION_QUEUE_URL. */
  bindSender(fn: KapaFunction): void;
}

/** What the API needs of the backfill (constructs/backfill.ts). */
export interface BackfillJobsBinder {
  bindJobStarter(fn: KapaFunction): void;
  bindJobReader(fn: KapaFunction): void;
}

/** What the API needs of the exports (constructs/exports.ts). */
export interface ExportsBinder {
  bindStarter(fn: KapaFunction): void;
  bindReader(fn: KapaFunction): void;
}

/** What the API needs of the webhooks (constructs/webhooks.ts). */
export interface WebhookDeliveriesBinder {
  bindDeliverySender(fn: KapaFunction): void;
}

export interface ApiProps {
  routes: readonly RouteDef[];
  database: Database;
  classification: ClassificationQueueBinder;
  /** Required when a route's handler starts or reads backfill jobs. */
  backfill?: BackfillJobsBinder;
  /** Required when a route's handler starts or reads exports. */
  exports?: ExportsBinder;
  /** Required when a route's handler sends webhook deliveries. */
  webhooks?: WebhookDeliveriesBinder;
  settings: StackSettings;
}

/**
 * The REST API: one resource and method per route of the route table (shared/http/routes.ts),
 * one Lambda per distinct handler behind Lambda proxy integrations, the X-API-KEY REQUEST
 * authorizer on the "apiKey" routes, stage throttling and per-key limits (usage plan), JSON
 * access logs, error-level execution logs, and JSON gateway errors.
 * A trailing slash needs nothing here: API Gateway REST APIs ignore it when matching.
 */
export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly authorizer: apigateway.RequestAuthorizer;
  readonly authorizerFunction: KapaFunction;
  /** The route handlers, by handler name (functions/<name>.ts). */
  readonly handlers: ReadonlyMap<string, KapaFunction>;
  readonly accessLogs: logs.LogGroup;
  /** API Gateway's execution log group of the stage (errors only), created here to set its retention. */
  readonly executionLogs: logs.LogGroup;
  /**
   * Per-key limits (kapa:perKeyRateLimit, unset when 0): the authorizer names the caller's usage
   * plan key in `usageIdentifierKey`; API Gateway throttles (429) and counts each key on its own.
   */
  readonly usagePlan?: apigateway.UsagePlan;
  /** AWS WAF on the stage (kapa:waf): rate rules for keyless and malformed-key requests. */
  readonly firewall?: ApiFirewall;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { settings } = props;
    const perKeyLimits = settings.perKeyRateLimit > 0;
    const routeHandlers = new Set(props.routes.map((r) => r.handler));
    for (const handler of Object.keys(HANDLER_OPTIONS)) {
      if (!routeHandlers.has(handler)) throw new Error(`HANDLER_OPTIONS names ${handler}, which no route uses`);
    }
    if (routeHandlers.has("dashboard")) buildDashboardSync(path.join(REPO_ROOT, DASHBOARD_BUILD_DIR));
    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = this.createRestApi(settings, perKeyLimits);
    // API Gateway writes execution logs to this fixed name; creating it first gives it a retention.
    this.executionLogs = new logs.LogGroup(this, "ExecutionLogs", {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${settings.stageName}`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogs);
    if (perKeyLimits) {
      this.usagePlan = this.restApi.addUsagePlan("PerKeyUsagePlan", {
        description: "Per API key limits: the authorizer returns the caller's key as usageIdentifierKey",
        throttle: { rateLimit: settings.perKeyRateLimit, burstLimit: settings.perKeyBurstLimit },
        quota:
          settings.perKeyDailyQuota > 0
            ? { limit: settings.perKeyDailyQuota, period: apigateway.Period.DAY }
            : undefined,
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
    }
    for (const response of ERROR_RESPONSES) {
      this.restApi.addGatewayResponse(response.type.responseType, {
        type: response.type,
        statusCode: response.statusCode,
        responseHeaders: response.headers,
        templates: { "application/json": errorTemplate(response.detail) },
      });
    }

    this.authorizerFunction = new KapaFunction(this, "Authorizer", {
      entry: "authorizer",
      description: `REQUEST authorizer on ${API_KEY_HEADER}`,
      settings,
      memorySize: 512,
      timeout: Duration.seconds(10),
      network: props.database.functionNetwork,
      environment: { AUTHORIZER_CACHE_TTL_SECONDS: String(settings.authorizerCacheTtlSeconds) },
    });
    props.database.bindTo(this.authorizerFunction.function);
    this.authorizer = new apigateway.RequestAuthorizer(this, "ApiKeyAuthorizer", {
      handler: this.authorizerFunction.function,
      identitySources: [apigateway.IdentitySource.header(API_KEY_HEADER)],
      resultsCacheTtl: Duration.seconds(settings.authorizerCacheTtlSeconds),
    });

    this.handlers = this.addRoutes(props, perKeyLimits && settings.requireUsagePlanKey);
    if (settings.waf)
      this.firewall = new ApiFirewall(this, "Firewall", { stage: this.restApi.deploymentStage, settings });
  }

  private createRestApi(settings: StackSettings, perKeyLimits: boolean): apigateway.RestApi {
    return new apigateway.RestApi(this, "Api", {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: "kapa-service query API",
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Access logs need API Gateway's account-level CloudWatch Logs role.
      cloudWatchRole: true,
      // Usage plan keys come from the authorizer, never from a client header.
      apiKeySourceType: perKeyLimits ? apigateway.ApiKeySourceType.AUTHORIZER : undefined,
      deployOptions: {
        stageName: settings.stageName,
        throttlingRateLimit: settings.throttlingRateLimit,
        throttlingBurstLimit: settings.throttlingBurstLimit,
        metricsEnabled: true,
        tracingEnabled: settings.tracing,
        // Execution logs of errors only (authorizer and integration failures); never request data,
        // which would include the X-API-KEY header.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
  }

  /**
   * One method per route; a handler's function is created when its first route is added, so
   * the functions keep the route table's order. Returns the handlers by name.
   */
  private addRoutes(props: ApiProps, apiKeyRequired: boolean): Map<string, KapaFunction> {
    const handlers = new Map<string, KapaFunction>();
    const integrations = new Map<string, apigateway.LambdaIntegration>();
    for (const route of props.routes) {
      const resource = this.restApi.root.resourceForPath(route.path);
      let integration = integrations.get(route.handler);
      if (!integration) {
        const fn = this.createHandler(route.handler, props);
        integration = new apigateway.LambdaIntegration(fn.function, { allowTestInvoke: false });
        handlers.set(route.handler, fn);
        integrations.set(route.handler, integration);
      }
      const auth: apigateway.MethodOptions =
        route.auth === "apiKey"
          ? {
              authorizer: this.authorizer,
              authorizationType: apigateway.AuthorizationType.CUSTOM,
              // The usage plan applies only to methods that require its key.
              apiKeyRequired,
            }
          : { authorizationType: apigateway.AuthorizationType.NONE };
      resource.addMethod(route.method, integration, { ...auth, operationName: route.operationId });
    }
    return handlers;
  }

  /** A route handler's function, with what HANDLER_OPTIONS grants it. */
  private createHandler(handler: string, props: ApiProps): KapaFunction {
    const { settings, database } = props;
    const options = HANDLER_OPTIONS[handler] ?? {};
    const useDatabase = options.database ?? true;
    const fn = new KapaFunction(this, `${pascalCase(handler)}Handler`, {
      entry: handler,
      description: `API handler functions/${handler}.ts`,
      settings,
      memorySize: options.memorySize,
      network: useDatabase ? database.functionNetwork : undefined,
      environment: {
        ...(useDatabase ? { LLM_DELAY_MS: String(settings.llmDelayMs) } : {}),
        ...options.environment,
      },
      bundledFiles: options.bundledFiles,
      bundleAwsSdk: options.bundleAwsSdk,
    });
    if (useDatabase) database.bindTo(fn.function);
    if (options.classificationQueue) props.classification.bindSender(fn);
    if (options.backfillJobs) {
      if (!props.backfill) throw new Error(`The ${handler} handler needs ApiProps.backfill`);
      if (options.backfillJobs === "start") props.backfill.bindJobStarter(fn);
      else props.backfill.bindJobReader(fn);
    }
    if (options.exports) {
      if (!props.exports) throw new Error(`The ${handler} handler needs ApiProps.exports`);
      if (options.exports === "start") props.exports.bindStarter(fn);
      else props.exports.bindReader(fn);
    }
    if (options.webhookDeliveries) {
      if (!props.webhooks) throw new Error(`The ${handler} handler needs ApiProps.webhooks`);
      props.webhooks.bindDeliverySender(fn);
    }
    return fn;
  }

  /** The invoke URL of the stage, ending with a slash. */
  get url(): string {
    return this.restApi.url;
  }
}
