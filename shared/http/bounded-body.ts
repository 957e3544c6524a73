/**
 * Reading an HTTP response body with a bound, for every HTTP client of the project (notifiers, the agent's poster, the
 * Graph mailbox, the DoH resolver): at most `max` bytes are kept, and once more than `max` arrived the stream is
 * cancelled (a web `ReadableStream`) or destroyed (a Node `IncomingMessage`), so the rest is never downloaded. A
 * hostile 64 MiB body costs `max` plus one chunk.
 *
 * Callers pick what an overlong body means: an error snippet is cut (`text(max)`), a JSON or DNS answer is refused
 * (`overflow`).
 */

export interface BoundedBody {
  /** The first `max` bytes at most. */
  readonly bytes: Buffer;
  /** More than `max` bytes were sent (the rest was not read). */
  readonly overflow: boolean;
}

/** A body source: a web ReadableStream, a Node Readable (both are async iterables of chunks), or none. */
export type BodySource = AsyncIterable<Uint8Array | string> | null | undefined;

/** Read at most `max` bytes of `body`; see the module comment. Rejects with the stream's error. */
export async function readBoundedBody(body: BodySource, max: number): Promise<BoundedBody> {
  if (!Number.isInteger(max) || max < 0)
    throw new TypeError(`readBoundedBody: max must be a whole number ≥ 0, got ${max}`);
  if (body === null || body === undefined) return { bytes: Buffer.alloc(0), overflow: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  // Leaving the loop early calls the iterator's return(): it cancels a web stream and destroys a Node stream.
  for await (const chunk of body) {
    const b =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    chunks.push(b);
    size += b.byteLength;
    if (size > max) {
      overflow = true;
      break;
    }
  }
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  return { bytes: overflow ? all.subarray(0, max) : all, overflow };
}

/**
 * At most `max` bytes of `body` as UTF-8 text (an error message worth quoting); a cut inside a multi-byte character
 * gives one U+FFFD at the end.
 */
export async function readBoundedText(body: BodySource, max: number): Promise<string> {
  return (await readBoundedBody(body, max)).bytes.toString('utf8');
}
