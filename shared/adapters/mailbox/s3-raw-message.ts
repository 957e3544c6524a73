/**
 * The raw messages an SES receipt rule's S3 action stored (bucket + prefix + SES messageId), read for the SES inbound
 * function. Only the head of an object is read: a ranged `GetObject` for the first `maxBytes` (the header block of a
 * probe is a few KB; {@link MAX_HEADER_BYTES} is the most the parser keeps), and the body stream is cut at `maxBytes`
 * whatever the server sends, so a 40 MB message costs no more memory than a small one.
 *
 * Error contract: `read` resolves `{ ok: false }` with a one-line reason for what S3 does (no such key, access denied,
 * network); it rejects only for a programming error (an empty key).
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { MAX_HEADER_BYTES } from '../../ports/probe-mailbox.ts';

/** Bytes read from the head of a stored message: the header block the parser may keep, plus room for the blank line. */
export const RAW_HEAD_BYTES = MAX_HEADER_BYTES + 4096;

export type RawRead =
  | {
      readonly ok: true;
      /** At most `maxBytes`. */
      readonly bytes: Uint8Array;
      /** The object's whole size when S3 said it (Content-Range / Content-Length), else null. */
      readonly totalBytes: number | null;
      readonly truncated: boolean;
    }
  | { readonly ok: false; readonly reason: string };

export class S3RawMessages {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #maxBytes: number;

  constructor(client: S3Client, where: { bucket: string; prefix: string; maxBytes?: number }) {
    this.#client = client;
    this.#bucket = where.bucket;
    this.#prefix = where.prefix;
    this.#maxBytes = where.maxBytes ?? RAW_HEAD_BYTES;
  }

  /** The object key of an SES message id: the rule's prefix + the id (the S3 action's documented naming). */
  keyOf(messageId: string): string {
    if (messageId === '' || /[\s/]/.test(messageId)) throw new TypeError(`not an SES message id: ${messageId}`);
    return `${this.#prefix}${messageId}`;
  }

  async read(messageId: string): Promise<RawRead> {
    const key = this.keyOf(messageId);
    let out: GetObjectCommandOutput;
    try {
      out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, Range: `bytes=0-${this.#maxBytes - 1}` }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const name = err instanceof Error ? err.name : 'Error';
      return { ok: false, reason: `s3://${this.#bucket}/${key}: ${name}${status ? ` (HTTP ${status})` : ''}` };
    }
    const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
    const totalBytes = total !== undefined ? Number(total) : (out.ContentLength ?? null);
    if (!out.Body) return { ok: true, bytes: new Uint8Array(), totalBytes, truncated: false };
    const reader = (out.Body.transformToWebStream() as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let truncated = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const room = this.#maxBytes - size;
        if (value.byteLength >= room) {
          chunks.push(value.subarray(0, room));
          size += room;
          truncated = value.byteLength > room || totalBytes === null || totalBytes > size;
          await reader.cancel().catch(() => {});
          break;
        }
        chunks.push(value);
        size += value.byteLength;
      }
    } finally {
      reader.releaseLock();
    }
    if (totalBytes !== null && totalBytes > size) truncated = true;
    return { ok: true, bytes: Buffer.concat(chunks), totalBytes, truncated };
  }
}
