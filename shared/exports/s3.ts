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
  return new MultipartSink(target);
}

class MultipartSink implements ExportSink {
  private readonly disposition: string;
  private readonly free: Buffer[] = [];
  private allocated = 1;
  private part: Buffer = Buffer.allocUnsafeSlow(PART_SIZE);
  private used = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly target: S3Target) {
    this.disposition = `attachment; filename="${target.fileName}"`;
  }

  async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes <= PART_SIZE - this.used) {
      this.used += this.part.write(text, this.used, "utf8");
      return;
    }
    // Across a part boundary (once per part): through one Buffer, copied in slices.
    const encoded = Buffer.from(text, "utf8");
    for (let offset = 0; offset < encoded.length; ) {
      const copied = encoded.copy(this.part, this.used, offset);
      this.used += copied;
      offset += copied;
      if (this.used === PART_SIZE) await this.uploadPart();
    }
  }

  async finish(): Promise<void> {
    const { s3, bucket, key, contentType } = this.target;
    if (this.uploadId === undefined) {
      const body = this.part.subarray(0, this.used);
      const put = { Bucket: bucket, Key: key, Body: body, ContentType: contentType };
      await s3.send(new PutObjectCommand({ ...put, ContentDisposition: this.disposition }));
      return;
    }
    if (this.used > 0) await this.uploadPart();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    const upload = { Bucket: bucket, Key: key, UploadId: this.uploadId };
    await s3.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: this.parts } }));
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    if (this.uploadId === undefined) return;
    const { s3, bucket, key } = this.target;
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId }));
  }

  private async startUpload(): Promise<string> {
    const { s3, bucket, key, contentType } = this.target;
    const out = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: contentType,
        ContentDisposition: this.disposition,
      }),
    );
    if (!out.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
    return out.UploadId;
  }

  /** A part buffer to fill: a free one, a new one while the pool is not full, else the next to come back. */
  private async nextBuffer(): Promise<Buffer> {
    while (this.free.length === 0 && this.allocated > PARTS_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafeSlow(PART_SIZE);
  }

  private async uploadPart(): Promise<void> {
    this.uploadId ??= await this.startUpload();
    const buffer = this.part;
    const completed: CompletedPart = { PartNumber: this.parts.length + 1 };
    this.parts.push(completed);
    const { s3, bucket, key } = this.target;
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: this.uploadId,
      PartNumber: completed.PartNumber,
      Body: buffer.subarray(0, this.used),
    });
    const task: Promise<void> = s3
      .send(command)
      .then((out) => {
        completed.ETag = out.ETag;
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.inFlight.delete(task);
        this.free.push(buffer); // the request is over: the buffer may be filled again
      });
    this.inFlight.add(task);
    this.part = await this.nextBuffer();
    this.used = 0;
  }
}
