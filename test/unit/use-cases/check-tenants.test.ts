/** The cycle's checks as one use case, on a DNS zone fake: stages, shared IPs asked once, the budget reserved first. */
import { describe, expect, it } from 'vitest';
import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { memoryBudget } from '../../../shared/blocklist/engine.ts';
import { genericZone } from '../../../shared/blocklist/registry.ts';
import { planBlocklists } from '../../../shared/blocklist/zone-selection.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { BudgetStore } from '../../../shared/ports/stores.ts';
import { checkTenants } from '../../../shared/use-cases/check-tenants.ts';
import { dispatchCycle, dueJobs } from '../../../shared/use-cases/dispatch-cycle.ts';
import { queriesWanted, reserveBudget } from '../../../shared/use-cases/reserve-budget.ts';
import { ZoneFake } from '../../support/zone-fake.ts';

const SHARED = '203.0.113.7';
const tenants = [
  { id: 'contoso', name: 'Contoso', domains: [{ name: 'contoso.example' }], relayIps: [SHARED] },
  { id: 'fabrikam', name: 'Fabrikam', domains: [{ name: 'fabrikam.example' }], relayIps: [SHARED, '198.51.100.9'] },
];

function fake() {
  return new ZoneFake({
    'contoso.example': [{ TXT: `v=spf1 ip4:${SHARED} -all` }],
    'fabrikam.example': [{ TXT: `v=spf1 ip4:${SHARED} ip4:198.51.100.77 -all` }],
    '2.0.0.127.lab.bl.test': [{ A: '127.0.0.2' }],
    '7.113.0.203.lab.bl.test': [{ A: '127.0.0.2' }],
  });
}

function deps(resolver: ZoneFake) {
  return {
    ctx: { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => performance.now() },
    setup: () =>
      planBlocklists({
        dns: { resolver, description: 'fake', specs: ['udp://127.0.0.1'] },
        zones: [genericZone('lab.bl.test')],
        explicit: true,
      }),
  };
}

describe('checkTenants', () => {
  it('runs the domain checks, then every unique sending IP once, attached to every tenant that uses it', async () => {
    const resolver = fake();
    const d = deps(resolver);
    const stages: string[] = [];
    const r = await checkTenants({
      tenants,
      ctx: d.ctx,
      today: new Date('2026-11-27T00:00:00Z'),
      blocklists: { setup: d.setup },
      onStage: (s) => stages.push(s.stage),
    });
    expect(stages).toEqual(['domains', 'blocklists']);
    expect(resolver.log.filter((q) => q.name === '7.113.0.203.lab.bl.test' && q.type === 'A')).toHaveLength(1);
    const ipsOf = (id: string) =>
      r.reports
        .find((t) => t.id === id)
        ?.checks.filter((c) => c.kind === 'blocklist')
        .map((c) => c.subject);
    expect(ipsOf('contoso')).toEqual([SHARED]);
    // fabrikam: its relay IPs and the single address its own SPF authorises
    expect(ipsOf('fabrikam')?.sort()).toEqual(['198.51.100.77', '198.51.100.9', SHARED].sort());
    expect(r.blocklists?.run.ips.length).toBe(3);
  });

  it('skips the sweep with blocklists: null', async () => {
    const d = deps(fake());
    const r = await checkTenants({ tenants, ctx: d.ctx, today: new Date(), blocklists: null });
    expect(r.blocklists).toBeNull();
    expect(r.reports.every((t) => t.checks.every((c) => c.kind !== 'blocklist'))).toBe(true);
  });

  it('reserves the budget for the unique IPs before any blocklist query, and a zero grant sends none', async () => {
    const resolver = fake();
    const d = deps(resolver);
    const asked: { ips: number; zones: readonly string[]; queriesSoFar: number }[] = [];
    const r = await checkTenants({
      tenants,
      ctx: d.ctx,
      today: new Date(),
      blocklists: {
        setup: d.setup,
        reserve: async (ips, zones) => {
          asked.push({ ips, zones, queriesSoFar: resolver.log.filter((q) => q.name.endsWith('lab.bl.test')).length });
          return memoryBudget(Object.fromEntries(zones.map((z) => [z, 0])));
        },
      },
    });
    expect(asked).toEqual([{ ips: 3, zones: [genericZone('lab.bl.test').id], queriesSoFar: 0 }]);
    expect(resolver.log.filter((q) => q.name.endsWith('lab.bl.test'))).toEqual([]);
    expect(
      r.reports
        .flatMap((t) => t.checks)
        .filter((c) => c.kind === 'blocklist')
        .every((c) => c.status === 'unknown'),
    ).toBe(true);
  });
});

