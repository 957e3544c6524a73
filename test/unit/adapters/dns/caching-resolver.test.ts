import { describe, expect, it } from 'vitest';
import { CachingResolver } from '../../../../shared/adapters/dns/caching-resolver.ts';
import { FailoverResolver } from '../../../../shared/adapters/dns/failover-resolver.ts';
import type { DnsResult, RecordType } from '../../../../shared/ports/dns-resolver.ts';
import { answerOf, deferred, failureOf, negativeOf, ScriptedResolver } from '../../../support/scripted-resolver.ts';

function fakeClock(start = 1_000_000): { now: () => number; advanceSec: (s: number) => void } {
  let t = start;
  return { now: () => t, advanceSec: (s) => (t += s * 1000) };
}

const txt = (text: string) => ({ text, chunks: [text] });

describe('CachingResolver', () => {
  it('serves an answer from the cache until its TTL runs out, keeping the original server', async () => {
    const clock = fakeClock();
    const inner = new ScriptedResolver('udp://192.0.2.1:53', (c) =>
      answerOf<'TXT'>(c, [txt('v=spf1 -all')], 300, 'udp://192.0.2.1:53'),
    );
    const cache = new CachingResolver(inner, { now: clock.now });

    const first = await cache.query('example.test', 'TXT');
    clock.advanceSec(299.999);
    const second = await cache.query('Example.TEST.', 'TXT');
    expect(second).toEqual(first);
    expect(second.server).toBe('udp://192.0.2.1:53');
    expect(inner.calls).toHaveLength(1);

    clock.advanceSec(0.001);
    await cache.query('example.test', 'TXT');
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats()).toEqual({
      questions: 3,
      cacheHits: 1,
      inflightJoins: 0,
      queriesSent: 2,
      byKind: {
        answer: 3,
        nodata: 0,
        nxdomain: 0,
        servfail: 0,
        refused: 0,
        timeout: 0,
        'network-error': 0,
        'bad-response': 0,
      },
    });
  });

  it('keys on the normalised name and the type', async () => {
    const inner = new ScriptedResolver('s', (c) => answerOf<'A'>(c, ['192.0.2.1'], 300));
    const cache = new CachingResolver(inner);
    await cache.query('a.test', 'A');
    await cache.query(' A.TEST. ', 'A');
    await cache.query('a.test', 'AAAA');
    await cache.query('b.test', 'A');
    expect(inner.calls.map((c) => `${c.name}/${c.type}`)).toEqual(['a.test/A', 'a.test/AAAA', 'b.test/A']);
  });

  it('caps a long TTL at maxTtlSec (default one hour)', async () => {
    const clock = fakeClock();
    const inner = new ScriptedResolver('s', (c) => answerOf<'A'>(c, ['192.0.2.1'], 86_400));
    const cache = new CachingResolver(inner, { now: clock.now });
    await cache.query('a.test', 'A');
    clock.advanceSec(3599);
    await cache.query('a.test', 'A');
    expect(inner.calls).toHaveLength(1);
    clock.advanceSec(1);
    await cache.query('a.test', 'A');
    expect(inner.calls).toHaveLength(2);
  });

  it('does not cache a TTL of 0, but still shares the query in flight', async () => {
    const gate = deferred<void>();
    const inner = new ScriptedResolver('s', async (c) => {
      await gate.promise;
      return answerOf<'A'>(c, ['192.0.2.1'], 0);
    });
    const cache = new CachingResolver(inner);
    const both = Promise.all([cache.query('a.test', 'A'), cache.query('a.test', 'A')]);
    gate.resolve();
    await both;
    expect(inner.calls).toHaveLength(1);
    await cache.query('a.test', 'A');
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ questions: 3, cacheHits: 0, inflightJoins: 1, queriesSent: 2 });
  });

  it('caches NXDOMAIN and NODATA for their SOA TTL, or 60 s when there was none', async () => {
    const clock = fakeClock();
    const inner = new ScriptedResolver('s', (c) =>
      c.name === 'gone.test' ? negativeOf(c, 'nxdomain', 120) : negativeOf(c, 'nodata', null),
    );
    const cache = new CachingResolver(inner, { now: clock.now });
    await cache.query('gone.test', 'TXT');
    await cache.query('bare.test', 'TXT');
    clock.advanceSec(59);
    await cache.query('gone.test', 'TXT');
    await cache.query('bare.test', 'TXT');
    expect(inner.calls).toHaveLength(2);
    clock.advanceSec(1);
    await cache.query('gone.test', 'TXT');
    await cache.query('bare.test', 'TXT');
    expect(inner.calls.map((c) => c.name)).toEqual(['gone.test', 'bare.test', 'bare.test']);
    clock.advanceSec(60);
    await cache.query('gone.test', 'TXT');
    expect(inner.calls).toHaveLength(4);
    expect(cache.stats().byKind).toMatchObject({ nxdomain: 4, nodata: 3 });
  });

  it('remembers a failure for failureTtlSec (default 30 s) so a dead name costs one timeout per run', async () => {
    const clock = fakeClock();
    const inner = new ScriptedResolver('s', (c) => failureOf(c, 'timeout'));
    const cache = new CachingResolver(inner, { now: clock.now });
    for (let i = 0; i < 10; i++) expect((await cache.query('dead.test', 'TXT')).kind).toBe('timeout');
    expect(inner.calls).toHaveLength(1);
    clock.advanceSec(30);
    await cache.query('dead.test', 'TXT');
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ questions: 11, cacheHits: 9, byKind: { timeout: 11 } });

    const uncached = new CachingResolver(new ScriptedResolver('s', (c) => failureOf(c, 'servfail')), {
      failureTtlSec: 0,
    });
    await uncached.query('dead.test', 'TXT');
    await uncached.query('dead.test', 'TXT');
    expect(uncached.stats()).toMatchObject({ cacheHits: 0, queriesSent: 2 });
  });

  it('sends one query for two concurrent asks of the same name and type', async () => {
    const gate = deferred<void>();
    const inner = new ScriptedResolver('s', async (c) => {
      await gate.promise;
      return answerOf<'MX'>(c, [{ priority: 0, exchange: 'mx.test' }], 300);
    });
    const cache = new CachingResolver(inner);
    const a = cache.query('a.test', 'MX');
    const b = cache.query('a.test', 'MX');
    const c = cache.query('a.test', 'TXT');
    gate.resolve();
    const [ra, rb] = await Promise.all([a, b, c]);
    expect(ra).toBe(rb);
    expect(inner.calls.map((x) => x.type)).toEqual(['MX', 'TXT']);
    expect(cache.stats()).toMatchObject({ questions: 3, inflightJoins: 1, cacheHits: 0, queriesSent: 2 });
  });

  it('keeps at most maxConcurrent queries at the inner resolver, serving waiters in order', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const inner = new ScriptedResolver('s', async (c) => {
      const gate = deferred<void>();
      gates.set(c.name, gate);
      await gate.promise;
      return answerOf<'A'>(c, ['192.0.2.1'], 60);
    });
    const cache = new CachingResolver(inner, { maxConcurrent: 3 });
    const names = Array.from({ length: 10 }, (_, i) => `n${i}.test`);
    const all = Promise.all(names.map((n) => cache.query(n, 'A')));
    await settle();
    expect(inner.inFlight).toBe(3);
    // Release in reverse to show that freed slots go to the oldest waiter.
    for (let round = 0; round < 10; round++) {
      const open = [...gates.entries()].filter(([, g]) => g !== undefined);
      const [name, gate] = open[open.length - 1] ?? [];
      if (!name || !gate) break;
      gates.delete(name);
      gate.resolve();
      await settle();
      expect(inner.inFlight).toBeLessThanOrEqual(3);
    }
    const results = await all;
    expect(results.every((r) => r.kind === 'answer')).toBe(true);
    expect(inner.maxInFlight).toBe(3);
    expect(inner.calls.map((c) => c.name)).toEqual(names);
  });

  it('rejects only the caller that aborts; the shared query goes on for the others', async () => {
    const gate = deferred<void>();
    const inner = new ScriptedResolver('s', async (c) => {
      await gate.promise;
      return answerOf<'A'>(c, ['192.0.2.1'], 60);
    });
    const cache = new CachingResolver(inner);
    const controller = new AbortController();
    const aborted = cache.query('a.test', 'A', { signal: controller.signal });
    const patient = cache.query('a.test', 'A');
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(inner.calls[0]?.signal?.aborted).toBe(false);
    gate.resolve();
    expect((await patient).kind).toBe('answer');
    expect(cache.stats().byKind.answer).toBe(1);
  });

  it('aborts the inner query when every waiter has gone, and a later ask starts afresh', async () => {
    const inner = new ScriptedResolver('s', (c) =>
      c.n === 1 ? new Promise<DnsResult<RecordType>>(() => {}) : answerOf<'A'>(c, ['192.0.2.1'], 60),
    );
    const cache = new CachingResolver(inner);
    const one = new AbortController();
    const two = new AbortController();
    const p1 = cache.query('a.test', 'A', { signal: one.signal });
    const p2 = cache.query('a.test', 'A', { signal: two.signal });
    await settle();
    one.abort();
    await expect(p1).rejects.toMatchObject({ name: 'AbortError' });
    expect(inner.calls[0]?.signal?.aborted).toBe(false);
    two.abort();
    await expect(p2).rejects.toMatchObject({ name: 'AbortError' });
    expect(inner.calls[0]?.signal?.aborted).toBe(true);
    expect((await cache.query('a.test', 'A')).kind).toBe('answer');
    expect(inner.calls).toHaveLength(2);
  });

  it('a caller waiting for a concurrency slot can abort without taking one', async () => {
    const gate = deferred<void>();
    const inner = new ScriptedResolver('s', async (c) => {
      await gate.promise;
      return answerOf<'A'>(c, ['192.0.2.1'], 60);
    });
    const cache = new CachingResolver(inner, { maxConcurrent: 1 });
    const first = cache.query('a.test', 'A');
    const controller = new AbortController();
    const waiting = cache.query('b.test', 'A', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    gate.resolve();
    await first;
    expect(inner.calls.map((c) => c.name)).toEqual(['a.test']);
    expect((await cache.query('c.test', 'A')).kind).toBe('answer');
  });

  it('counts queries really sent below it (failover attempts included)', async () => {
    const dead = new ScriptedResolver('udp://192.0.2.1:53', (c) => failureOf(c, 'network-error', 'udp://192.0.2.1:53'));
    const live = new ScriptedResolver('udp://192.0.2.2:53', (c) => answerOf<'A'>(c, ['192.0.2.9'], 300));
    const cache = new CachingResolver(new FailoverResolver([dead, live]));
    await cache.query('a.test', 'A');
    await cache.query('a.test', 'A');
    // The dead server was tried first once, then moved behind the live one.
    await cache.query('b.test', 'A');
    expect(cache.stats()).toMatchObject({ questions: 3, cacheHits: 1, queriesSent: 3 });
  });
});

/** Let queued promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('CachingResolver once-questions', () => {
  it('asks a once-question straight through, within the concurrency limit, without caching it', async () => {
    const inner = new ScriptedResolver('s', (c) => answerOf<'A'>(c, ['192.0.2.1'], 300));
    const cache = new CachingResolver(inner, { maxConcurrent: 2 });
    const a = await cache.query('x.bl.test', 'A', { once: true });
    const b = await cache.query('x.bl.test', 'A', { once: true });
    expect(a.kind).toBe('answer');
    expect(b.kind).toBe('answer');
    expect(inner.calls).toHaveLength(2);
    const s = cache.stats();
    expect(s.questions).toBe(2);
    expect(s.cacheHits).toBe(0);
    expect(s.queriesSent).toBe(2);
    expect(s.byKind.answer).toBe(2);
    // an ordinary question for the same name is not answered from a once-question
    await cache.query('x.bl.test', 'A');
    expect(inner.calls).toHaveLength(3);
  });
});
