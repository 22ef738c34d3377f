import { lookup as dnsLookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { named } from "../platform/errors.js";

/**
 * Where a webhook may go. In AWS: `https://` to public unicast addresses only. Under `npm start`
 * (WEBHOOK_ALLOW_LOOPBACK, set by the local world) also `http://` or `https://` to a loopback
 * address, so a developer can receive events on their machine; nothing else.
 */
export interface UrlPolicy {
  allowLoopback: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (injected by tests: a name that resolves to a private address). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** A URL that a policy refuses; `message` is the API's `detail`. */
export class UrlRefusedError extends named("UrlRefusedError", Error) {}

/** The checked URL and the address to connect to (pinned: no second resolution between check and connect). */
export interface CheckedUrl {
  url: URL;
  target: ResolvedAddress;
}

/**
 * The address's ipaddr.js range: "unicast" is a public address; anything else (loopback,
 * private, linkLocal, uniqueLocal, multicast, reserved, carrierGradeNat, unspecified, broadcast,
 * the NAT64 and 6to4/teredo prefixes, ...) is refused. IPv4-mapped IPv6 is judged as its IPv4.
 */
export function addressRange(address: string): string {
  return ipaddr.process(address).range();
}

function checkAddress(address: string, policy: UrlPolicy, host: string): void {
  const range = addressRange(address);
  if (range === "unicast") return;
  if (range === "loopback" && policy.allowLoopback) return;
  const named = host === address ? address : `${host} resolves to ${address}, which`;
  throw new UrlRefusedError(
    `url: ${named} is not a public address (range: ${range}); webhooks can only be sent to public internet addresses`,
  );
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefusedError("url: not an absolute URL");
  }
  if (url.username || url.password) throw new UrlRefusedError("url: credentials in the URL are not allowed");
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UrlRefusedError("url: the scheme must be https");
  }
  return url;
}

/**
 * Checks a webhook URL against the policy and resolves it: every address its host resolves to
 * must be allowed (a name with one private address among public ones is refused). Run at
 * creation and again before every delivery (DNS can change).
 */
export async function checkWebhookUrl(
  raw: string,
  policy: UrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<CheckedUrl> {
  const url = parseUrl(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new UrlRefusedError(`url: the host ${host} does not resolve`);
    }
    if (addresses.length === 0) throw new UrlRefusedError(`url: the host ${host} does not resolve`);
  }
  for (const a of addresses) checkAddress(a.address, policy, host);
  const loopbackOnly = addresses.every((a) => addressRange(a.address) === "loopback");
  if (url.protocol === "http:" && !(policy.allowLoopback && loopbackOnly)) {
    throw new UrlRefusedError("url: the scheme must be https");
  }
  return { url, target: addresses[0] as ResolvedAddress };
}
