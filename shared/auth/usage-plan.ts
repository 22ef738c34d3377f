import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
} from "@aws-sdk/client-api-gateway";

/**
 * Per-key throttling in AWS is an API Gateway usage plan: each of our keys is registered there as
 * an API Gateway API key whose value is our key's id, and the authorizer names it
 * (`usageIdentifierKey`). Our secret never leaves our database.
 */
export interface UsagePlanRegistry {
  /** Registers the key in the plan; harmless when it already is. */
  register(apiKeyId: string): Promise<void>;
  unregister(apiKeyId: string): Promise<void>;
  /** The key ids the plan has now. */
  registered(): Promise<Set<string>>;
}

const nameOf = (apiKeyId: string) => `kapa-${apiKeyId}`;

export class ApiGatewayUsagePlan implements UsagePlanRegistry {
  constructor(
    private readonly client: APIGatewayClient,
    private readonly usagePlanId: string,
  ) {}

  async register(apiKeyId: string): Promise<void> {
    if ((await this.registered()).has(apiKeyId)) return;
    const existing = await this.client.send(
      new GetApiKeysCommand({ nameQuery: nameOf(apiKeyId), includeValues: false }),
    );
    const key =
      existing.items?.find((k) => k.name === nameOf(apiKeyId)) ??
      (await this.client.send(new CreateApiKeyCommand({ name: nameOf(apiKeyId), value: apiKeyId, enabled: true })));
    await this.client.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: this.usagePlanId, keyId: key.id, keyType: "API_KEY" }),
    );
  }

  async unregister(apiKeyId: string): Promise<void> {
    const existing = await this.client.send(new GetApiKeysCommand({ nameQuery: nameOf(apiKeyId) }));
    for (const key of existing.items ?? []) {
      if (key.name === nameOf(apiKeyId) && key.id) await this.client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    }
  }

  async registered(): Promise<Set<string>> {
    const ids = new Set<string>();
    let position: string | undefined;
    do {
      const page = await this.client.send(
        new GetUsagePlanKeysCommand({ usagePlanId: this.usagePlanId, position, limit: 500 }),
      );
      for (const key of page.items ?? []) if (key.name?.startsWith("kapa-")) ids.add(key.name.slice("kapa-".length));
      position = page.position;
    } while (position);
    return ids;
  }
}

/** The registry of USAGE_PLAN_ID (a stack output), or null where per-key limits are not in use (locally). */
export function usagePlanFromEnv(env: NodeJS.ProcessEnv = process.env): UsagePlanRegistry | null {
  const id = env.USAGE_PLAN_ID;
  return id ? new ApiGatewayUsagePlan(new APIGatewayClient({ maxAttempts: 6 }), id) : null;
}

/** Registers every active key that the plan lacks, one at a time (the management API is rate-limited). */
export async function syncUsagePlan(
  registry: UsagePlanRegistry,
  activeKeyIds: readonly string[],
): Promise<{ registered: string[]; already: number }> {
  const present = await registry.registered();
  const missing = activeKeyIds.filter((id) => !present.has(id));
  for (const id of missing) await registry.register(id);
  return { registered: missing, already: activeKeyIds.length - missing.length };
}
