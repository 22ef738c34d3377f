import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { named } from "../platform/errors.js";
import { type DeliveryMessage, deliveryBody, type OpenDelivery } from "./model.js";

/**
 * The signing secrets of an endpoint never travel in the clear on the queues: each delivery
 * message carries them sealed (AES-256-GCM) under the webhook message key, which only the
 * functions that make deliveries (dispatcher, recorder, the API's redeliver) and the sender
 * hold. The seal is bound to the message's event, endpoint, project, URL and body (the GCM
 * associated data): a sealed secret moved into another message, or a message whose URL or
 * payload was changed, does not open, and the sender posts nothing for it. So whoever can read
 * the queues or their DLQs sees no secret, and whoever can send to them cannot have a payload
 * signed or a secret sent to their own URL without the key as well.
 */
const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealBrokenError extends named("SealBrokenError", Error) {}

/** What a seal is bound to: the message's fields that decide where and what is signed. */
function boundTo(message: Omit<DeliveryMessage, "sealedSecrets" | "attempt" | "notBefore">): Buffer {
  const { eventId, endpointId, projectId, url } = message;
  return createHash("sha256")
    .update(JSON.stringify([eventId, endpointId, projectId, url, deliveryBody(message)]))
    .digest();
}

const b64 = (b: Buffer) => b.toString("base64url");

export class MessageSeal {
  private readonly key: Buffer;

  /** `material`: the key's secret text (Secrets Manager's generated string, or a local one); the key is its SHA-256. */
  constructor(material: string) {
    if (material.length < 32) throw new Error("the webhook message key must have at least 32 characters");
    this.key = createHash("sha256").update(material).digest();
  }

  seal(delivery: OpenDelivery): DeliveryMessage {
    const { secrets, ...fields } = delivery;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(boundTo(fields));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
    return { ...fields, sealedSecrets: [VERSION, b64(iv), b64(sealed), b64(cipher.getAuthTag())].join(".") };
  }

  /** The message's secrets; throws SealBrokenError if it was not sealed with this key for exactly this message. */
  open(message: DeliveryMessage): string[] {
    const [version, iv, sealed, tag] = message.sealedSecrets.split(".");
    if (version !== VERSION || !iv || !sealed || !tag) throw new SealBrokenError("the secrets' seal is malformed");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(boundTo(message));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      const plain = Buffer.concat([decipher.update(Buffer.from(sealed, "base64url")), decipher.final()]);
      const secrets = JSON.parse(plain.toString("utf8")) as unknown;
      if (!Array.isArray(secrets) || !secrets.every((s) => typeof s === "string") || secrets.length === 0) {
        throw new Error("not a list of secrets");
      }
      return secrets;
    } catch {
      throw new SealBrokenError("the secrets' seal does not open for this message (another key, or a changed message)");
    }
  }
}