describe('reserveBudget', () => {
  it('reserves health checks, one query per IP and a share for listings, per limited zone only', async () => {
    const calls: unknown[] = [];
    const store: BudgetStore = {
      reserve: async (zone, day, wanted, limit) => {
        calls.push([zone, day, wanted, limit]);
        return Math.min(wanted, 3);
      },
      used: async () => 0,
    };
    const r = await reserveBudget(store, { zen: 100 }, ['zen', 'free'], 50, new Date('2026-11-27T23:59:59Z'));
    expect(calls).toEqual([['zen', '2026-11-27', queriesWanted(50), 100]]);
    expect(queriesWanted(50)).toBe(4 + 50 + 5);
    expect([r.take('zen'), r.take('zen'), r.take('zen'), r.take('zen')]).toEqual([true, true, true, false]);
    expect(r.take('free')).toBe(true);
  });
});

describe('dispatch', () => {
  const config = parseConfig(
    'version: 1\nmsp: { name: M, contact: { name: N, email: n@m.example } }\ntenants:\n  - { id: a, name: A, domains: [a.example], relayIps: [] }\n  - { id: b, name: B, domains: [b.example], relayIps: [], probeRecipients: [probe@b.example], submission: { auth: basic, mailbox: scan@b.example, password: { env: B_PASS } } }\n',
    'x.yaml',
  ).config;
  const slot = new Date('2026-11-27T18:00:00Z');

  it("gives each check group only its own jobs: every tenant's checks, the sweep in shards, the probes of tenants that have one", () => {
    const kinds = (g: 'checks' | 'blocklists' | 'probes') =>
      dueJobs(config, g, slot, { blocklistShards: 3 }).map((j) =>
        j.kind === 'blocklists' ? j.kind : `${j.kind}:${j.tenantId}`,
      );
    expect(kinds('checks')).toEqual(['tenant:a', 'tenant:b']);
    expect(kinds('blocklists')).toEqual(['blocklists', 'blocklists', 'blocklists']);
    expect(kinds('probes')).toEqual(['probe:b']);
  });

  it('derives distinct run ids per group for the same tenant and slot, stable across calls', () => {
    const checks = dueJobs(config, 'checks', slot, { blocklistShards: 1 }).find((j) => j.kind === 'tenant');
    const probe = dueJobs(config, 'probes', slot, { blocklistShards: 1 })[0];
    expect(checks?.runId).toBeDefined();
    expect(probe?.runId).not.toBe(checks?.runId);
    expect(dueJobs(config, 'probes', slot, { blocklistShards: 1 })[0]?.runId).toBe(probe?.runId);
  });

  it("enqueues the jobs of the slot the scheduled time falls in, floored to the group's own interval", async () => {
    const seen: string[] = [];
    const queue = {
      enqueue: async (jobs: readonly { slot: string }[]) => {
        seen.push(...jobs.map((j) => j.slot));
        return [];
      },
    };
    const settings = { intervals: { checks: 15, blocklists: 60, probes: 240 }, blocklistShards: 1 };
    const at = new Date('2026-11-27T18:29:59Z');
    const checks = await dispatchCycle({ config, group: 'checks', scheduledAt: at, settings, queue });
    expect(checks.slot).toBe('2026-11-27T18:15:00.000Z');
    const probes = await dispatchCycle({ config, group: 'probes', scheduledAt: at, settings, queue });
    expect(probes.slot).toBe('2026-11-27T16:00:00.000Z');
    expect(new Set(seen)).toEqual(new Set(['2026-11-27T18:15:00.000Z', '2026-11-27T16:00:00.000Z']));
  });

  it('enqueues nothing (and asks the queue nothing) for a group with no jobs', async () => {
    const none = parseConfig(
      'version: 1\nmsp: { name: M, contact: { name: N, email: n@m.example } }\ntenants:\n  - { id: a, name: A, domains: [a.example], relayIps: [] }\n',
      'x.yaml',
    ).config;
    let calls = 0;
    const r = await dispatchCycle({
      config: none,
      group: 'probes',
      scheduledAt: slot,
      settings: { intervals: { checks: 60, blocklists: 60, probes: 240 }, blocklistShards: 1 },
      queue: {
        enqueue: async () => {
          calls++;
          return [];
        },
      },
    });
    expect(r.jobs).toEqual([]);
    expect(calls).toBe(0);
  });
});
