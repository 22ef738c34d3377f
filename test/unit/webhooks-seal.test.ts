import { describe, expect, it } from "vitest";
import { MessageSeal, SealBrokenError } from "../../shared/webhooks/message-seal.js";
import type { OpenDelivery } from "../../shared/webhooks/model.js";

const KEY = "the webhook message key of this test, long enough";
const secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"];
const delivery: OpenDelivery = {
  eventId: "4b1c6a3e-9f0d-4e2a-8b7c-1d2e3f4a5b6c",
  endpointId: "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a",
  projectId: "3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60",
  attempt: 1,
  url: "https://hooks.example.com/kapa",
  secrets,
  type: "thread.labelled",
  occurredAt: "2026-03-02T09:30:00.000Z",
  data: { thread_id: "x" },
};

describe("the delivery messages' sealed secrets", () => {
  const seal = new MessageSeal(KEY);

  it("carry no secret in the clear, and open to both secrets of a rotation with the key", () => {
    const message = seal.seal(delivery);
    const onTheQueue = JSON.stringify(message);
    for (const s of secrets) expect(onTheQueue).not.toContain(s.slice(6));
    expect(seal.open(message)).toEqual(secrets);
    // Another attempt or a later time of the same delivery opens too (the sender's holds resend it as it is).
    expect(seal.open({ ...message, attempt: 2, notBefore: "2026-03-02T09:31:00.000Z" })).toEqual(secrets);
  });

  it("do not open under another key", () => {
    expect(() => new MessageSeal(`${KEY}, rotated`).open(seal.seal(delivery))).toThrow(SealBrokenError);
  });

  it("do not open once the URL, the payload, the event or the endpoint of the message changed", () => {
    const message = seal.seal(delivery);
    for (const changed of [
      { url: "https://attacker.example/" },
      { data: { thread_id: "y" } },
      { type: "category.deleted" },
      { eventId: "5b1c6a3e-9f0d-4e2a-8b7c-1d2e3f4a5b6c" },
      { endpointId: "1d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a" },
    ]) {
      expect(() => seal.open({ ...message, ...changed })).toThrow(SealBrokenError);
    }
    const other = seal.seal({ ...delivery, url: "https://attacker.example/" });
    expect(() => seal.open({ ...other, sealedSecrets: message.sealedSecrets })).toThrow(SealBrokenError);
    expect(() => seal.open({ ...message, sealedSecrets: "v1.garbage" })).toThrow(SealBrokenError);
  });
});
