import type { CfnTemplate, CfnValue } from "./template.js";

/**
 * The local stand-in for AWS WAF on the API stage: the web ACL of the synthesized template,
 * evaluated rule by rule in priority order before the gateway's own checks, as WAF is in AWS.
 * Only the statements the stack uses are understood (a rule with another is refused at start,
 * so a template change cannot silently turn a rule off).
 *
 * Rate-based rules are an emulation: each aggregation instance (an IP, a header value) counts the
 * requests that match the scope-down statement over the last evaluation window, in one-second
 * buckets, blocked ones included; a request is blocked once `limit` requests are counted. AWS WAF
 * counts the same window but checks it only every few seconds and limits "near" the limit, so in
 * AWS a flood gets some seconds of requests past the limit before the block (docs/architecture.md).
 */

type Obj = { [key: string]: CfnValue };
const isObj = (v: CfnValue | undefined): v is Obj => Boolean(v) && typeof v === "object" && !Array.isArray(v);

export interface WafRequest {
  /** Header names in lower case. */
  headers: Record<string, string>;
  sourceIp: string;
}

export interface WafBlock {
  status: number;
  headers: Record<string, string>;
  body: string;
  contentType: string;
  rule: string;
}

/** Aggregation instances kept per rule at most (the oldest forgotten first): random keys cannot grow it without bound. */
const MAX_INSTANCES = 100_000;

/** One rate-based rule's counts: per aggregation instance, requests per second of the window. */
class RateCounter {
  private readonly instances = new Map<string, Map<number, number>>();

  constructor(
    readonly limit: number,
    readonly windowSeconds: number,
  ) {}

  /** Counts one request of `instance` at `nowMs`; true when the instance was already at its limit. */
  hit(instance: string, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    let buckets = this.instances.get(instance);
    if (!buckets) {
      if (this.instances.size >= MAX_INSTANCES) this.instances.delete(this.instances.keys().next().value as string);
      buckets = new Map();
      this.instances.set(instance, buckets);
    }
    let counted = 0;
    for (const [s, n] of buckets) {
      if (s <= second - this.windowSeconds) buckets.delete(s);
      else counted += n;
    }
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
    return counted >= this.limit;
  }
}

function transformationsNone(statement: Obj, where: string): void {
  const transformations = statement.TextTransformations;
  const ok =
    !transformations || (Array.isArray(transformations) && transformations.every((t) => isObj(t) && t.Type === "NONE"));
  if (!ok) throw new Error(`${where}: only TextTransformations NONE are emulated`);
}

/** The value of a FieldToMatch (a single header only), or undefined when the request lacks it. */
function fieldValue(field: CfnValue | undefined, where: string): (r: WafRequest) => string | undefined {
  const name = isObj(field) && isObj(field.SingleHeader) ? field.SingleHeader.Name : undefined;
  if (typeof name !== "string") throw new Error(`${where}: only a SingleHeader FieldToMatch is emulated`);
  const lower = name.toLowerCase();
  return (r) => r.headers[lower];
}

type Matcher = (r: WafRequest) => boolean;

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  EQ: (a, b) => a === b,
  NE: (a, b) => a !== b,
  LE: (a, b) => a <= b,
  LT: (a, b) => a < b,
  GE: (a, b) => a >= b,
  GT: (a, b) => a > b,
};

/** A match statement (not rate-based) as a predicate; a request missing the field matches none. */
export function matcher(statement: CfnValue | undefined, where: string): Matcher {
  if (!isObj(statement)) throw new Error(`${where}: not a statement`);
  const [type, body] = Object.entries(statement)[0] ?? [];
  if (!isObj(body)) throw new Error(`${where}: not a statement`);
  switch (type) {
    case "NotStatement": {
      const inner = matcher(body.Statement, where);
      return (r) => !inner(r);
    }
    case "AndStatement":
    case "OrStatement": {
      const parts = (Array.isArray(body.Statements) ? body.Statements : []).map((s) => matcher(s, where));
      return type === "AndStatement" ? (r) => parts.every((p) => p(r)) : (r) => parts.some((p) => p(r));
    }
    case "SizeConstraintStatement": {
      transformationsNone(body, where);
      const value = fieldValue(body.FieldToMatch, where);
      const compare = COMPARE[String(body.ComparisonOperator)];
      if (!compare) throw new Error(`${where}: unknown ComparisonOperator`);
      return (r) => {
        const v = value(r);
        return v !== undefined && compare(Buffer.byteLength(v), Number(body.Size));
      };
    }
    case "RegexMatchStatement": {
      transformationsNone(body, where);
      const value = fieldValue(body.FieldToMatch, where);
      const pattern = new RegExp(String(body.RegexString));
      return (r) => {
        const v = value(r);
        return v !== undefined && pattern.test(v);
      };
    }
    default:
      throw new Error(`${where}: ${type} is not emulated`);
  }
}

