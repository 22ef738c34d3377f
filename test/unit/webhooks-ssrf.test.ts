import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postDelivery, signedHeaders } from "../../shared/webhooks/http-post.js";
import { type DeliveryMessage, deliveryBody, retryDelaySeconds } from "../../shared/webhooks/model.js";
import { checkWebhookUrl, type HostResolver, UrlRefusedError } from "../../shared/webhooks/url-policy.js";

const aws = { allowLoopback: false };
const local = { allowLoopback: true };

/** A resolver for names the test owns: no DNS involved. */
const resolver =
  (table: Record<string, string[]>): HostResolver =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw new Error(`ENOTFOUND ${host}`);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

const refusal = async (url: string, policy = aws, resolve?: HostResolver) => {
  try {
    await checkWebhookUrl(url, policy, resolve);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(UrlRefusedError);
    return (error as Error).message;
  }
};

describe("webhook URL policy (SSRF)", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.1.2.3", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["224.0.0.251", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["[::1]", "loopback"],
    ["[::]", "unspecified"],
    ["[fe80::1]", "linkLocal"],
    ["[fd12:3456::1]", "uniqueLocal"],
    ["[ff02::1]", "multicast"],
    ["[::ffff:10.0.0.1]", "private"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[::ffff:169.254.169.254]", "linkLocal"],
    ["[64:ff9b::a9fe:a9fe]", "rfc6052"],
    ["[2002:a9fe:a9fe::]", "6to4"],
    ["2130706433", "loopback"], // 127.0.0.1 as one number: the URL parser normalises it
    ["0x7f.0.0.1", "loopback"],
  ])("refuses https://%s (%s)", async (host, range) => {
    expect(await refusal(`https://${host}/hook`)).toContain(range);
  });

  it("refuses a name that resolves to a private address, or to one among public ones", async () => {
    const resolve = resolver({
      "internal.example": ["10.0.0.5"],
      "metadata.example": ["169.254.169.254"],
      "mixed.example": ["93.184.215.14", "192.168.0.10"],
      "mapped.example": ["::ffff:10.1.1.1"],
      "public.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    });
    expect(await refusal("https://internal.example/", aws, resolve)).toContain("internal.example resolves to 10.0.0.5");
    expect(await refusal("https://metadata.example/", aws, resolve)).toContain("linkLocal");
    expect(await refusal("https://mixed.example/", aws, resolve)).toContain("192.168.0.10");
    expect(await refusal("https://mapped.example/", aws, resolve)).toContain("private");
    expect(await refusal("https://unknown.example/", aws, resolve)).toContain("does not resolve");
    const ok = await checkWebhookUrl("https://public.example/hook", aws, resolve);
    expect(ok.target).toEqual({ address: "93.184.215.14", family: 4 });
  });

  it("allows loopback only under npm start, and plain http only to loopback", async () => {
    expect(await refusal("http://127.0.0.1:8080/hook", local)).toBeNull();
    expect(await refusal("http://[::1]:8080/hook", local)).toBeNull();
    expect(await refusal("http://localhost:8080/hook", local, resolver({ localhost: ["127.0.0.1"] }))).toBeNull();
    expect(await refusal("http://10.0.0.1/hook", local)).toContain("private");
    expect(await refusal("http://93.184.215.14/hook", local)).toContain("https");
    expect(await refusal("https://93.184.215.14/hook", aws)).toBeNull();
    expect(await refusal("http://93.184.215.14/hook", aws)).toContain("https");
  });
});

const secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
const message = (url: string): DeliveryMessage => ({
  eventId: "4b1c6a3e-9f0d-4e2a-8b7c-1d2e3f4a5b6c",
  endpointId: "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a",
  projectId: "3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60",
  attempt: 1,
  url,
  sealedSecrets: "",
  type: "thread.labelled",
  occurredAt: "2026-03-02T09:30:00.000Z",
  data: { thread_id: "x" },
});

describe("webhook delivery over HTTP", () => {
  let server: http.Server;
  let port = 0;
  const hits: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      if (req.url === "/redirect") res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      else if (req.url === "/big") res.writeHead(200).end("x".repeat(1_000_000));
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("does not follow a redirect (to the metadata address here): the 302 is a failure", async () => {
    const outcome = await postDelivery(message(`http://127.0.0.1:${port}/redirect`), secrets, { policy: local });
    expect(outcome).toMatchObject({ statusCode: 302, error: "redirect not followed (HTTP 302)" });
    expect(hits.filter((h) => h.includes("meta-data"))).toEqual([]);
  });

  it("reads a bounded part of a large answer", async () => {
    const outcome = await postDelivery(message(`http://127.0.0.1:${port}/big`), secrets, { policy: local });
    expect(outcome.statusCode).toBe(200);
  });

  it("refuses at delivery a name that now resolves to a private address (DNS changed since creation)", async () => {
    const resolve = resolver({ "rebind.example": ["10.0.0.7"] });
    const before = hits.length;
    const outcome = await postDelivery(message(`http://rebind.example:${port}/ok`), secrets, {
      policy: local,
      resolve,
    });
    expect(outcome.statusCode).toBeNull();
    expect(outcome.error).toContain("refused: url: rebind.example resolves to 10.0.0.7");
    expect(hits.length).toBe(before);
  });

  it("connects to the address it checked, whatever the name resolves to later", async () => {
    let calls = 0;
    // First answer loopback (allowed locally), then a private address: the request must use the first.
    const rebinding: HostResolver = async () => [{ address: calls++ === 0 ? "127.0.0.1" : "10.0.0.9", family: 4 }];
    const outcome = await postDelivery(message(`http://pinned.example:${port}/pinned`), secrets, {
      policy: local,
      resolve: rebinding,
    });
    expect(outcome.statusCode).toBe(204);
    expect(calls).toBe(1);
    expect(hits).toContain("/pinned");
  });
});

describe("webhook signatures and retries", () => {
  it("signs with every active secret: after a rotation both the old and the new one verify", () => {
    const [oldSecret, newSecret] = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"];
    const m = message("https://93.184.215.14/");
    const body = deliveryBody(m);
    const headers = signedHeaders(m, [newSecret, oldSecret], body, new Date());
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(new Webhook(secret).verify(body, headers)).toMatchObject({
        type: "thread.labelled",
        data: { thread_id: "x" },
      });
    }
    expect(() => new Webhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").verify(body, headers)).toThrow();
  });

  it("retries on the Standard Webhooks schedule with +/-20% jitter", () => {
    expect(retryDelaySeconds(2, () => 0)).toBe(4);
    expect(retryDelaySeconds(2, () => 0.5)).toBe(5);
    expect(retryDelaySeconds(8, () => 0.5)).toBe(36_000);
    expect(() => retryDelaySeconds(9)).toThrow();
  });
});
