import { describe, expect, it } from 'vitest';
import { CachingResolver } from '../../../../shared/adapters/dns/caching-resolver.ts';
import { ContainerDnsCache } from '../../../../shared/adapters/dns/container-cache.ts';
import type { DnsResult, RecordType } from '../../../../shared/ports/dns-resolver.ts';
import { answerOf, failureOf, negativeOf, type Script, ScriptedResolver } from '../../../support/scripted-resolver.ts';

/** A fake clock shared by the container cache and the per-run caches. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** One "invocation": a new per-run cache over the same inner resolver and the same container cache. */
function run(inner: ScriptedResolver, container: ContainerDnsCache, now: () => number) {
  return new CachingResolver(inner, { container, now });
}

const txt = (text: string) => ({ text, chunks: [text] });

describe('ContainerDnsCache', () => {
  it('serves a second invocation from the container without asking the server', async () => {
    const c = clock();
    const inner = new ScriptedResolver('udp://192.0.2.53:53', (call) =>
      answerOf<'TXT'>(call, [txt('v=spf1 -all')], 300),
    );
    const cache = new ContainerDnsCache({ now: c.now });
    const first = await run(inner, cache, c.now).query('spf.protection.outlook.com', 'TXT');
    c.advance(10_000);
    const second = run(inner, cache, c.now);
    const again = await second.query('SPF.Protection.Outlook.com.', 'TXT');
    expect(inner.calls).toHaveLength(1);
    expect(first.kind).toBe('answer');
    expect(again.kind).toBe('answer');
    // The TTL it has left: 300 s received, 10 s ago.
    expect(again.kind === 'answer' && again.ttl).toBe(290);
    expect(again.kind === 'answer' && again.records[0]?.ttl).toBe(290);
    expect(second.stats()).toMatchObject({ questions: 1, cacheHits: 1, queriesSent: 0 });
    expect(cache.stats()).toMatchObject({ entries: 1, hits: 1 });
  });

  it('asks again once the TTL has run out', async () => {
    const c = clock();
    const inner = new ScriptedResolver('udp://192.0.2.53:53', (call) => answerOf<'A'>(call, ['192.0.2.1'], 60));
    const cache = new ContainerDnsCache({ now: c.now });
    await run(inner, cache, c.now).query('mail.example.test', 'A');
    c.advance(59_500);
    await run(inner, cache, c.now).query('mail.example.test', 'A');
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats().expired).toBe(1);
  });

  it('caps a lifetime at maxTtlSec', async () => {
    const c = clock();
    const inner = new ScriptedResolver('s', (call) => answerOf<'A'>(call, ['192.0.2.1'], 86_400));
    const cache = new ContainerDnsCache({ now: c.now, maxTtlSec: 600 });
    await run(inner, cache, c.now).query('a.example.test', 'A');
    c.advance(599_000);
    const r = await run(inner, cache, c.now).query('a.example.test', 'A');
    expect(r.kind === 'answer' && r.ttl).toBe(1);
    c.advance(1_000);
    await run(inner, cache, c.now).query('a.example.test', 'A');
    expect(inner.calls).toHaveLength(2);
  });

  it('keeps NXDOMAIN and NODATA for their SOA TTL (RFC 2308), and not at all without an SOA', async () => {
    const c = clock();
    const inner = new ScriptedResolver('s', (call) => {
      if (call.name === 'gone.example.test') return negativeOf(call, 'nxdomain', 120);
      if (call.name === 'empty.example.test') return negativeOf(call, 'nodata', 30);
      return negativeOf(call, 'nxdomain', null);
    });
    const cache = new ContainerDnsCache({ now: c.now });
    const first = run(inner, cache, c.now);
    await first.query('gone.example.test', 'TXT');
    await first.query('empty.example.test', 'MX');
    await first.query('nosoa.example.test', 'TXT');
    c.advance(29_000);
    const second = run(inner, cache, c.now);
    const gone = await second.query('gone.example.test', 'TXT');
    const empty = await second.query('empty.example.test', 'MX');
    await second.query('nosoa.example.test', 'TXT');
    expect(gone).toMatchObject({ kind: 'nxdomain', ttl: 91 });
    expect(empty).toMatchObject({ kind: 'nodata', ttl: 1 });
    // Only the SOA-less NXDOMAIN was asked again.
    expect(inner.calls.map((x) => x.name)).toEqual([
      'gone.example.test',
      'empty.example.test',
      'nosoa.example.test',
      'nosoa.example.test',
    ]);
    c.advance(1_000);
    await run(inner, cache, c.now).query('empty.example.test', 'MX');
    expect(inner.calls).toHaveLength(5);
  });

  it('never keeps a failure: the next invocation asks again (the run itself keeps it for 30 s, as before)', async () => {
    const c = clock();
    const kinds = ['servfail', 'refused', 'timeout', 'network-error', 'bad-response'] as const;
    for (const kind of kinds) {
      const inner = new ScriptedResolver('s', (call) => failureOf(call, kind));
      const cache = new ContainerDnsCache({ now: c.now });
      const first = run(inner, cache, c.now);
      await first.query('down.example.test', 'TXT');
      await first.query('down.example.test', 'TXT');
      expect(inner.calls).toHaveLength(1);
      await run(inner, cache, c.now).query('down.example.test', 'TXT');
      expect(inner.calls, kind).toHaveLength(2);
      expect(cache.stats()).toMatchObject({ entries: 0, refused: 2 });
    }
  });

  it('keeps the answers of different resolvers apart', async () => {
    const c = clock();
    const cache = new ContainerDnsCache({ now: c.now });
    const a = new ScriptedResolver('udp://192.0.2.1:53', (call) => answerOf<'A'>(call, ['192.0.2.10'], 300));
    const b = new ScriptedResolver('udp://192.0.2.2:53', (call) => answerOf<'A'>(call, ['192.0.2.20'], 300));
    await run(a, cache, c.now).query('x.example.test', 'A');
    const fromB = await run(b, cache, c.now).query('x.example.test', 'A');
    expect(b.calls).toHaveLength(1);
    expect(fromB.kind === 'answer' && fromB.records[0]?.data).toBe('192.0.2.20');
  });

  it('drops the least recently used entries past maxEntries', async () => {
    const c = clock();
    const inner = new ScriptedResolver('s', (call) => answerOf<'A'>(call, ['192.0.2.1'], 300));
    const cache = new ContainerDnsCache({ now: c.now, maxEntries: 2 });
    const r1 = run(inner, cache, c.now);
    await r1.query('a.test', 'A');
    await r1.query('b.test', 'A');
    // a.test used again: b.test is now the least recently used.
    await run(inner, cache, c.now).query('a.test', 'A');
    await run(inner, cache, c.now).query('c.test', 'A');
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
    const r2 = run(inner, cache, c.now);
    await r2.query('a.test', 'A');
    await r2.query('c.test', 'A');
    expect(inner.calls.map((x) => x.name)).toEqual(['a.test', 'b.test', 'c.test']);
    await r2.query('b.test', 'A');
    expect(inner.calls.map((x) => x.name)).toEqual(['a.test', 'b.test', 'c.test', 'b.test']);
  });

  it('stays within maxBytes, dropping the oldest entries, and refuses an answer larger than the bound', async () => {
    const c = clock();
    const big = 'v=spf1 '.padEnd(4000, 'x');
    const script: Script = (call): DnsResult<RecordType> =>
      call.name === 'huge.test'
        ? answerOf<'TXT'>(call, [txt(big.repeat(10))], 300)
        : answerOf<'TXT'>(call, [txt(big)], 300);
    const inner = new ScriptedResolver('s', script);
    const cache = new ContainerDnsCache({ now: c.now, maxBytes: 40_000 });
    const r = run(inner, cache, c.now);
    for (let i = 0; i < 10; i++) await r.query(`n${i}.test`, 'TXT');
    const s = cache.stats();
    expect(s.bytes).toBeLessThanOrEqual(40_000);
    expect(s.entries).toBeGreaterThan(0);
    expect(s.entries).toBeLessThan(10);
    expect(s.evictions).toBe(10 - s.entries);
    await r.query('huge.test', 'TXT');
    expect(cache.stats()).toMatchObject({ entries: s.entries, refused: 1 });
  });

  it('is not consulted for a question asked once (a DNSBL name)', async () => {
    const c = clock();
    const inner = new ScriptedResolver('s', (call) => answerOf<'A'>(call, ['127.0.0.2'], 300));
    const cache = new ContainerDnsCache({ now: c.now });
    await run(inner, cache, c.now).query('2.0.0.127.zen.example', 'A', { once: true });
    await run(inner, cache, c.now).query('2.0.0.127.zen.example', 'A', { once: true });
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ entries: 0, hits: 0, misses: 0 });
  });

  it('rejects bounds that are not positive', () => {
    expect(() => new ContainerDnsCache({ maxEntries: 0 })).toThrow(/maxEntries must be positive/);
    expect(() => new ContainerDnsCache({ maxBytes: -1 })).toThrow(/maxBytes must be positive/);
  });
});