/** The aggregation instance of a request, or null when it lacks a key component (then not counted). */
function aggregation(rate: Obj, where: string): (r: WafRequest) => string | null {
  if (rate.AggregateKeyType === "IP") return (r) => r.sourceIp;
  if (rate.AggregateKeyType !== "CUSTOM_KEYS") throw new Error(`${where}: AggregateKeyType ${rate.AggregateKeyType}`);
  const keys = (Array.isArray(rate.CustomKeys) ? rate.CustomKeys : []).map(
    (key): ((r: WafRequest) => string | undefined) => {
      if (isObj(key) && isObj(key.Header)) {
        transformationsNone(key.Header, where);
        return fieldValue({ SingleHeader: { Name: String(key.Header.Name) } }, where);
      }
      if (isObj(key) && isObj(key.IP)) return (r) => r.sourceIp;
      throw new Error(`${where}: only Header and IP custom keys are emulated`);
    },
  );
  return (r) => {
    const values = keys.map((k) => k(r));
    return values.every((v) => v !== undefined) ? JSON.stringify(values) : null;
  };
}

export interface WafRule {
  name: string;
  priority: number;
  /** Blocks the request (and says how), or lets it go on to the next rule. */
  evaluate(r: WafRequest, nowMs: number): WafBlock | null;
}

function blockOf(action: CfnValue | undefined, bodies: Obj, rule: string): WafBlock | null {
  if (!isObj(action) || !isObj(action.Block)) {
    if (isObj(action) && isObj(action.Count)) return null;
    throw new Error(`${rule}: only Block and Count actions are emulated`);
  }
  const custom = isObj(action.Block.CustomResponse) ? action.Block.CustomResponse : null;
  // WAF's own block response: 403 with a body of its own (API Gateway then answers WAF_FILTERED).
  if (!custom)
    return {
      status: 403,
      headers: {},
      body: JSON.stringify({ detail: "Forbidden" }),
      contentType: "application/json",
      rule,
    };
  const body = isObj(bodies[String(custom.CustomResponseBodyKey)])
    ? (bodies[String(custom.CustomResponseBodyKey)] as Obj)
    : null;
  const headers = Object.fromEntries(
    (Array.isArray(custom.ResponseHeaders) ? custom.ResponseHeaders : []).flatMap((h) =>
      isObj(h) ? [[String(h.Name).toLowerCase(), String(h.Value)]] : [],
    ),
  );
  const contentType = { APPLICATION_JSON: "application/json", TEXT_HTML: "text/html", TEXT_PLAIN: "text/plain" }[
    String(body?.ContentType ?? "TEXT_PLAIN")
  ];
  return {
    status: Number(custom.ResponseCode),
    headers,
    body: String(body?.Content ?? ""),
    contentType: contentType ?? "text/plain",
    rule,
  };
}

function ruleOf(rule: Obj, bodies: Obj): WafRule {
  const name = String(rule.Name);
  const statement = isObj(rule.Statement) ? rule.Statement : {};
  const block = blockOf(rule.Action, bodies, name);
  const rate = isObj(statement.RateBasedStatement) ? statement.RateBasedStatement : null;
  if (!rate) {
    const matches = matcher(statement, name);
    return { name, priority: Number(rule.Priority), evaluate: (r) => (matches(r) ? block : null) };
  }
  const scope = rate.ScopeDownStatement ? matcher(rate.ScopeDownStatement, name) : () => true;
  const instanceOf = aggregation(rate, name);
  const counter = new RateCounter(
    Number(rate.Limit),
    typeof rate.EvaluationWindowSec === "number" ? rate.EvaluationWindowSec : 300,
  );
  return {
    name,
    priority: Number(rule.Priority),
    evaluate: (r, nowMs) => {
      if (!scope(r)) return null;
      const instance = instanceOf(r);
      return instance !== null && counter.hit(instance, nowMs) ? block : null;
    },
  };
}

/** The web ACL the template associates with an API Gateway stage, as its rules; null without one. */
export function webAclOf(template: CfnTemplate): { logicalId: string; properties: Obj } | null {
  const associated = Object.values(template.Resources)
    .filter((r) => r.Type === "AWS::WAFv2::WebACLAssociation")
    .map((r) => r.Properties?.WebACLArn)
    .map((arn) => (isObj(arn) && Array.isArray(arn["Fn::GetAtt"]) ? String(arn["Fn::GetAtt"][0]) : null));
  const logicalId = associated.find((id) => id && template.Resources[id]?.Type === "AWS::WAFv2::WebACL");
  if (!logicalId) return null;
  return { logicalId, properties: template.Resources[logicalId]?.Properties ?? {} };
}

export interface LocalWaf {
  rules: WafRule[];
  /** The first rule that blocks the request, in priority order; null: allowed (the default action). */
  inspect(r: WafRequest, nowMs?: number): WafBlock | null;
}

/** The web ACL's rules, ready to evaluate (each rate rule with counts of its own). */
export function localWaf(properties: Obj): LocalWaf {
  if (!isObj(properties.DefaultAction) || !isObj(properties.DefaultAction.Allow)) {
    throw new Error("The web ACL's default action must be Allow to be emulated");
  }
  const bodies = isObj(properties.CustomResponseBodies) ? properties.CustomResponseBodies : {};
  const rules = (Array.isArray(properties.Rules) ? properties.Rules : [])
    .filter(isObj)
    .map((rule) => ruleOf(rule, bodies))
    .sort((a, b) => a.priority - b.priority);
  return {
    rules,
    inspect(r, nowMs = Date.now()) {
      for (const rule of rules) {
        const block = rule.evaluate(r, nowMs);
        if (block) return block;
      }
      return null;
    },
  };
}
