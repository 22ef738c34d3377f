import type { S3ClientConfig } from "@aws-sdk/client-s3";

/**
 * The S3 client settings of every process. Locally AWS_ENDPOINT_URL_S3 names the emulator, reached
 * path-style (http://127.0.0.1:port/bucket/key), which needs no wildcard DNS and makes presigned
 * URLs that `curl` can fetch.
 */
export function s3ClientConfig(): S3ClientConfig {
  return { forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) };
}

/** Signs download links of finished exports. */
export interface DownloadLinks {
  /** A GET of the object, valid `expiresIn` seconds. */
  presign(object: { bucket: string; key: string }, expiresIn: number): Promise<string>;
}

/**
 * Presigned S3 GETs, the SDK and its presigner loaded on the first link: the status route answers
 * "running" far more often than "done", and its Lambda's init does not pay ~150 ms for the S3
 * client (a dynamic import of an external package stays dynamic in the esbuild bundle). The
 * signature covers the path, so a link opens this one object and nothing else; the key is random,
 * so it cannot be guessed. https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html
 */
export function s3DownloadLinks(): DownloadLinks {
  let loaded: Promise<(object: { bucket: string; key: string }, expiresIn: number) => Promise<string>> | undefined;
  const load = async () => {
    const [{ S3Client, GetObjectCommand }, { getSignedUrl }] = await Promise.all([
      import("@aws-sdk/client-s3"),
      import("@aws-sdk/s3-request-presigner"),
    ]);
    const s3 = new S3Client(s3ClientConfig());
    return (object: { bucket: string; key: string }, expiresIn: number) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: object.bucket, Key: object.key }), { expiresIn });
  };
  return {
    async presign(object, expiresIn) {
      loaded ??= load();
      return (await loaded)(object, expiresIn);
    },
  };
}
