/**
 * The SPF and MX checks end to end through the real DNS stack (cache → failover → adapter) against unbound on
 * 127.0.0.1, over UDP and over DoH with a self-signed certificate: every SPF finding the issue names, split TXT strings,
 * CNAMEs, null MX, NXDOMAIN/NODATA, SERVFAIL and timeouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type ResolverStack } from '../../shared/adapters/dns/index.ts';
import { makeSpfEvaluator } from '../../shared/adapters/spf/mailauth-spf.ts';
import { mxCheck } from '../../shared/checks/mx.ts';
import { spfCheck } from '../../shared/checks/spf.ts';
import type { CheckContext } from '../../shared/checks/types.ts';
import type { Finding } from '../../shared/domain/outcome.ts';
import { freePort } from '../support/ports.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const unbound = unboundAvailable();
const codes = (fs: readonly Finding[]) => fs.map((f) => f.code);
const Z = 'lab.test';
const EOP = 'good-lab-test.mail.protection.outlook.com';
const M365 =
  'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all';
const long = Array.from({ length: 32 }, (_, i) => `ip4:198.51.100.${i}`).join(' ');

function txt(name: string, text: string): string {
  const chunks = text.match(/.{1,255}/g) ?? [''];
  return `${name}. 300 IN TXT ${chunks.map((c) => `"${c}"`).join(' ')}`;
}

describe.skipIf(!unbound.ok)(
  `SPF and MX checks against unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`,
  () => {
    let dead = 0;
    const lab = useUnbound(async () => {
      dead = await freePort();
      return {
        localZones: [
          [`${Z}.`, 'static'],
          ['protection.outlook.com.', 'static'],
        ],
        stubs: [{ zone: `slow.${Z}.`, addr: `127.0.0.1@${dead}` }],
        localData: [
          `${Z}. 300 IN SOA ns.${Z}. hostmaster.${Z}. 1 3600 600 86400 60`,
          txt('spf.protection.outlook.com', M365),
          txt('spfd.protection.outlook.com', 'v=spf1 ip4:51.4.72.0/24 -all'),
          // healthy, split across two character-strings mid-word
          `good.${Z}. 300 IN TXT "v=spf1 ip4:203.0.113.10 include:spf.protection.out" "look.com -all"`,
          `good.${Z}. 300 IN TXT "google-site-verification=abc"`,
          `good.${Z}. 300 IN MX 0 ${EOP}.`,
          `${EOP}. 300 IN A 52.101.1.1`,
          // two SPF records
          `two.${Z}. 300 IN TXT "v=spf1 -all"`,
          `two.${Z}. 300 IN TXT "v=spf1 include:spf.protection.outlook.com ~all"`,
          // syntax error, ptr, +all, long record
          txt(`bad.${Z}`, 'v=spf1 ip4:203.0.113.10 ptr include:spf.protection.outlook.com ip4:1.2.3 +all'),
          txt(`long.${Z}`, `v=spf1 ${long} include:spf.protection.outlook.com ?all`),
          // includes: missing SPF, timing out (stub to a dead port), a redirect
          txt(`inc.${Z}`, `v=spf1 include:nospf.${Z} include:t.slow.${Z} include:spf.protection.outlook.com -all`),
          `nospf.${Z}. 300 IN TXT "hello"`,
          txt(`redir.${Z}`, `v=spf1 redirect=good.${Z}`),
          // void lookups and too many lookups
          txt(`void.${Z}`, `v=spf1 a:gone1.${Z} a:gone2.${Z} mx:gone3.${Z} include:spf.protection.outlook.com -all`),
          txt(
            `many.${Z}`,
            `v=spf1 ${Array.from({ length: 9 }, (_, i) => `include:v${i}.${Z}`).join(' ')} include:spf.protection.outlook.com -all`,
          ),
          ...Array.from({ length: 9 }, (_, i) => txt(`v${i}.${Z}`, `v=spf1 ip4:192.0.2.${i} -all`)),
          // no all, no Microsoft include
          txt(`noall.${Z}`, 'v=spf1 ip4:203.0.113.10'),
          // MX: null MX, a third-party MX, an unresolvable M365 host, a CNAME'd MX owner
          `nullmx.${Z}. 300 IN MX 0 .`,
          `google.${Z}. 300 IN MX 1 aspmx.l.google.com.`,
          `deadmx.${Z}. 300 IN MX 0 deadmx-lab-test.mail.protection.outlook.com.`,
          `nomx.${Z}. 300 IN A 192.0.2.1`,
        ],
      };
    });

    for (const transport of ['udp', 'doh'] as const) {
      describe(`over ${transport}`, () => {
        let stack: ResolverStack;
        let ctx: CheckContext;
        beforeAll(() => {
          const server = lab();
          stack = createResolver({
            specs: [transport === 'udp' ? `udp://127.0.0.1:${server.udpPort}` : `doh:${server.dohUrl}`],
            timeoutMs: 1500,
            ...(transport === 'doh' ? { ca: server.ca } : {}),
          });
          ctx = {
            resolver: stack.resolver,
            evaluateSpf: makeSpfEvaluator(stack.resolver),
            now: () => performance.now(),
          };
        });
        afterAll(() => stack.close());
        const spf = (domain: string, relayIps: string[] = []) => spfCheck.run({ domain, relayIps }, ctx);

        it('passes the healthy domain, joining split TXT strings', async () => {
          const out = await spf(`good.${Z}`, ['203.0.113.10']);
          expect(out.status).toBe('pass');
          expect(out.details).toMatchObject({ lookups: 2, evaluations: [{ ip: '203.0.113.10', result: 'pass' }] });
        });

        it('fails a relay IP the record does not authorise', async () => {
          const out = await spf(`good.${Z}`, ['198.51.100.200']);
          expect(codes(out.findings)).toContain('spf-relay-ip-not-authorised');
          expect(out.status).toBe('fail');
        });

        it('reports several records, syntax errors, ptr, +all, ?all and long records', async () => {
          expect(codes((await spf(`two.${Z}`)).findings)).toEqual(['spf-multiple-records']);
          const bad = await spf(`bad.${Z}`, ['203.0.113.10']);
          expect(codes(bad.findings)).toEqual(
            expect.arrayContaining(['spf-syntax-error', 'spf-ptr', 'spf-all-pass', 'spf-relay-ip-not-authorised']),
          );
          const longOut = await spf(`long.${Z}`);
          expect(codes(longOut.findings)).toEqual(expect.arrayContaining(['spf-record-too-long', 'spf-all-neutral']));
        });

        it('tells a permanently broken include from one that times out', async () => {
          const out = await spf(`inc.${Z}`);
          expect(codes(out.findings)).toEqual(
            expect.arrayContaining(['spf-include-permerror', 'spf-include-temperror']),
          );
        });

        it('follows redirect= and counts it', async () => {
          const out = await spf(`redir.${Z}`, ['203.0.113.10']);
          expect(out.status).toBe('pass');
          expect(codes(out.findings)).toContain('spf-all-redirect');
          expect(out.details).toMatchObject({ lookups: 3 });
        });

        it('counts void lookups and the lookup limit across the tree', async () => {
          const v = await spf(`void.${Z}`);
          expect(v.details).toMatchObject({ voidLookups: 3 });
          expect(codes(v.findings)).toContain('spf-void-limit');
          const m = await spf(`many.${Z}`, ['192.0.2.1', '51.4.72.1']);
          expect(m.details).toMatchObject({ lookups: 11 });
          expect(codes(m.findings)).toContain('spf-lookup-limit');
          // A receiver counts only the terms it evaluates: an address matched by the second include still passes, one
          // that needs the eleventh lookup (spfd, under Microsoft's include) gets permerror.
          expect(m.details).toMatchObject({
            evaluations: [
              { ip: '192.0.2.1', result: 'pass' },
              { ip: '51.4.72.1', result: 'permerror' },
            ],
          });
        });

        it('reports a missing all and a missing Microsoft include, and NXDOMAIN/NODATA', async () => {
          expect(codes((await spf(`noall.${Z}`)).findings)).toEqual(
            expect.arrayContaining(['spf-all-missing', 'spf-m365-include-missing']),
          );
          expect(codes((await spf(`nothere.${Z}`)).findings)).toEqual(['spf-domain-nxdomain']);
          expect(codes((await spf(`nomx.${Z}`)).findings)).toEqual(['spf-missing']);
        });

        it('is unknown when the domain itself times out', async () => {
          const out = await spf(`x.slow.${Z}`, ['203.0.113.10']);
          expect(out.status).toBe('unknown');
          expect(codes(out.findings)).toEqual(['spf-dns-unknown']);
        });

        it('judges MX: healthy, null MX, third party, unresolvable host, missing MX', async () => {
          const mx = (domain: string) => mxCheck.run({ domain, relayIps: [] }, ctx);
          const good = await mx(`good.${Z}`);
          expect(good.status).toBe('pass');
          expect(good.details).toMatchObject({ relayEndpoint: EOP });
          expect(codes((await mx(`nullmx.${Z}`)).findings)).toEqual(['mx-null']);
          expect(codes((await mx(`google.${Z}`)).findings)).toContain('mx-m365-missing');
          expect(codes((await mx(`deadmx.${Z}`)).findings)).toContain('mx-host-unresolvable');
          expect(codes((await mx(`nomx.${Z}`)).findings)).toEqual(['mx-missing']);
          expect((await mx(`y.slow.${Z}`)).status).toBe('unknown');
        });

        it('asked each name at most once (the per-run cache)', () => {
          const s = stack.resolver.stats();
          expect(s.queriesSent).toBeLessThanOrEqual(s.questions - s.cacheHits - s.inflightJoins + 2);
          expect(s.cacheHits).toBeGreaterThan(0);
        });
      });
    }
  },
);
