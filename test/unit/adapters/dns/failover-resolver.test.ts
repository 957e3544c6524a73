import { describe, expect, it } from 'vitest';
import { FailoverResolver } from '../../../../shared/adapters/dns/failover-resolver.ts';
import type { DnsFailureKind } from '../../../../shared/ports/dns-resolver.ts';
import { answerOf, failureOf, negativeOf, ScriptedResolver } from '../../../support/scripted-resolver.ts';

const answering = (id: string) => new ScriptedResolver(id, (c) => answerOf<'A'>(c, ['192.0.2.1'], 300, id));
const failing = (id: string, kind: DnsFailureKind) => new ScriptedResolver(id, (c) => failureOf(c, kind, id));

describe('FailoverResolver', () => {
  it('returns the first resolver answer without asking the others', async () => {
    const a = answering('a');
    const b = answering('b');
    const r = await new FailoverResolver([a, b]).query('x.test', 'A');
    expect(r).toMatchObject({ kind: 'answer', server: 'a' });
    expect(b.calls).toHaveLength(0);
  });

  it.each(['servfail', 'refused', 'timeout', 'network-error', 'bad-response'] as const)(
    'tries the next resolver after %s',
    async (kind) => {
      const a = failing('a', kind);
      const b = answering('b');
      const failover = new FailoverResolver([a, b]);
      expect(await failover.query('x.test', 'A')).toMatchObject({ kind: 'answer', server: 'b' });
      expect(failover.sent()).toBe(2);
    },
  );

  it.each(['nxdomain', 'nodata'] as const)('never fails over on %s: it is a fact about the name', async (kind) => {
    const a = new ScriptedResolver('a', (c) => negativeOf(c, kind, 60, 'a'));
    const b = answering('b');
    expect(await new FailoverResolver([a, b]).query('x.test', 'A')).toMatchObject({ kind, server: 'a' });
    expect(b.calls).toHaveLength(0);
  });

  it('returns the last failure with every server failure listed when all fail', async () => {
    const r = await new FailoverResolver([
      failing('doh:https://a.test/dns-query', 'timeout'),
      failing('udp://192.0.2.2:53', 'servfail'),
    ]).query('x.test', 'TXT');
    expect(r).toEqual({
      kind: 'servfail',
      name: 'x.test',
      type: 'TXT',
      server: 'udp://192.0.2.2:53',
      detail:
        'all 2 servers failed: doh:https://a.test/dns-query timeout (scripted timeout); udp://192.0.2.2:53 servfail (scripted servfail)',
    });
  });

  it('passes a single resolver failure through unchanged', async () => {
    const r = await new FailoverResolver([failing('a', 'refused')]).query('x.test', 'A');
    expect(r).toMatchObject({ kind: 'refused', server: 'a', detail: 'scripted refused' });
  });

  it('asks a resolver that timed out or was unreachable after the healthy ones, until it answers again', async () => {
    let aDown = true;
    const a = new ScriptedResolver('a', (c) =>
      aDown ? failureOf(c, 'network-error', 'a') : answerOf<'A'>(c, ['192.0.2.1'], 1, 'a'),
    );
    const b = answering('b');
    const c = answering('c');
    const failover = new FailoverResolver([a, b, c]);
    await failover.query('1.test', 'A');
    expect(failover.order().map((r) => r.describe())).toEqual(['b', 'c', 'a']);
    await failover.query('2.test', 'A');
    expect(a.calls).toHaveLength(1);
    // When the healthy ones fail too, the unhealthy one is still tried last, and recovers.
    const bc = new FailoverResolver([failing('b', 'servfail'), a]);
    await bc.query('3.test', 'A');
    aDown = false;
    expect(await bc.query('4.test', 'A')).toMatchObject({ kind: 'answer', server: 'a' });
    expect(bc.order().map((r) => r.describe())).toEqual(['b', 'a']);
  });

  it('does not demote a resolver for servfail or refused (the name may be broken, not the server)', async () => {
    const a = failing('a', 'servfail');
    const failover = new FailoverResolver([a, answering('b')]);
    await failover.query('x.test', 'A');
    expect(failover.order().map((r) => r.describe())).toEqual(['a', 'b']);
  });

  it('passes an abort through as a rejection', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      new FailoverResolver([answering('a')]).query('x.test', 'A', { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('describes its resolvers in order and refuses an empty list', () => {
    expect(
      new FailoverResolver([answering('doh:https://a/dns-query'), answering('udp://192.0.2.1:53')]).describe(),
    ).toBe('doh:https://a/dns-query, udp://192.0.2.1:53');
    expect(() => new FailoverResolver([])).toThrow(TypeError);
  });
});
