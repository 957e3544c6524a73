/**
 * The rbldnsd harness (test/support/rbldnsd.ts) serves what the DNSBL engine's tests need, as a real DNSBL does:
 * A codes and TXT reasons, several codes for one IP (Spamhaus ZEN style), CIDR listings and exclusions, IPv6 nibble
 * names, the RFC 5782 test points, a "public resolver refused" zone (127.255.255.254 for everything), a dead zone
 * (lists 127.0.0.1) and REFUSED for unknown zones; directly over UDP, and through unbound (stub zone) over UDP and DoH.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { DohResolver } from '../../shared/adapters/dns/doh-resolver.ts';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import type { DnsResolver, DnsResult, RecordType } from '../../shared/ports/dns-resolver.ts';
import { rbldnsdAvailable, UNBOUND_LINES_FOR_RBLDNSD, useRbldnsd } from '../support/rbldnsd.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

/** `d.c.b.a.<zone>` for IPv4, 32 reversed nibbles for IPv6. */
function dnsblName(ip: string, zone: string): string {
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return `${address.toByteArray().reverse().join('.')}.${zone}`;
  const nibbles = address
    .toByteArray()
    .flatMap((byte) => [byte >> 4, byte & 0xf])
    .map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.${zone}`;
}

/** The A data of an answer, sorted; `kind` otherwise (e.g. `nxdomain`, `refused`). */
function codes(result: DnsResult<'A'>): string[] | string {
  return result.kind === 'answer' ? result.records.map((r) => r.data).sort() : result.kind;
}

function texts(result: DnsResult<'TXT'>): string[] | string {
  return result.kind === 'answer' ? result.records.map((r) => r.data.text).sort() : result.kind;
}

const ZEN_SBL = [
  ':127.0.0.2:SBL: $ https://check.bl.test/sbl?ip=$',
  '192.0.2.1',
  '192.0.2.10',
  '127.0.0.2',
  '198.51.100.0/24 :127.0.0.3:CSS range listing $',
  '!198.51.100.7',
].join('\n');
const ZEN_XBL = [':127.0.0.4:XBL: $ is infected', '192.0.2.1', '127.0.0.2'].join('\n');

const ZONES = [
  // Two entries with one name = two datasets in one zone: an IP in both gets both codes.
  { name: 'zen.bl.test', type: 'ip4set', files: [ZEN_SBL] },
  { name: 'zen.bl.test', type: 'ip4set', files: [ZEN_XBL] },
  // One entry with two files: one dataset; the second file has no default line (127.0.0.2, no TXT).
  { name: 'multi.bl.test', type: 'ip4set', files: [':127.0.0.10:PBL $\n192.0.2.1\n', '192.0.2.1\n192.0.2.20\n'] },
  { name: 'public.bl.test', type: 'ip4trie', files: ['0.0.0.0/0 :127.255.255.254:Query via public resolver refused'] },
  { name: 'dead.bl.test', type: 'ip4trie', files: ['0.0.0.0/0 :127.0.0.2:Everything is listed ($)'] },
  {
    name: 'v6.bl.test',
    type: 'ip6trie',
    files: [':127.0.0.2:IPv6 $ listed\n2001:db8:bad::/48\n!2001:db8:bad::1\n::ffff:7f00:2\n'],
  },
] as const;

const rbldnsd = rbldnsdAvailable();

describe.skipIf(!rbldnsd.ok)(`rbldnsd harness${rbldnsd.ok ? '' : ` (SKIPPED: ${rbldnsd.reason})`}`, () => {
  const bl = useRbldnsd({ zones: ZONES });
  const direct = (): UdpResolver => new UdpResolver({ host: '127.0.0.1', port: bl().port, timeoutMs: 1000 });

  it('starts quickly and logs every query', async () => {
    expect(bl().startupMs).toBeLessThan(5000);
    const udp = direct();
    await udp.query(dnsblName('192.0.2.10', 'zen.bl.test'), 'A');
    udp.close();
    await expect.poll(() => bl().log()).toContain('10.2.0.192.zen.bl.test A IN: NOERROR/1/');
  });

  it('answers a single code with a TXT reason, `$` replaced by the IP', async () => {
    const udp = direct();
    const name = dnsblName('192.0.2.10', 'zen.bl.test');
    const a = await udp.query(name, 'A');
    expect(a).toMatchObject({ kind: 'answer', ttl: 2100, server: `udp://127.0.0.1:${bl().port}` });
    expect(codes(a)).toEqual(['127.0.0.2']);
    expect(texts(await udp.query(name, 'TXT'))).toEqual(['SBL: 192.0.2.10 https://check.bl.test/sbl?ip=192.0.2.10']);
    udp.close();
  });

  it('answers every code of every dataset listing the IP (ZEN: 127.0.0.2 and 127.0.0.4), with one TXT each', async () => {
    const udp = direct();
    const name = dnsblName('192.0.2.1', 'zen.bl.test');
    expect(codes(await udp.query(name, 'A'))).toEqual(['127.0.0.2', '127.0.0.4']);
    expect(texts(await udp.query(name, 'TXT'))).toEqual([
      'SBL: 192.0.2.1 https://check.bl.test/sbl?ip=192.0.2.1',
      'XBL: 192.0.2.1 is infected',
    ]);
    udp.close();
  });

  it('reads several files of one zone entry as one dataset; a default line holds to the end of its file', async () => {
    const udp = direct();
    expect(codes(await udp.query(dnsblName('192.0.2.1', 'multi.bl.test'), 'A'))).toEqual(['127.0.0.10', '127.0.0.2']);
    expect(texts(await udp.query(dnsblName('192.0.2.1', 'multi.bl.test'), 'TXT'))).toEqual(['PBL 192.0.2.1']);
    expect(codes(await udp.query(dnsblName('192.0.2.20', 'multi.bl.test'), 'A'))).toEqual(['127.0.0.2']);
    // Listed with no TXT template: the TXT query is NODATA, not NXDOMAIN.
    expect((await udp.query(dnsblName('192.0.2.20', 'multi.bl.test'), 'TXT')).kind).toBe('nodata');
    udp.close();
  });

  it('lists a CIDR range with its own code, minus an excluded IP', async () => {
    const udp = direct();
    expect(codes(await udp.query(dnsblName('198.51.100.8', 'zen.bl.test'), 'A'))).toEqual(['127.0.0.3']);
    expect(texts(await udp.query(dnsblName('198.51.100.8', 'zen.bl.test'), 'TXT'))).toEqual([
      'CSS range listing 198.51.100.8',
    ]);
    expect((await udp.query(dnsblName('198.51.100.7', 'zen.bl.test'), 'A')).kind).toBe('nxdomain');
    expect((await udp.query(dnsblName('198.51.100.7', 'zen.bl.test'), 'TXT')).kind).toBe('nxdomain');
    udp.close();
  });

  it('answers NXDOMAIN (without SOA, so ttl null) for an unlisted IP, and for partial names', async () => {
    const udp = direct();
    expect(await udp.query(dnsblName('203.0.113.5', 'zen.bl.test'), 'A')).toMatchObject({
      kind: 'nxdomain',
      ttl: null,
    });
    expect((await udp.query(dnsblName('203.0.113.5', 'zen.bl.test'), 'TXT')).kind).toBe('nxdomain');
    expect((await udp.query('2.0.192.zen.bl.test', 'A')).kind).toBe('nxdomain');
    udp.close();
  });

  it('serves the RFC 5782 test points: 127.0.0.2 listed, 127.0.0.1 not', async () => {
    const udp = direct();
    expect(codes(await udp.query('2.0.0.127.zen.bl.test', 'A'))).toEqual(['127.0.0.2', '127.0.0.4']);
    expect((await udp.query('1.0.0.127.zen.bl.test', 'A')).kind).toBe('nxdomain');
    udp.close();
  });

  it('has a "public resolver refused" zone answering 127.255.255.254 to every query, test points included', async () => {
    const udp = direct();
    for (const ip of ['127.0.0.1', '127.0.0.2', '192.0.2.1', '8.8.8.8']) {
      expect(codes(await udp.query(dnsblName(ip, 'public.bl.test'), 'A'))).toEqual(['127.255.255.254']);
    }
    expect(texts(await udp.query(dnsblName('8.8.8.8', 'public.bl.test'), 'TXT'))).toEqual([
      'Query via public resolver refused',
    ]);
    udp.close();
  });

  it('has a dead zone that lists everything, 127.0.0.1 included', async () => {
    const udp = direct();
    expect(codes(await udp.query('1.0.0.127.dead.bl.test', 'A'))).toEqual(['127.0.0.2']);
    expect(texts(await udp.query('1.0.0.127.dead.bl.test', 'TXT'))).toEqual(['Everything is listed (127.0.0.1)']);
    expect(codes(await udp.query(dnsblName('203.0.113.5', 'dead.bl.test'), 'A'))).toEqual(['127.0.0.2']);
    udp.close();
  });

  it('serves IPv6 listings on 32-nibble names (RFC 5782 IPv6 test points included)', async () => {
    const udp = direct();
    const listed = dnsblName('2001:db8:bad::25', 'v6.bl.test');
    expect(listed).toBe('5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2.v6.bl.test');
    expect(codes(await udp.query(listed, 'A'))).toEqual(['127.0.0.2']);
    expect(texts(await udp.query(listed, 'TXT'))).toEqual(['IPv6 2001:db8:bad::25 listed']);
    expect((await udp.query(dnsblName('2001:db8:bad::1', 'v6.bl.test'), 'A')).kind).toBe('nxdomain');
    expect((await udp.query(dnsblName('2001:db8:cafe::1', 'v6.bl.test'), 'A')).kind).toBe('nxdomain');
    expect(codes(await udp.query(dnsblName('::ffff:7f00:2', 'v6.bl.test'), 'A'))).toEqual(['127.0.0.2']);
    expect((await udp.query(dnsblName('::ffff:7f00:1', 'v6.bl.test'), 'A')).kind).toBe('nxdomain');
    udp.close();
  });

  it('answers REFUSED outside its zones (and for the apex SOA without $SOA), NODATA for other types', async () => {
    const udp = direct();
    expect((await udp.query(dnsblName('192.0.2.1', 'unknown.bl.test'), 'A')).kind).toBe('refused');
    expect((await udp.query(dnsblName('192.0.2.1', 'bl.test'), 'A')).kind).toBe('refused');
    expect((await udp.query('zen.bl.test', 'A')).kind).toBe('nodata');
    expect((await udp.query(dnsblName('192.0.2.1', 'zen.bl.test'), 'AAAA')).kind).toBe('nodata');
    expect((await udp.query(dnsblName('192.0.2.1', 'zen.bl.test'), 'MX')).kind).toBe('nodata');
    udp.close();
  });

  it('has no TCP listener (rbldnsd is UDP only)', async () => {
    const tcp = new UdpResolver({ host: '127.0.0.1', port: bl().port, timeoutMs: 1000, transport: 'tcp' });
    expect((await tcp.query(dnsblName('192.0.2.1', 'zen.bl.test'), 'A')).kind).toBe('network-error');
    tcp.close();
  });

  it('kills rbldnsd and removes its directory when the test process is SIGKILLed (watchdog)', async () => {
    const support = fileURLToPath(new URL('../support/rbldnsd.ts', import.meta.url));
    const script = [
      `const { startRbldnsd } = await import(${JSON.stringify(support)});`,
      `const s = await startRbldnsd({ zones: [{ name: 'orphan.bl.test', type: 'ip4set', files: ['192.0.2.1'] }] });`,
      `console.log('PID ' + s.pid + ' DIR ' + s.dir);`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await expect.poll(() => out, { timeout: 15_000 }).toMatch(/PID \d+/);
    const pid = Number(/PID (\d+)/.exec(out)?.[1]);
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    child.kill('SIGKILL');
    await expect.poll(alive, { timeout: 5000 }).toBe(false);
    const dir = /DIR (\S+)/.exec(out)?.[1] ?? '';
    expect(dir).toContain('relaywatch-rbldnsd-');
    await expect.poll(() => existsSync(dir), { timeout: 5000 }).toBe(false);
  });

  const unbound = unboundAvailable();
  describe.skipIf(!unbound.ok)(`through unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`, () => {
    // Runs after the outer beforeAll, so rbldnsd's port is known.
    const lab = useUnbound(() => ({
      localData: [],
      extraServerLines: UNBOUND_LINES_FOR_RBLDNSD,
      stubs: [
        { zone: 'bl.test.', addr: `127.0.0.1@${bl().port}` },
        // A stub to rbldnsd for a zone it does not serve: every answer is REFUSED.
        { zone: 'other.test.', addr: `127.0.0.1@${bl().port}` },
      ],
    }));

    const viaBoth = async <T extends RecordType>(
      run: (resolver: DnsResolver) => Promise<DnsResult<T>>,
    ): Promise<{ udp: DnsResult<T>; doh: DnsResult<T> }> => {
      const udp = new UdpResolver({ host: '127.0.0.1', port: lab().udpPort, timeoutMs: 3000 });
      const doh = new DohResolver({ url: lab().dohUrl, ca: lab().ca, timeoutMs: 3000 });
      try {
        return { udp: await run(udp), doh: await run(doh) };
      } finally {
        udp.close();
        await doh.close();
      }
    };

    it('passes every code and TXT through, over UDP and DoH', async () => {
      const name = dnsblName('192.0.2.1', 'zen.bl.test');
      const a = await viaBoth((r) => r.query(name, 'A'));
      expect(codes(a.udp)).toEqual(['127.0.0.2', '127.0.0.4']);
      expect(codes(a.doh)).toEqual(['127.0.0.2', '127.0.0.4']);
      expect(a.doh.server).toBe(`doh:${lab().dohUrl}`);
      const txt = await viaBoth((r) => r.query(name, 'TXT'));
      expect(texts(txt.udp)).toEqual(texts(txt.doh));
      expect(texts(txt.doh)).toContain('XBL: 192.0.2.1 is infected');
    });

    it('passes NXDOMAIN and the RFC 5782 test points through', async () => {
      const unlisted = await viaBoth((r) => r.query(dnsblName('203.0.113.5', 'zen.bl.test'), 'A'));
      expect([unlisted.udp.kind, unlisted.doh.kind]).toEqual(['nxdomain', 'nxdomain']);
      const notListed = await viaBoth((r) => r.query('1.0.0.127.zen.bl.test', 'A'));
      expect([notListed.udp.kind, notListed.doh.kind]).toEqual(['nxdomain', 'nxdomain']);
      const listed = await viaBoth((r) => r.query('2.0.0.127.zen.bl.test', 'A'));
      expect(codes(listed.doh)).toEqual(['127.0.0.2', '127.0.0.4']);
      const v6 = await viaBoth((r) => r.query(dnsblName('2001:db8:bad::25', 'v6.bl.test'), 'A'));
      expect([codes(v6.udp), codes(v6.doh)]).toEqual([['127.0.0.2'], ['127.0.0.2']]);
    });

    it('passes 127.255.255.254 and the dead zone answers through unchanged', async () => {
      const pub = await viaBoth((r) => r.query(dnsblName('192.0.2.1', 'public.bl.test'), 'A'));
      expect([codes(pub.udp), codes(pub.doh)]).toEqual([['127.255.255.254'], ['127.255.255.254']]);
      const dead = await viaBoth((r) => r.query('1.0.0.127.dead.bl.test', 'A'));
      expect([codes(dead.udp), codes(dead.doh)]).toEqual([['127.0.0.2'], ['127.0.0.2']]);
    });

    it("turns rbldnsd's REFUSED (unknown zone) into SERVFAIL", async () => {
      const unknownUnderStub = await viaBoth((r) => r.query(dnsblName('192.0.2.1', 'unknown.bl.test'), 'A'));
      expect([unknownUnderStub.udp.kind, unknownUnderStub.doh.kind]).toEqual(['servfail', 'servfail']);
      const otherStub = await viaBoth((r) => r.query(dnsblName('192.0.2.1', 'other.test'), 'A'));
      expect([otherStub.udp.kind, otherStub.doh.kind]).toEqual(['servfail', 'servfail']);
      // REFUSED does not make unbound give up on rbldnsd for its real zones.
      const after = await viaBoth((r) => r.query(dnsblName('192.0.2.10', 'zen.bl.test'), 'A'));
      expect([codes(after.udp), codes(after.doh)]).toEqual([['127.0.0.2'], ['127.0.0.2']]);
    });
  });
});
