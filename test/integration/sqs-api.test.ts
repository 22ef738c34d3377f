import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import aws4 from "aws4";
import { afterAll, describe, expect, it } from "vitest";
import { SqsApi, SqsApiError } from "../../shared/platform/sqs-api.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { createTestQueue, drainBodies, testSqs, testSqsApi } from "../support/sqs.js";

const endpoint = process.env.AWS_ENDPOINT_URL_SQS as string;
/** Starts `server` on a free local port; resolves to its base URL (a stand-in for SQS's endpoint). */
async function listening(server: Server): Promise<{ url: string; port: number }> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

const bodies = (n: number) => Array.from({ length: n }, (_, i) => `{"n":${i},"text":"ü \\u0000 ,\\n"}`);

describe("SqsApi against the local SQS emulator, checked with the SDK", () => {
  it("sends a batch the SDK receives, body for body", async () => {
    const { queueUrl } = await createTestQueue("sqsapi-send");
    const sent = bodies(10);

    const out = await testSqsApi.sendMessageBatch({
      QueueUrl: queueUrl,
      Entries: sent.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
    });

    expect(out.Successful).toHaveLength(10);
    expect((await drainBodies(queueUrl)).sort()).toEqual([...sent].sort());
  });

  it("receives what the SDK sent, with the attributes the event source maps, and deletes it", async () => {
    // A visibility timeout of 1 s: a message received and not deleted is back within it.
    const { queueUrl } = await createTestQueue("sqsapi-receive", 1);
    const sent = bodies(3);
    await testSqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: sent.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      }),
    );

    const received = await testSqsApi.receiveMessage({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["All"],
    });
    const messages = received.Messages ?? [];
    const deleted = await testSqsApi.deleteMessageBatch({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
    });

    expect(messages.map((m) => m.Body).sort()).toEqual([...sent].sort());
    expect(messages.every((m) => m.Attributes?.ApproximateReceiveCount === "1")).toBe(true);
    expect(deleted.Failed ?? []).toEqual([]);
    // Deleted, not merely invisible: nothing comes back after the visibility timeout.
    expect(await drainBodies(queueUrl, 1500)).toEqual([]);
  });

  it("names the error SQS answers", async () => {
    const { queueUrl } = await createTestQueue("sqsapi-missing");
    const error = await testSqsApi
      .sendMessageBatch({ QueueUrl: `${queueUrl}-missing`, Entries: [{ Id: "0", MessageBody: "x" }] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SqsApiError);
    expect(error).toMatchObject({ statusCode: 400, retryable: false });
    expect((error as SqsApiError).name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
  });
});

describe("SqsApi's retries, against scripted answers of SQS", () => {
  /** What AWS answers, attempt by attempt ("reset": the connection is dropped mid-request). */
  type Answer = { status: number; type?: string } | "reset";

  async function attemptsUntilDone(answers: Answer[]): Promise<{ attempts: number; error?: unknown }> {
    let attempts = 0;
    const server = createServer((request, response) => {
      const answer = answers[Math.min(attempts++, answers.length - 1)] as Answer;
      request.resume();
      if (answer === "reset") return void request.socket.destroy();
      const body = answer.type
        ? JSON.stringify({ __type: `com.amazonaws.sqs#${answer.type}`, message: "scripted" })
        : "{}";
      response.writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" }).end(body);
    });
    const sqs = new SqsApi({ endpoint: (await listening(server)).url });
    try {
      await sqs.sendMessageBatch({ QueueUrl: "q", Entries: [{ Id: "0", MessageBody: "x" }] });
      return { attempts };
    } catch (error) {
      return { attempts, error };
    } finally {
      sqs.destroy();
      server.close();
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
    expect(exhausted.error).toMatchObject({ name: "ServiceUnavailable", statusCode: 503 });
  });

  it("does not retry what cannot succeed", async () => {
    const denied = await attemptsUntilDone([{ status: 400, type: "AccessDeniedException" }, { status: 200 }]);

    expect(denied.attempts).toBe(1);
    expect(denied.error).toMatchObject({ name: "AccessDeniedException", retryable: false });
  });
});

describe("SqsApi through a faulty network (the fault proxy in front of the emulator)", () => {
  const proxies: FaultProxy[] = [];
  afterAll(() => Promise.all(proxies.map((p) => p.close())));
  const faulty = async (mode: "refuse" | "blackhole") => {
    const proxy = await startFaultProxy(endpoint);
    proxies.push(proxy);
    await proxy.set(mode);
    return proxy.url;
  };

  it("gives up after its attempts when nothing answers, with a transport error", async () => {
    const sqs = new SqsApi({ endpoint: await faulty("refuse"), maxAttempts: 2 });
    const error = await sqs.receiveMessage({ QueueUrl: "unused", WaitTimeSeconds: 0 }).catch((e: unknown) => e);
    sqs.destroy();

    expect(error).toBeInstanceOf(SqsApiError);
    expect(error).toMatchObject({ name: "ECONNREFUSED", retryable: true });
  });

  it("times out a black-holed request instead of hanging", async () => {
    const sqs = new SqsApi({ endpoint: await faulty("blackhole"), maxAttempts: 1, requestTimeoutMs: 200 });
    const error = await sqs.receiveMessage({ QueueUrl: "unused", WaitTimeSeconds: 0 }).catch((e: unknown) => e);
    sqs.destroy();

    expect(error).toMatchObject({ name: "RequestTimeout", retryable: true });
  });
});

describe("SqsApi's signature", () => {
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
    const sqs = new SqsApi({ endpoint: url, region: "eu-central-1", credentials });
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
