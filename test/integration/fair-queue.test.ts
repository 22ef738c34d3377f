import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { FAIR_QUEUE_RULE } from "../../local/sqs-fair-queue.js";
import { sendMessageBatches } from "../../shared/platform/sqs-sender.js";
import { createTestQueue, drainBodies, receivesUntilQuiet, testSqs } from "../support/sqs.js";

/**
 * The local SQS emulator's standard queues deliver as SQS fair queues do (local/sqs-fair-queue.ts):
 * a group with a disproportionate share of the deliveries or of the messages in flight yields to
 * the others. Counted in messages received, never in time.
 */
describe("fair delivery on a standard queue of the local SQS", () => {
  it("delivers a quiet group's messages long before a noisy group's backlog drains", { timeout: 120_000 }, async () => {
    const { queueUrl } = await createTestQueue("fair-backlog", 30);
    const { received, noisyReceived } = await receivesUntilQuiet(queueUrl, { noisy: 5000, quiet: 10 });

    // Arrival order would deliver all 5,000 first; the first receive may still be the noisy group's.
    expect(noisyReceived).toBeLessThanOrEqual(20);
    expect(received - noisyReceived).toBe(10);
  });

  it("prefers the quiet group while the noisy one holds many messages in flight, not deleted", {
    timeout: 60_000,
  }, async () => {
    const { queueUrl } = await createTestQueue("fair-in-flight", 60);
    const [noisy, quiet] = [crypto.randomUUID(), crypto.randomUUID()];
    const batch = (group: string, kind: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ body: JSON.stringify({ kind, i }), groupId: group }));
    await sendMessageBatches(testSqs, queueUrl, batch(noisy, "noisy", 500));
    // The noisy group's first messages in flight (received, not deleted): past the concurrency threshold.
    const inFlight: string[] = [];
    while (inFlight.length < FAIR_QUEUE_RULE.NOISY_IN_FLIGHT) {
      const out = await testSqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      inFlight.push(...(out.Messages ?? []).map((m) => m.Body ?? ""));
    }
    await sendMessageBatches(testSqs, queueUrl, batch(quiet, "quiet", 5));

    const next = await testSqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    const kinds = (next.Messages ?? []).map((m) => (JSON.parse(m.Body ?? "{}") as { kind: string }).kind);

    // The quiet group's five come first; the rest of the receive is the noisy group's.
    expect(kinds).toEqual([...Array(5).fill("quiet"), ...Array(5).fill("noisy")]);
  });

  it("is a plain standard queue with one group: arrival order, every message once", async () => {
    const { queueUrl } = await createTestQueue("fair-one-group");
    const group = crypto.randomUUID();
    const sent = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i }));
    await sendMessageBatches(
      testSqs,
      queueUrl,
      sent.map((body) => ({ body, groupId: group })),
    );

    expect(await drainBodies(queueUrl)).toEqual(sent);
  });

  it("treats each message without a group as a tenant of its own: it passes a noisy group's backlog", {
    timeout: 60_000,
  }, async () => {
    const { queueUrl } = await createTestQueue("fair-no-group", 30);
    const { noisyReceived } = await receivesUntilQuiet(
      queueUrl,
      { noisy: 1000, quiet: 3 },
      { noisy: crypto.randomUUID(), quiet: undefined },
    );

    expect(noisyReceived).toBeLessThanOrEqual(20);
  });
});
