/**
 * Domain blocklists (`scope: domain`: Spamhaus DBL, SURBL, URIBL, NordSpam) against a real DNSBL server: rbldnsd
 * serving `dnset` zones on 127.0.0.1. The engine asks `<domain>.<zone>`, health-checks each zone with its domain test
 * points (the operator's own, e.g. DBL's dbltest.com, else RFC 5782's `test` / `invalid`), decodes DBL codes and
 * SURBL/URIBL bitmasks, keeps TXT reasons as data, and treats URIBL's 127.0.0.1 refusal and a zone listing `invalid`
 * as unusable, never as listings; `relaywatch check` reports a `domain-blocklist` check per sender domain.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { type BlocklistRun, planZone, runBlocklists } from '../../shared/blocklist/engine.ts';
import { type ZoneDefinition, zoneById } from '../../shared/blocklist/registry.ts';
import { domainBlocklistOutcome } from '../../shared/checks/blocklist.ts';
import type { CheckDocument } from '../../shared/cli/json.ts';
import { EXAMPLE_LOCAL_DATA, EXAMPLE_ZONES } from '../support/example-zone.ts';
import { rbldnsdAvailable, UNBOUND_LINES_FOR_RBLDNSD, useRbldnsd } from '../support/rbldnsd.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const ZONES = [
  {
    name: 'dbl.bl.test',
    type: 'dnset' as const,
    files: [
      [
        ':127.0.1.2:Listed in the lab DBL, see https://check.bl.test/?d=$',
        'dbltest.com',
        'spammy.example',
        'phish.example :127.0.1.4:Phishing domain $',
        'hacked.example :127.0.1.102:Abused legit $',
      ].join('\n'),
    ],
  },
  // SURBL-like bitmask: test point with every bit, a domain on MW + ABUSE (16 + 64 = 80).
  {
    name: 'multi.bl.test',
    type: 'dnset' as const,
    files: [':127.0.0.254:test point\ntest.surbl.org\nbundled.example :127.0.0.80:MW and ABUSE\n'],
  },
  // URIBL refusing this resolver: 127.0.0.1 for everything, test points included.
  { name: 'refused.bl.test', type: 'dnset' as const, files: [':127.0.0.1:Query Refused\ntest\ninvalid\n.example\n'] },
  // A dead domain zone: lists `invalid` too.
  { name: 'dead.bl.test', type: 'dnset' as const, files: [':127.0.0.2:Everything\ntest\ninvalid\n.example\n'] },
];

function zone(id: string): ZoneDefinition {
  const z = zoneById(id);
  if (!z) throw new Error(`no zone ${id}`);
  return z;
}
/** A registry domain zone served by the lab under another name. */
function labZone(id: string, name: string, extra: Partial<ZoneDefinition> = {}): ZoneDefinition {
  return { ...zone(id), id: `lab-${id}`, name, key: null, publicResolvers: 'works', ...extra };
}

const rbldnsd = rbldnsdAvailable();

