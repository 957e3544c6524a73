import { describe, expect, it } from 'vitest';
import { isPublicResolver, memoryBudget, planZone, runBlocklists } from '../../../shared/blocklist/engine.ts';
import { genericZone, zoneById } from '../../../shared/blocklist/registry.ts';
import type { DnsResult, RecordType } from '../../../shared/ports/dns-resolver.ts';
import { ScriptedResolver } from '../../support/scripted-resolver.ts';
import { type FakeEntry, ZoneFake } from '../../support/zone-fake.ts';

const healthy = (zone: string): Record<string, FakeEntry[]> => ({
  [`2.0.0.127.${zone}`]: [{ A: '127.0.0.2' }, { TXT: 'test point' }],
});

function plan(zoneName: string, resolver: ZoneFake | ScriptedResolver, explicit = false) {
  return planZone({ zone: genericZone(zoneName), resolver, resolverIsPublic: false, explicit });
}

describe('runBlocklists', () => {
  it('names the not-listed test point when only it is invalid on a domain zone', async () => {
    const fake = new ZoneFake({});
    const zone = {
      ...genericZone('dbl.test'),
      scope: 'domain' as const,
      testPoints: { listed: 'test', notListed: '-bad-' },
    };
    const run = await runBlocklists({
      ips: [],
      domains: ['example.com'],
      plans: [planZone({ zone, resolver: fake, resolverIsPublic: false, explicit: false })],
    });
    expect(run.health[0]).toMatchObject({
      status: 'unusable',
      reason: expect.stringContaining('not-listed test point'),
    });
    expect(run.health[0]?.reason).toContain('"-bad-" is not a domain name');
    expect(fake.log).toHaveLength(0);
  });

  it('health-checks each zone, then decodes every code of a listing with its TXT reason', async () => {
    const fake = new ZoneFake({
      ...healthy('bl.test'),
      '10.113.0.203.bl.test': [{ A: '127.0.0.2' }, { A: '127.0.0.4' }, { TXT: 'spam seen from 203.0.113.10' }],
    });
    const run = await runBlocklists({ ips: ['203.0.113.10', '203.0.113.11'], plans: [plan('bl.test', fake)] });
    expect(run.health).toEqual([
      { zoneId: 'custom-bl-test', zone: 'bl.test', resolver: 'zone-fake', status: 'usable', reason: null, ipv6: null },
    ]);
    const [listed, clean] = run.ips;
    expect(listed?.zones[0]).toMatchObject({
      status: 'listed',
      codes: [
        { code: '127.0.0.2', kind: 'abuse' },
        { code: '127.0.0.4', kind: 'abuse' },
      ],
      reason: 'spam seen from 203.0.113.10',
      kind: 'abuse',
    });
    expect(clean?.zones[0]).toMatchObject({ status: 'clean', codes: [] });
    // 2 test points + 2 A + 1 TXT for the listed pair
    expect(run.questions).toBe(5);
  });

  it('asks an IP shared by several tenants once', async () => {
    const fake = new ZoneFake(healthy('bl.test'));
    const run = await runBlocklists({ ips: ['203.0.113.10', '203.0.113.10 '], plans: [plan('bl.test', fake)] });
    expect(run.ips).toHaveLength(1);
    expect(fake.log.filter((q) => q.name === '10.113.0.203.bl.test')).toHaveLength(1);
  });

  it('marks a zone that lists 127.0.0.1 (dead, wildcarded) unusable and every pair unknown', async () => {
    const fake = new ZoneFake({
      ...healthy('dead.test'),
      '1.0.0.127.dead.test': [{ A: '127.0.0.2' }],
      '10.113.0.203.dead.test': [{ A: '127.0.0.2' }],
    });
    const run = await runBlocklists({ ips: ['203.0.113.10'], plans: [plan('dead.test', fake)] });
    expect(run.health[0]).toMatchObject({ status: 'unusable', reason: expect.stringContaining('lists 127.0.0.1') });
    expect(run.ips[0]?.zones[0]).toMatchObject({ status: 'unknown', why: expect.stringContaining('zone unusable') });
    expect(fake.log.some((q) => q.name === '10.113.0.203.dead.test')).toBe(false);
  });

  it('treats an error answer to everything (public resolver refused) as unknown, never listed', async () => {
    const fake = new ZoneFake({
      '2.0.0.127.zen.test': [{ A: '127.255.255.254' }],
      '1.0.0.127.zen.test': [{ A: '127.255.255.254' }],
      '10.113.0.203.zen.test': [{ A: '127.255.255.254' }],
    });
    const run = await runBlocklists({ ips: ['203.0.113.10'], plans: [plan('zen.test', fake)] });
    expect(run.health[0]?.status).toBe('unusable');
    expect(run.ips[0]?.zones[0]?.status).toBe('unknown');
  });

  it('stops asking a zone once an answer shows it refuses us, and keeps the other zones', async () => {
    // healthy at the test points, then error codes for real addresses (e.g. a quota hit mid-run)
    const fake = new ZoneFake({
      ...healthy('quota.test'),
      ...healthy('ok.test'),
      ...Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`${i + 1}.113.0.203.quota.test`, [{ A: '127.255.255.255' }]]),
      ),
    });
    const ips = Array.from({ length: 20 }, (_, i) => `203.0.113.${i + 1}`);
    const run = await runBlocklists({
      ips,
      plans: [plan('quota.test', fake), plan('ok.test', fake)],
      perZoneConcurrency: 1,
    });
    const quota = run.ips.map((r) => r.zones.find((z) => z.zoneId === 'custom-quota-test'));
    expect(quota.every((z) => z?.status === 'unknown')).toBe(true);
    expect(quota[quota.length - 1]?.why).toContain('zone unusable for this run');
    // with one query at a time, only the first pair reached the zone
    expect(fake.log.filter((q) => q.name.endsWith('.113.0.203.quota.test'))).toHaveLength(1);
    expect(run.ips.every((r) => r.zones.find((z) => z.zoneId === 'custom-ok-test')?.status === 'clean')).toBe(true);
  });

  it('reports an answer outside 127/8 as a rewritten answer, unknown', async () => {
    const fake = new ZoneFake({ ...healthy('bl.test'), '10.113.0.203.bl.test': [{ A: '10.0.0.1' }] });
    const run = await runBlocklists({ ips: ['203.0.113.10'], plans: [plan('bl.test', fake)] });
    expect(run.ips[0]?.zones[0]).toMatchObject({ status: 'unknown', why: expect.stringContaining('rewrote') });
  });

  it('keeps a zone usable after a timeout: only that pair is unknown', async () => {
    const fake = new ZoneFake({ ...healthy('bl.test'), '10.113.0.203.bl.test': [{ fail: 'timeout' }] });
    const run = await runBlocklists({ ips: ['203.0.113.10', '203.0.113.11'], plans: [plan('bl.test', fake)] });
    expect(run.ips.map((r) => r.zones[0]?.status)).toEqual(['unknown', 'clean']);
    expect(run.health[0]?.status).toBe('usable');
  });

  it('skips IPv6 on an IPv4-only zone, and health-checks the IPv6 test points of an IPv6 zone', async () => {
    const v6 = ['f', 'f', 'f', 'f', ...Array(20).fill('0')].join('.');
    const fake = new ZoneFake({
      ...healthy('bl.test'),
      [`2.0.0.0.0.0.f.7.${v6}.bl.test`]: [{ A: '127.0.0.2' }],
    });
    const v4only = { ...genericZone('v4.test'), ipv6: false };
    const run = await runBlocklists({
      ips: ['2001:db8::25'],
      plans: [
        plan('bl.test', fake),
        planZone({ zone: v4only, resolver: new ZoneFake(healthy('v4.test')), resolverIsPublic: false }),
      ],
    });
    expect(run.health[0]?.ipv6).toEqual({ status: 'usable', reason: null });
    expect(run.ips[0]?.zones.map((z) => z.zoneId)).toEqual(['custom-bl-test']);
    expect(run.ips[0]?.skipped).toEqual([
      { zoneId: 'custom-v4-test', why: 'zone v4.test does not support IPv6 lookups' },
    ]);
  });

  it('does not ask zones that cannot be asked; unknown per IP only when the zone was asked for explicitly', async () => {
    const zen = zoneById('spamhaus-zen');
    expect(zen).toBeDefined();
    if (!zen) return;
    const fake = new ZoneFake({});
    const implicit = planZone({ zone: zen, resolver: fake, resolverIsPublic: true });
    expect(implicit.notChecked).toContain('needs a private resolver or key');
    const run = await runBlocklists({ ips: ['203.0.113.10'], plans: [implicit] });
    expect(run.health[0]?.status).toBe('not-checked');
    expect(run.ips[0]?.zones).toEqual([]);
    expect(fake.log).toEqual([]);
    const explicit = await runBlocklists({
      ips: ['203.0.113.10'],
      plans: [planZone({ zone: zen, resolver: fake, resolverIsPublic: true, explicit: true })],
    });
    expect(explicit.ips[0]?.zones[0]).toMatchObject({ status: 'unknown', why: expect.stringContaining('not checked') });
    const dqs = zoneById('spamhaus-zen-dqs');
    if (dqs)
      expect(planZone({ zone: dqs, resolver: fake, resolverIsPublic: false }).notChecked).toContain('needs a key');
  });

  it('never puts a key into anything it returns', async () => {
    const dqs = zoneById('spamhaus-zen-dqs');
    expect(dqs).toBeDefined();
    if (!dqs) return;
    const key = 'abcdefghijklmnopqrstuvwxyz';
    const zone = dqs.name.replace('{key}', key);
    const fake = new ZoneFake({
      [`2.0.0.127.${zone}`]: [{ A: '127.0.0.2' }],
      [`10.113.0.203.${zone}`]: [{ A: '127.0.0.4' }],
    });
    const run = await runBlocklists({
      ips: ['203.0.113.10'],
      plans: [planZone({ zone: dqs, resolver: fake, resolverIsPublic: false, key })],
    });
    expect(run.ips[0]?.zones[0]?.status).toBe('listed');
    expect(JSON.stringify(run)).not.toContain(key);
  });

  it('honours the per-zone concurrency limit and the budget', async () => {
    const script = async ({ name }: { name: string }): Promise<DnsResult<RecordType>> => {
      await new Promise((r) => setTimeout(r, 2));
      const base = { name, type: 'A' as const, server: 's' };
      return name.startsWith('2.0.0.127.')
        ? { ...base, kind: 'answer', records: [{ data: '127.0.0.2', ttl: 60 }], cnameChain: [], ttl: 60 }
        : { ...base, kind: 'nxdomain', cnameChain: [], ttl: 60 };
    };
    const resolver = new ScriptedResolver('s', script);
    const ips = Array.from({ length: 40 }, (_, i) => `198.18.0.${i + 1}`);
    const run = await runBlocklists({ ips, plans: [plan('bl.test', resolver)], perZoneConcurrency: 3 });
    expect(resolver.maxInFlight).toBeLessThanOrEqual(3);
    expect(run.ips.every((r) => r.zones[0]?.status === 'clean')).toBe(true);

    const budgeted = await runBlocklists({
      ips,
      plans: [plan('bl.test', new ScriptedResolver('s', script))],
      budget: memoryBudget({ 'custom-bl-test': 12 }),
    });
    const statuses = budgeted.ips.map((r) => r.zones[0]?.status);
    expect(statuses.filter((s) => s === 'clean')).toHaveLength(10);
    expect(budgeted.ips.find((r) => r.zones[0]?.status === 'unknown')?.zones[0]?.why).toContain('budget');
  });
});

describe('isPublicResolver', () => {
  it('knows the public DoH services and resolvers', () => {
    expect(isPublicResolver('doh:https://cloudflare-dns.com/dns-query')).toBe(true);
    expect(isPublicResolver('doh:https://dns.google/dns-query')).toBe(true);
    expect(isPublicResolver('udp://8.8.8.8')).toBe(true);
    expect(isPublicResolver('udp://[2606:4700:4700::1111]:53')).toBe(true);
    expect(isPublicResolver('udp://127.0.0.1:5353')).toBe(false);
    expect(isPublicResolver('doh:https://dns.internal.example/dns-query')).toBe(false);
  });
});
