import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBoundedBody, readBoundedText } from '../../../shared/http/bounded-body.ts';

/** A web stream of `count` chunks of `size` bytes that records how many chunks were pulled and whether it was cancelled. */
function webStream(count: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= count) {
        controller.close();
        return;
      }
      seen.pulled++;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('readBoundedBody', () => {
  it('returns a body under the bound whole', async () => {
    const { stream, seen } = webStream(3, 10);
    const r = await readBoundedBody(stream, 100);
    expect(r).toEqual({ bytes: Buffer.alloc(30, 'a'), overflow: false });
    expect(seen.cancelled).toBe(false);
  });

  it('returns a body of exactly the bound as no overflow', async () => {
    const { stream } = webStream(4, 25);
    expect((await readBoundedBody(stream, 100)).overflow).toBe(false);
  });

  it('cuts an overlong web stream at the bound and cancels it after one chunk more', async () => {
    const { stream, seen } = webStream(10_000, 1024);
    const r = await readBoundedBody(stream, 4096);
    expect(r.overflow).toBe(true);
    expect(r.bytes.byteLength).toBe(4096);
    expect(seen.cancelled).toBe(true);
    // the stream's queue may hold one chunk ahead (highWaterMark 1), never the whole body
    expect(seen.pulled).toBeLessThanOrEqual(7);
  });

  it('destroys an overlong Node stream', async () => {
    let produced = 0;
    const stream = new Readable({
      read() {
        produced++;
        this.push(Buffer.alloc(1024, 'b'));
      },
    });
    const r = await readBoundedBody(stream, 2048);
    expect(r.overflow).toBe(true);
    expect(r.bytes).toEqual(Buffer.alloc(2048, 'b'));
    expect(stream.destroyed).toBe(true);
    expect(produced).toBeLessThan(100);
  });

  it('treats no body as empty', async () => {
    expect(await readBoundedBody(null, 10)).toEqual({ bytes: Buffer.alloc(0), overflow: false });
    expect(await readBoundedBody(undefined, 10)).toEqual({ bytes: Buffer.alloc(0), overflow: false });
  });

  it("rejects with the stream's error", async () => {
    const stream = new Readable({
      read() {
        this.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
      },
    });
    await expect(readBoundedBody(stream, 10)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('names a bad bound', async () => {
    await expect(readBoundedBody(null, -1)).rejects.toThrow(/max must be a whole number/);
  });
});

describe('readBoundedText', () => {
  it('ends a cut inside a multi-byte character with one U+FFFD', async () => {
    const text = await readBoundedText(Readable.from([Buffer.from('ab€cd', 'utf8')]), 3);
    expect(text).toBe('ab\uFFFD');
  });
});