describe.skipIf(!rbldnsd.ok)(
  `domain blocklists against rbldnsd${rbldnsd.ok ? '' : ` (SKIPPED: ${rbldnsd.reason})`}`,
  () => {
    const bl = useRbldnsd({ zones: ZONES });
    const DOMAINS = ['contoso.example', 'spammy.example', 'phish.example', 'hacked.example', 'bundled.example'];

    async function sweep(plans: ZoneDefinition[], domains = DOMAINS): Promise<BlocklistRun> {
      const resolver = new UdpResolver({ host: '127.0.0.1', port: bl().port, timeoutMs: 1000 });
      return runBlocklists({
        ips: [],
        domains,
        plans: plans.map((z) => planZone({ zone: z, resolver, resolverIsPublic: false })),
      });
    }

    it('asks <domain>.<zone>, decodes the DBL codes with the TXT reason, and health-checks with dbltest.com', async () => {
      const run = await sweep([labZone('spamhaus-dbl', 'dbl.bl.test')]);
      expect(run.health).toEqual([
        expect.objectContaining({ zoneId: 'lab-spamhaus-dbl', status: 'usable', reason: null }),
      ]);
      const by = (d: string) => run.domains.find((r) => r.domain === d)?.zones[0];
      expect(by('contoso.example')).toMatchObject({ status: 'clean' });
      expect(by('spammy.example')).toMatchObject({
        status: 'listed',
        kind: 'abuse',
        codes: [{ code: '127.0.1.2', meaning: 'DBL: low-reputation domain (spam domain)', kind: 'abuse' }],
        reason: 'Listed in the lab DBL, see https://check.bl.test/?d=spammy.example',
        removalUrl: 'https://check.spamhaus.org/',
        lookupUrl: 'https://check.spamhaus.org/results/?query=spammy.example',
      });
      expect(by('phish.example')?.codes.map((c) => c.meaning)).toEqual(['DBL: phishing-related domain']);
      expect(by('hacked.example')?.codes[0]?.code).toBe('127.0.1.102');
      expect(run.ips).toEqual([]);
      // health (2) + one A per domain (5) + one TXT per listed domain (3)
      expect(run.questions).toBe(10);
    });

    it('decodes a SURBL bitmask answer into its lists', async () => {
      const run = await sweep([labZone('surbl', 'multi.bl.test')], ['bundled.example']);
      expect(run.health[0]).toMatchObject({ status: 'usable' });
      expect(run.domains[0]?.zones[0]?.codes.map((c) => c.meaning)).toEqual([
        'SURBL MW: malware site (bit of 127.0.0.80)',
        'SURBL ABUSE: spam and abuse site (bit of 127.0.0.80)',
      ]);
    });

    it("treats URIBL's 127.0.0.1 refusal and a zone listing `invalid` as unusable: unknown, never a listing", async () => {
      const run = await sweep([labZone('uribl', 'refused.bl.test'), labZone('nordspam-dbl', 'dead.bl.test')]);
      const health = Object.fromEntries(run.health.map((h) => [h.zoneId, h]));
      expect(health['lab-uribl']).toMatchObject({ status: 'unusable', reason: expect.stringMatching(/Query Refused/) });
      expect(health['lab-nordspam-dbl']).toMatchObject({
        status: 'unusable',
        reason: 'lists invalid: the zone lists everything (dead or wildcarded)',
      });
      for (const r of run.domains) for (const z of r.zones) expect(z.status).toBe('unknown');
      const outcome = domainBlocklistOutcome(run.domains.find((r) => r.domain === 'spammy.example')!);
      expect(outcome).toMatchObject({ kind: 'domain-blocklist', subject: 'spammy.example', status: 'unknown' });
      expect(outcome.findings.map((f) => f.code)).toEqual(['domain-blocklist-unknown']);
      // once unusable, the zones are not asked for the domains at all
      expect(run.questions).toBe(4);
    });

    it('does not health-check or ask domain zones when there are no domains', async () => {
      const resolver = new UdpResolver({ host: '127.0.0.1', port: bl().port, timeoutMs: 1000 });
      const run = await runBlocklists({
        ips: ['192.0.2.1'],
        plans: [planZone({ zone: labZone('spamhaus-dbl', 'dbl.bl.test'), resolver, resolverIsPublic: false })],
      });
      expect(run).toMatchObject({ health: [], domains: [], questions: 0 });
    });

    const unbound = unboundAvailable();
    describe.skipIf(!unbound.ok)(`relaywatch check${unbound.ok ? '' : ' (SKIPPED: unbound missing)'}`, () => {
      const lab = useUnbound(() => ({
        localZones: EXAMPLE_ZONES,
        localData: EXAMPLE_LOCAL_DATA,
        extraServerLines: UNBOUND_LINES_FOR_RBLDNSD,
      }));

      it('reports a domain-blocklist check per sender domain (tenant domains and the probe sender), with removal guidance', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'relaywatch-dbl-'));
        try {
          const file = join(dir, 'relaywatch.yaml');
          const dbl = JSON.stringify({
            ...labZone('spamhaus-dbl', 'dbl.bl.test'),
            id: 'lab-dbl',
            defaultEnabled: true,
            removalUrl: 'https://lab.example/remove?d={domain}',
          });
          await writeFile(
            file,
            [
              'version: 1',
              'msp: { name: Lab, contact: { name: NOC, email: noc@lab.example } }',
              'blocklists:',
              `  resolvers: ["udp://127.0.0.1:${bl().port}"]`,
              `  zones: { disable: [${['spamcop', 'psbl', 'mailspike', 'uceprotect-1', 'uceprotect-2', 'uceprotect-3', 's5h', 'dronebl', 'spamrats', 'spamhaus-zen-dqs', 'abusix'].join(', ')}] }`,
              `  custom: [${dbl}]`,
              'tenants:',
              '  - { id: contoso, name: Contoso, domains: [contoso.example], relay: { sender: scanner@spammy.example } }',
              '',
            ].join('\n'),
          );
          const r = await runCliCaptured(
            ['check', '--config', file, '--dns', `udp://127.0.0.1:${lab().udpPort}`, '--json', '--no-store'],
            {},
            FIXED_NOW,
          );
          const doc = JSON.parse(r.stdout) as CheckDocument;
          expect(doc.blocklists?.health.map((h) => [h.zoneId, h.status])).toEqual([['lab-dbl', 'usable']]);
          const checks = doc.tenants[0]?.checks.filter((c) => c.kind === 'domain-blocklist') ?? [];
          expect(checks.map((c) => [c.subject, c.status])).toEqual([
            ['contoso.example', 'pass'],
            ['spammy.example', 'fail'],
          ]);
          const listed = checks[1]?.findings.find((f) => f.code === 'domain-blocklist-listed');
          expect(listed?.message).toContain(
            'spammy.example is listed by Spamhaus Project (public mirrors) (dbl.bl.test)',
          );
          expect(listed?.message).toContain('Removal: https://lab.example/remove?d=spammy.example');
          expect(r.code).toBe(2);

          const human = await runCliCaptured(
            ['check', '--config', file, '--dns', `udp://127.0.0.1:${lab().udpPort}`, '--no-store', '--no-color'],
            {},
            FIXED_NOW,
          );
          expect(human.stdout).toContain('sender domains (domain blocklists)');
          expect(human.stdout).toMatch(/spammy\.example: 1 listed, 0 clean, 0 unknown/);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    });
  },
);
