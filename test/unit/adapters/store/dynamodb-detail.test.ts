/**
 * The stored form of a check's detail in the DynamoDB store (`encodeDetail`/`decodeDetail`): lossless, and cheap in
 * memory. A run compresses one detail per domain and keeps every item until its BatchWriteItem is answered, so each
 * compressed detail must own exactly its bytes, and the compressor must not allocate its default 64 KiB output buffer
 * per call (those buffers outlived scavenges and piled up as old-generation garbage: ~20-30 MB of the 1,000-domain
 * `check --json` peak, BENCHMARKS.md "CLI memory").
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DETAIL_COMPRESS_MIN_BYTES,
  decodeDetail,
  encodeDetail,
} from '../../../../shared/adapters/store/dynamodb-store.ts';

/** A detail like an SPF check's: a resolved tree, about 1.4 KB of JSON. */
const spfDetail = (i: number) => ({
  record: `v=spf1 include:spf.protection.outlook.com include:_spf.vendor${i}.example ip4:203.0.113.${i % 250} -all`,
  lookups: 6,
  tree: Array.from({ length: 8 }, (_, k) => ({
    domain: `_spf${k}.vendor${i}.example`,
    record: `v=spf1 ip4:198.51.100.${k}/28 ip6:2001:db8:${k}::/48 include:_nested${k}.vendor${i}.example ~all`,
  })),
});

describe('encodeDetail', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns compressed bytes that own their buffer exactly', () => {
    const encoded = encodeDetail(spfDetail(1));
    expect('detailZ' in encoded).toBe(true);
    const z = (encoded as { detailZ: Uint8Array }).detailZ;
    expect(z.byteLength).toBeGreaterThan(0);
    expect(z.byteOffset).toBe(0);
    expect(z.buffer.byteLength).toBe(z.byteLength);
    expect(decodeDetail({ detailZ: z })).toEqual(spfDetail(1));
  });

  it('allocates no output buffer much larger than the detail while compressing', () => {
    const detail = spfDetail(2);
    const jsonBytes = Buffer.byteLength(JSON.stringify(detail));
    expect(jsonBytes).toBeGreaterThan(DETAIL_COMPRESS_MIN_BYTES);
    const sizes: number[] = [];
    const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      sizes.push(size);
      return allocUnsafe(size);
    });
    encodeDetail(detail);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(jsonBytes + 64);
  });

  it('keeps a thousand details in about their compressed size', () => {
    const encoded = Array.from({ length: 1000 }, (_, i) => encodeDetail(spfDetail(i)) as { detailZ: Uint8Array });
    const held = encoded.reduce((n, e) => n + e.detailZ.buffer.byteLength, 0);
    const bytes = encoded.reduce((n, e) => n + e.detailZ.byteLength, 0);
    expect(held).toBe(bytes);
    expect(held).toBeLessThan(1000 * 1024);
  });

  it('round-trips a detail that does not compress (output longer than one chunk)', () => {
    const detail = { blob: randomBytes(6000).toString('base64'), note: 'incompressible' };
    const encoded = encodeDetail(detail);
    expect(decodeDetail(encoded as Record<string, unknown>)).toEqual(detail);
  });

  it('stores a short detail as JSON text and null as null', () => {
    expect(encodeDetail({ ok: true })).toEqual({ detailJson: '{"ok":true}' });
    expect(encodeDetail(null)).toEqual({ detailJson: null });
    expect(decodeDetail({ detailJson: '{"ok":true}' })).toEqual({ ok: true });
  });
});
