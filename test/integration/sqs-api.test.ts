import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import aws4 from "aws4";
import { afterAll, describe, expect, it } from "vitest";
import { SqsCallError, SqsPollerClient } from "../../local/sqs-poller-client.js";
import { createSqsClient } from "../../shared/platform/sqs-eager-client.js";
import { sendMessageBatches } from "../../shared/platform/sqs-sender.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { createTestQueue, drainBodies, testSqs } from "../support/sqs.js";

/**
 * The two SQS clients: the SDK's as every process builds it (shared/platform/sqs-sender.ts, the only
 * one production code sends through) and the local event source's receive/delete client
 * (local/sqs-poller-client.ts).
 */
const endpoint = process.env.AWS_ENDPOINT_URL_SQS as string;
/** Starts `server` on a free local port; resolves to its base URL (a stand-in for SQS's endpoint). */
async function listening(server: Server): Promise<{ url: string; port: number }> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

const bodies = (n: number) => Array.from({ length: n }, (_, i) => `{"n":${i},"text":"ü \\u0000 ,\\n"}`);
const group = (i: number) => `00000000-0000-4000-8000-00000000000${i % 2}`;

describe("sending and polling against the local SQS emulator", () => {
  it("sends batches with their group ids; the poller receives them, body for body, and deletes them", async () => {
    // A visibility timeout of 1 s: a message received and not deleted is back within it.
    const { queueUrl } = await createTestQueue("sqs-send", 1);
    const sent = bodies(3);
    await sendMessageBatches(
      testSqs,
      queueUrl,
      sent.map((body, i) => ({ body, groupId: group(i) })),
    );
    const poller = new SqsPollerClient();

    const received = await poller.receiveMessage({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["All"],
    });
    const messages = received.Messages ?? [];
    const deleted = await poller.deleteMessageBatch({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
    });
    poller.destroy();

    expect(messages.map((m) => [m.Body, m.Attributes?.MessageGroupId]).sort()).toEqual(
      sent.map((body, i) => [body, group(i)]).sort(),
    );
    expect(messages.every((m) => m.Attributes?.ApproximateReceiveCount === "1")).toBe(true);
    expect(deleted.Failed ?? []).toEqual([]);
    // Deleted, not merely invisible: nothing comes back after the visibility timeout.
    expect(await drainBodies(queueUrl, 1500)).toEqual([]);
  });

  it("sends more than a batch, every message once", async () => {
    const { queueUrl } = await createTestQueue("sqs-send-many");
    const sent = bodies(25);
    await sendMessageBatches(
      testSqs,
      queueUrl,
      sent.map((body) => ({ body })),
    );
    expect((await drainBodies(queueUrl)).sort()).toEqual([...sent].sort());
  });

  it("names the error SQS answers, through either client", async () => {
    const { queueUrl } = await createTestQueue("sqs-missing");
    const viaSdk = await sendMessageBatches(testSqs, `${queueUrl}-missing`, [{ body: "x" }]).catch((e: unknown) => e);
    const poller = new SqsPollerClient();
    const viaPoller = await poller.receiveMessage({ QueueUrl: `${queueUrl}-missing` }).catch((e: unknown) => e);
    poller.destroy();

    expect((viaSdk as Error).name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(viaPoller).toBeInstanceOf(SqsCallError);
    expect(viaPoller).toMatchObject({ statusCode: 400, retryable: false });
    expect((viaPoller as SqsCallError).name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
  });
});

/** What AWS answers, attempt by attempt ("reset": the connection is dropped mid-request; a string body: sent as is). */
type Answer = { status: number; type?: string; body?: string } | "reset";

/** A stand-in SQS that answers from the script, and counts the attempts. */
async function scriptedSqs(answers: Answer[]) {
  let attempts = 0;
  const server = createServer((request, response) => {
    const answer = answers[Math.min(attempts++, answers.length - 1)] as Answer;
    request.resume();
    if (answer === "reset") return void request.socket.destroy();
    const body =
      answer.body ??
      (answer.type ? JSON.stringify({ __type: `com.amazonaws.sqs#${answer.type}`, message: "scripted" }) : "{}");
    response.writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" }).end(body);
  });
  return { url: (await listening(server)).url, attempts: () => attempts, close: () => server.close() };
}

/** One call through each client, against the script. */
const calls = {
  sdk: async (url: string) => {
    const sqs = createSqsClient({ endpoint: url });
    try {
      await sendMessageBatches(sqs, "http://127.0.0.1/q", [{ body: "x" }]);
    } finally {
      sqs.destroy();
    }
  },
  poller: async (url: string) => {
    const sqs = new SqsPollerClient({ endpoint: url });
    try {
      await sqs.deleteMessageBatch({ QueueUrl: "q", Entries: [] });
    } finally {
      sqs.destroy();
    }
  },
};

describe.each(Object.entries(calls))("the %s client's retries, against scripted answers of SQS", (_, call) => {
  async function attemptsUntilDone(answers: Answer[]): Promise<{ attempts: number; error?: unknown }> {
    const sqs = await scriptedSqs(answers);
    try {
      await call(sqs.url);
      return { attempts: sqs.attempts() };
    } catch (error) {
      return { attempts: sqs.attempts(), error };
    } finally {
      sqs.close();
    }
  }

  it("retries throttling, 5xx and dropped connections, up to three attempts", async () => {
    expect(await attemptsUntilDone([{ status: 400, type: "ThrottlingException" }, { status: 200 }])).toEqual({
      attempts: 2,
    });
    expect(await attemptsUntilDone(["reset", { status: 500, type: "InternalError" }, { status: 200 }])).toEqual({
      attempts: 3,
    });
    const exhausted = await attemptsUntilDone([{ status: 503, type: "ServiceUnavailable" }]);
    expect(exhausted.attempts).toBe(3);
    expect(exhausted.error).toMatchObject({ name: "ServiceUnavailable" });
  });

  it("does not retry what cannot succeed", async () => {
    const denied = await attemptsUntilDone([{ status: 400, type: "AccessDeniedException" }, { status: 200 }]);

    expect(denied.attempts).toBe(1);
    expect(denied.error).toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("the SDK client's MD5 check", () => {
  it("refuses a send whose body SQS reports with another MD5", async () => {
    const wrong = JSON.stringify({ Successful: [{ Id: "0", MessageId: "m", MD5OfMessageBody: "0".repeat(32) }] });
    const sqs = await scriptedSqs([{ status: 200, body: wrong }]);
    const error = await calls.sdk(sqs.url).catch((e: unknown) => e);
    sqs.close();

    expect(String(error)).toMatch(/md5|checksum/i);
  });
});

describe("both clients through a faulty network (the fault proxy in front of the emulator)", () => {
  const proxies: FaultProxy[] = [];
  afterAll(() => Promise.all(proxies.map((p) => p.close())));
  const faulty = async (mode: "refuse" | "blackhole") => {
    const proxy = await startFaultProxy(endpoint);
    proxies.push(proxy);
    await proxy.set(mode);
    return proxy.url;
  };
  const receive = (sqs: SQSClient) => sqs.send(new ReceiveMessageCommand({ QueueUrl: "unused", WaitTimeSeconds: 0 }));

  it("gives up after its attempts when nothing answers, with a transport error", async () => {
    const url = await faulty("refuse");
    const sdk = createSqsClient({ endpoint: url, maxAttempts: 2 });
    const viaSdk = await sendMessageBatches(sdk, "http://127.0.0.1/q", [{ body: "x" }]).catch((e: unknown) => e);
    sdk.destroy();
    const poller = new SqsPollerClient({ endpoint: url, maxAttempts: 2 });
    const viaPoller = await poller.receiveMessage({ QueueUrl: "unused", WaitTimeSeconds: 0 }).catch((e: unknown) => e);
    poller.destroy();

    expect(viaSdk).toMatchObject({ code: "ECONNREFUSED", $metadata: { attempts: 2 } });
    expect(viaPoller).toBeInstanceOf(SqsCallError);
    expect(viaPoller).toMatchObject({ name: "ECONNREFUSED", retryable: true });
  });

  it("times out a black-holed request instead of hanging", async () => {
    const url = await faulty("blackhole");
    const sdk = createSqsClient({ endpoint: url, maxAttempts: 1, requestTimeoutMs: 200 });
    const viaSdk = await receive(sdk).catch((e: unknown) => e);
    sdk.destroy();
    const poller = new SqsPollerClient({ endpoint: url, maxAttempts: 1, requestTimeoutMs: 200 });
    const viaPoller = await poller.receiveMessage({ QueueUrl: "unused", WaitTimeSeconds: 0 }).catch((e: unknown) => e);
    poller.destroy();

    expect(viaSdk).toMatchObject({ name: "TimeoutError" });
    expect(viaPoller).toMatchObject({ name: "RequestTimeout", retryable: true });
  });
});

describe("The poller client's signature", () => {
  it("is the SigV4 signature an independent signer (aws4) computes for the same request", async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      request.on("end", () => {
        seen.push({ headers: request.headers, body });
        response.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      });
    });
    const { url, port } = await listening(server);
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/key+example", sessionToken: "token==" };
    const sqs = new SqsPollerClient({ endpoint: url, region: "eu-central-1", credentials });
    await sqs.deleteMessageBatch({ QueueUrl: "https://sqs.eu-central-1.amazonaws.com/1/q", Entries: [] });
    sqs.destroy();
    server.close();

    const [{ headers, body }] = seen as [(typeof seen)[number]];
    const signedNames = /SignedHeaders=([^,]+)/.exec(headers.authorization ?? "")?.[1]?.split(";") ?? [];
    const expected = aws4.sign(
      {
        host: `127.0.0.1:${port}`,
        method: "POST",
        path: "/",
        service: "sqs",
        region: "eu-central-1",
        body,
        headers: Object.fromEntries(signedNames.filter((n) => n !== "host").map((n) => [n, headers[n] as string])),
      },
      credentials,
    );

    expect(signedNames).toEqual(expect.arrayContaining(["host", "x-amz-date", "x-amz-target", "x-amz-security-token"]));
    expect(headers["x-amz-target"]).toBe("AmazonSQS.DeleteMessageBatch");
    expect(headers.authorization).toBe(expected.headers?.Authorization);
  });
});
