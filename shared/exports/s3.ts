import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { s3ClientConfig } from "./links.js";
import type { ExportSink } from "./stream.js";

/**
 * Parts of 8 MiB: above S3's 5 MiB minimum for every part but the last, and 10,000 parts (S3's
 * maximum) hold 80 GiB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
 */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts uploading at once; the writer waits beyond that, so memory stays at a few parts. */
export const PARTS_IN_FLIGHT = 2;

/** The S3 client of a process that writes exports (settings: links.ts). */
export function createS3Client(): S3Client {
  return new S3Client(s3ClientConfig());
}

export interface S3Target {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  /** The file name a browser saves the download as. */
  fileName: string;
}

/**
 * An S3 multipart upload as a sink: text is encoded straight into part buffers of PART_SIZE,
 * taken from a pool of PARTS_IN_FLIGHT + 1 allocated once and reused as their uploads finish
 * (write() waits for a free one). Memory is those few parts, whatever the export's size, and no
 * garbage is made per page. A file smaller than one part is a single PutObject; nothing is
 * created until the first part is full. abort() removes the parts of a failed upload.
 */
export function s3Sink(target: S3Target): ExportSink {
  const { s3, bucket, key } = target;
  const disposition = `attachment; filename="${target.fileName}"`;
  const free: Buffer[] = [Buffer.allocUnsafeSlow(PART_SIZE)];
  let allocated = 1;
  let part = free.pop() as Buffer;
  let used = 0;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const startUpload = async (): Promise<string> => {
    const out = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: target.contentType,
        ContentDisposition: disposition,
      }),
    );
    if (!out.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
    return out.UploadId;
  };
  /** A part buffer to fill: a free one, a new one while the pool is not full, else the next to come back. */
  const nextBuffer = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated > PARTS_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
    if (free.length > 0) return free.pop() as Buffer;
    allocated++;
    return Buffer.allocUnsafeSlow(PART_SIZE);
  };
  const uploadPart = async () => {
    uploadId ??= await startUpload();
    const buffer = part;
    const partNumber = parts.length + 1;
    const completed: CompletedPart = { PartNumber: partNumber };
    parts.push(completed);
    const body = buffer.subarray(0, used);
    const task = s3
      .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }))
      .then((out) => {
        completed.ETag = out.ETag;
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => {
        inFlight.delete(task);
        free.push(buffer); // the request is over: the buffer may be filled again
      });
    inFlight.add(task);
    part = await nextBuffer();
    used = 0;
  };

  return {
    async write(text: string) {
      const bytes = Buffer.byteLength(text, "utf8");
      if (bytes <= PART_SIZE - used) {
        used += part.write(text, used, "utf8");
        return;
      }
      // Across a part boundary (once per part): through one Buffer, copied in slices.
      const encoded = Buffer.from(text, "utf8");
      for (let offset = 0; offset < encoded.length; ) {
        const copied = encoded.copy(part, used, offset);
        used += copied;
        offset += copied;
        if (used === PART_SIZE) await uploadPart();
      }
    },
    async finish() {
      if (uploadId === undefined) {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: part.subarray(0, used),
            ContentType: target.contentType,
            ContentDisposition: disposition,
          }),
        );
        return;
      }
      if (used > 0) await uploadPart();
      await Promise.all(inFlight);
      if (failure) throw failure;
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    },
    async abort() {
      await Promise.allSettled(inFlight);
      if (uploadId === undefined) return;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    },
  };
}
