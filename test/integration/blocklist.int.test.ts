/**
 * The blocklist engine and the `relaywatch blocklist` / `check` commands against a real DNSBL server (rbldnsd) on
 * 127.0.0.1, asked directly and through unbound (UDP and DoH): single and multiple codes, TXT reasons, CIDR
 * listings, IPv6, a zone answering 127.255.255.254 to everything (public-resolver refusal), a dead zone listing
 * everything, and a zone whose server never answers.
 */
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type ResolverStack } from '../../shared/adapters/dns/index.ts';
import { type BlocklistRun, planZone, runBlocklists, type ZoneResult } from '../../shared/blocklist/engine.ts';
import { genericZone, zoneById } from '../../shared/blocklist/registry.ts';
import type { BlocklistDocument, CheckDocument } from '../../shared/cli/json.ts';
import { EXAMPLE_LOCAL_DATA, EXAMPLE_ZONES } from '../support/example-zone.ts';
import { rbldnsdAvailable, UNBOUND_LINES_FOR_RBLDNSD, useRbldnsd } from '../support/rbldnsd.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const TEST_POINTS = '127.0.0.2\n';
const V6_TEST_POINT = '::ffff:7f00:2\n';

const ZONES = [
  // SBL-like and XBL-like datasets in one zone: an IP in both gets both codes (as Spamhaus ZEN answers).
  {
    name: 'zen.bl.test',
    type: 'ip4set' as const,
    files: [
      `:127.0.0.2:Listed in SBL, see https://check.bl.test/?ip=$\n${TEST_POINTS}192.0.2.1\n198.51.100.0/29\n!198.51.100.7\n`,
    ],
  },
  { name: 'zen.bl.test', type: 'ip4set' as const, files: [':127.0.0.4:XBL: $ is infected\n192.0.2.1\n'] },
  {
    name: 'zen.bl.test',
    type: 'ip6trie' as const,
    files: [`:127.0.0.2:IPv6 $ listed\n${V6_TEST_POINT}2001:db8:bad::/48\n`],
  },
  { name: 'pbl.bl.test', type: 'ip4set' as const, files: [`:127.0.0.10:dynamic space $\n${TEST_POINTS}192.0.2.99\n`] },
  {
    name: 'public.bl.test',
    type: 'ip4trie' as const,
    files: ['0.0.0.0/0 :127.255.255.254:Query via public resolver refused'],
  },
  { name: 'dead.bl.test', type: 'ip4trie' as const, files: ['0.0.0.0/0 :127.0.0.2:Everything is listed'] },
  { name: 'clean.bl.test', type: 'ip4set' as const, files: [`:127.0.0.2:test\n${TEST_POINTS}`] },
];

/** A zone with the registry's ZEN semantics but served by the lab: SBL, XBL and PBL codes decoded as Spamhaus does. */
function zenLike(name: string) {
  const zen = zoneById('spamhaus-zen');
  if (!zen) throw new Error('spamhaus-zen missing from the registry');
  return { ...zen, id: `lab-${name.split('.')[0]}`, name, publicResolvers: 'works' as const };
}

async function cli(args: string[]) {
  // These tests are about the report; the state stage has its own tests (state.int.test.ts).
  const noStore = args[0] === 'check' && !args.some((a) => a === '--no-store' || a.startsWith('--store'));
  return runCliCaptured(noStore ? [...args, '--no-store'] : args, {}, FIXED_NOW);
}

const byZone = (run: BlocklistRun, ip: string, zoneId: string): ZoneResult | undefined =>
  run.ips.find((r) => r.ip === ip)?.zones.find((z) => z.zoneId === zoneId);

const rbldnsd = rbldnsdAvailable();
const unbound = unboundAvailable();

