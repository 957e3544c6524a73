/**
 * The report page in S3: `PutObject` with server-side encryption (SSE-S3, the data bucket's own default made explicit)
 * and no ACL (the bucket blocks public access; the object is reachable only through a pre-signed URL), and
 * `getSignedUrl` from `@aws-sdk/s3-request-presigner` for the link: SigV4 query signing, `X-Amz-Expires` at most
 * seven days. Caveat (AWS's rule, not ours): a URL signed with temporary credentials stops working when those
 * credentials expire, whatever `X-Amz-Expires` says. So the e-mail carries no such URL: it links to the report-link
 * function (HMAC token, 7 days), which pre-signs a fresh 300 s URL per click (docs/deploy.md, "Weekly digest").
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MAX_PRESIGN_SECONDS, type ReportBucket } from '../../ports/report-bucket.ts';

export class S3ReportBucket implements ReportBucket {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async put(key: string, html: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: html,
        ContentType: 'text/html; charset=utf-8',
        // The page holds every tenant's data: never cached by a shared cache on the way to the reader.
        CacheControl: 'private, no-store',
        ServerSideEncryption: 'AES256',
      }),
    );
  }

  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(
        `a pre-signed URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds (7 days), not ${String(expiresInSeconds)}`,
      );
    }
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }
}