describe.skipIf(!rbldnsd.ok || !unbound.ok)(
  `blocklist engine against rbldnsd${rbldnsd.ok && unbound.ok ? '' : ' (SKIPPED: rbldnsd or unbound missing)'}`,
  () => {
    const bl = useRbldnsd({ zones: ZONES });
    const lab = useUnbound(() => ({
      localZones: EXAMPLE_ZONES,
      localData: EXAMPLE_LOCAL_DATA,
      stubs: [{ zone: 'bl.test.', addr: `127.0.0.1@${bl().port}` }],
      extraServerLines: UNBOUND_LINES_FOR_RBLDNSD,
    }));

    // a DNS server that never answers, for the timeout case
    let silent: dgram.Socket;
    beforeAll(async () => {
      silent = dgram.createSocket('udp4');
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => silent.close(() => r())));

    const IPS = ['192.0.2.1', '198.51.100.3', '198.51.100.7', '192.0.2.99', '203.0.113.50', '2001:db8:bad::25'];

    async function sweep(spec: string, ca?: string): Promise<BlocklistRun> {
      const stack: ResolverStack = createResolver({ specs: [spec], timeoutMs: 1500, ...(ca ? { ca } : {}) });
      const deadStack = createResolver({ specs: [`udp://127.0.0.1:${silent.address().port}`], timeoutMs: 300 });
      try {
        const plan = (zone: ReturnType<typeof genericZone>, resolver = stack.resolver) =>
          planZone({ zone, resolver, resolverIsPublic: false });
        return await runBlocklists({
          ips: IPS,
          plans: [
            plan(zenLike('zen.bl.test')),
            plan(zenLike('pbl.bl.test')),
            plan(genericZone('public.bl.test')),
            plan(genericZone('dead.bl.test')),
            plan(genericZone('clean.bl.test')),
            plan(genericZone('silent.bl.test'), deadStack.resolver),
          ],
        });
      } finally {
        await stack.close();
        await deadStack.close();
      }
    }

    const transports: Array<[string, () => Promise<BlocklistRun>]> = [
      ['rbldnsd directly', () => sweep(`udp://127.0.0.1:${bl().port}`)],
      ['unbound over UDP', () => sweep(`udp://127.0.0.1:${lab().udpPort}`)],
      ['unbound over DoH', () => sweep(`doh:${lab().dohUrl}`, lab().ca)],
    ];

    for (const [label, run] of transports) {
      describe(label, () => {
        let result: BlocklistRun;
        beforeAll(async () => {
          result = await run();
        });

        it('decodes every code of a listing and keeps the TXT reason', () => {
          const z = byZone(result, '192.0.2.1', 'lab-zen');
          expect(z?.status).toBe('listed');
          expect(z?.codes.map((c) => c.code)).toEqual(['127.0.0.2', '127.0.0.4']);
          expect(z?.codes.map((c) => c.meaning.split(':')[0])).toEqual(['SBL', 'XBL']);
          expect(z?.reason).toContain('192.0.2.1');
          expect(z?.kind).toBe('abuse');
        });

        it('reads CIDR listings and exclusions, and a policy listing as policy', () => {
          expect(byZone(result, '198.51.100.3', 'lab-zen')?.status).toBe('listed');
          expect(byZone(result, '198.51.100.7', 'lab-zen')?.status).toBe('clean');
          expect(byZone(result, '192.0.2.99', 'lab-pbl')).toMatchObject({ status: 'listed', kind: 'policy' });
          expect(byZone(result, '203.0.113.50', 'lab-zen')?.status).toBe('clean');
        });

        it('asks IPv6 in nibble form where the zone supports it', () => {
          expect(byZone(result, '2001:db8:bad::25', 'lab-zen')?.status).toBe('listed');
          expect(result.health.find((h) => h.zoneId === 'lab-zen')?.ipv6).toEqual({ status: 'usable', reason: null });
        });

        it('never reads a refusal or a dead zone as a listing', () => {
          const health = Object.fromEntries(result.health.map((h) => [h.zoneId, h]));
          expect(health['custom-public-bl-test']).toMatchObject({ status: 'unusable' });
          expect(health['custom-dead-bl-test']).toMatchObject({ status: 'unusable' });
          expect(health['custom-dead-bl-test']?.reason).toContain('lists 127.0.0.1');
          for (const ip of IPS) {
            expect(byZone(result, ip, 'custom-public-bl-test')?.status).toBe('unknown');
            expect(byZone(result, ip, 'custom-dead-bl-test')?.status).toBe('unknown');
            expect(byZone(result, ip, 'custom-clean-bl-test')?.status).toBe('clean');
          }
        });

        it('reads a server that never answers as unknown, not clean', () => {
          expect(result.health.find((h) => h.zoneId === 'custom-silent-bl-test')?.status).toBe('unusable');
          expect(byZone(result, '192.0.2.1', 'custom-silent-bl-test')?.status).toBe('unknown');
        });
      });
    }

    it('relaywatch blocklist --json: per IP and zone, codes with meanings, removal URL, health', async () => {
      const r = await cli([
        'blocklist',
        '192.0.2.1',
        '203.0.113.50',
        '--zone',
        'zen.bl.test',
        '--zone',
        'public.bl.test',
        '--dns',
        `udp://127.0.0.1:${bl().port}`,
        '--json',
      ]);
      const doc = JSON.parse(r.stdout) as BlocklistDocument;
      expect(doc.schema).toBe('relaywatch.blocklist/v1');
      expect(doc.ips.map((i) => [i.ip, i.status])).toEqual([
        ['192.0.2.1', 'fail'],
        ['203.0.113.50', 'unknown'],
      ]);
      expect(doc.ips[0]?.zones.find((z) => z.name === 'zen.bl.test')?.codes.map((c) => c.code)).toEqual([
        '127.0.0.2',
        '127.0.0.4',
      ]);
      expect(doc.health.map((h) => [h.zone, h.status])).toEqual([
        ['zen.bl.test', 'usable'],
        ['public.bl.test', 'unusable'],
      ]);
      expect(r.code).toBe(2);
      const human = await cli([
        'blocklist',
        '192.0.2.1',
        '--zone',
        'zen.bl.test',
        '--dns',
        `udp://127.0.0.1:${bl().port}`,
      ]);
      expect(human.stdout).toContain('192.0.2.1 is listed by unknown (custom zone) (zen.bl.test)');
      expect(human.stdout).toMatch(/zen-bl-test\s+usable/);
    });

    it('relaywatch blocklist: a private address and an IPv6 address with only IPv4 zones are NOT CHECKED, never PASS (exit 3)', async () => {
      const dns = ['--dns', `udp://127.0.0.1:${bl().port}`];
      const clean = await cli(['blocklist', '203.0.113.50', '--zone', 'clean.bl.test', ...dns]);
      expect(clean.stdout).toMatch(/✔ PASS\s+blocklist 203\.0\.113\.50: 0 listed, 1 clean, 0 unknown/);
      expect(clean.code).toBe(0);
      const r = await cli(['blocklist', '10.1.2.3', '--zone', 'clean.bl.test', ...dns]);
      const v6 = await cli(['blocklist', '2001:db8::1', '--zone', 'spamcop', ...dns]);
      expect(v6.stdout).not.toContain('PASS');
      expect(v6.code).toBe(3);
      expect(r.stdout).not.toContain('PASS');
      expect(r.stdout).toContain('– NOT CHECKED blocklist 10.1.2.3');
      expect(r.stdout).toContain(
        '10.1.2.3 was not checked against any blocklist: 10.1.2.3 is a private address (RFC 1918): public blocklists list public addresses only.',
      );
      expect(v6.stdout).toMatch(/2001:db8::1 was not checked against any blocklist: .*does not support IPv6/);
      expect(r.code).toBe(3);
      const json = await cli(['blocklist', '10.1.2.3', '--zone', 'clean.bl.test', ...dns, '--json']);
      const doc = JSON.parse(json.stdout) as BlocklistDocument;
      expect(doc.status).toBe('unknown');
      expect(doc.ips[0]?.zones).toEqual([]);
      expect(doc.ips[0]?.findings.map((f) => [f.code, f.severity])).toEqual([['blocklist-none-checked', 'unknown']]);
      expect(json.code).toBe(3);
    });

    it('check follows the config: a custom zone through blocklists.resolvers, a zone a tenant switched off', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relaywatch-bl-'));
      try {
        const file = join(dir, 'relaywatch.yaml');
        await writeFile(
          file,
          [
            'version: 1',
            'msp: { name: Lab, contact: { name: NOC, email: noc@lab.example } }',
            'blocklists:',
            `  resolvers: ["udp://127.0.0.1:${bl().port}"]`,
            '  zones: { disable: [spamcop, psbl, mailspike, uceprotect-1, uceprotect-2, uceprotect-3, s5h, dronebl, spamrats, spamhaus-zen-dqs, abusix] }',
            '  custom:',
            '    - { id: lab-zen, name: zen.bl.test, operator: Lab NOC, scope: ip, kind: abuse, codes: { 127.0.0.2: { meaning: "listed by the lab", kind: abuse }, 127.0.0.4: { meaning: "infected", kind: abuse } }, errorCodes: {}, ipv6: false, key: null, publicResolvers: refused, terms: lab, lookupUrl: null, removalUrl: "https://lab.example/remove?ip={ip}", defaultEnabled: true }',
            '    - { id: lab-pbl, name: pbl.bl.test, operator: Lab NOC, scope: ip, kind: policy, codes: { 127.0.0.10: { meaning: "dynamic", kind: policy } }, errorCodes: {}, ipv6: false, key: null, publicResolvers: works, terms: lab, lookupUrl: null, removalUrl: null, defaultEnabled: true }',
            'tenants:',
            '  - { id: listed, name: Listed, domains: [contoso.example], relayIps: [192.0.2.1] }',
            '  - { id: dynamic, name: Dynamic, domains: [tailspin.example], relayIps: [192.0.2.99], blocklists: { disable: [lab-pbl] } }',
            '',
          ].join('\n'),
        );
        const r = await cli(['check', '--config', file, '--dns', `udp://127.0.0.1:${lab().udpPort}`, '--json']);
        const doc = JSON.parse(r.stdout) as CheckDocument;
        expect(doc.blocklists?.resolvers).toBe(`udp://127.0.0.1:${bl().port}`);
        expect(doc.blocklists?.health.map((h) => [h.zoneId, h.status])).toEqual([
          ['lab-zen', 'usable'],
          ['lab-pbl', 'usable'],
        ]);
        const listed = doc.tenants.find((t) => t.id === 'listed')?.checks[0];
        expect(listed?.status).toBe('fail');
        expect(listed?.findings.find((f) => f.code === 'blocklist-listed')?.message).toContain(
          'https://lab.example/remove?ip=192.0.2.1',
        );
        // the policy listing of 192.0.2.99 is not judged for the tenant that switched lab-pbl off
        const dynamic = doc.tenants.find((t) => t.id === 'dynamic')?.checks[0];
        expect(dynamic?.status).toBe('pass');
        expect(dynamic?.details.zones).toEqual([expect.objectContaining({ zone: 'lab-zen', status: 'clean' })]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('check attaches a blocklist check per sending IP to each tenant, IPs from SPF included', async () => {
      const root = new URL('../../', import.meta.url).pathname;
      const r = await cli([
        'check',
        '--config',
        join(root, 'examples/relaywatch.yaml'),
        '--dns',
        `udp://127.0.0.1:${lab().udpPort}`,
        '--blocklist-dns',
        `udp://127.0.0.1:${bl().port}`,
        '--zone',
        'zen.bl.test',
        '--json',
      ]);
      const doc = JSON.parse(r.stdout) as CheckDocument;
      const contoso = doc.tenants.find((t) => t.id === 'contoso');
      expect(contoso?.checks.map((c) => [c.kind, c.subject, c.status])).toEqual([
        ['blocklist', '203.0.113.10', 'pass'],
      ]);
      // fabrikam: its relay IPs plus the old address its SPF still authorises (198.51.100.7, excluded in the zone)
      const fabrikam = doc.tenants.find((t) => t.id === 'fabrikam');
      expect(fabrikam?.checks.map((c) => c.subject)).toEqual(['198.51.100.23', '2001:db8:fab::25', '198.51.100.7']);
      expect(doc.blocklists?.health.map((h) => h.status)).toEqual(['usable']);
      expect(doc.summary.ips).toBe(4);
      expect(r.code).toBe(2);
    });
  },
);
