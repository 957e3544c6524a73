/**
 * Egress IP discovery against scripted UDP DNS servers and a plain HTTP server on 127.0.0.1, through the production
 * resolver wiring (`defaultResolverFor`: a non-caching UdpResolver per spec).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EGRESS_METHODS,
  defaultResolverFor,
  discoverEgressIp,
  type EgressMethod,
  methodLabel,
} from '../../shared/agent/egress-ip.ts';
import { type Answer, dnsServer } from '../support/answer-dns.ts';
import { freePort } from '../support/ports.ts';

const deps = { resolverFor: (spec: string) => defaultResolverFor(spec, 1000), timeoutMs: 2000 };

describe('egress IP discovery', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  const serve = async (answers: readonly Answer[], options: { authoritative?: boolean } = {}) => {
    const s = await dnsServer(answers, options);
    cleanup.push(() => s.close());
    return s;
  };
  /** An "https" method on 127.0.0.1 (plain http is allowed to loopback) whose whole body is `ip`. */
  const web = async (ip: string): Promise<EgressMethod & { kind: 'https' }> => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${ip}\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    return { kind: 'https', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  };

  it('has OpenDNS, AWS, Google and ipify as defaults, DNS and HTTPS alternating', () => {
    expect(DEFAULT_EGRESS_METHODS.map(methodLabel)).toEqual([
      'dns:myip.opendns.com@208.67.222.222',
      'https://checkip.amazonaws.com/',
      'dns:o-o.myaddr.l.google.com@216.239.32.10',
      'https://api.ipify.org/',
    ]);
    expect(DEFAULT_EGRESS_METHODS.map((m) => m.kind)).toEqual(['dns', 'https', 'dns', 'https']);
  });

  it('could not determine when a non-authoritative server answers for OpenDNS (an intercepting firewall)', async () => {
    const interceptor = await serve([{ type: 'A', data: '203.0.113.66' }], { authoritative: false });
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'myip.opendns.com', type: 'A', server: interceptor.spec }, await web('198.51.100.10')],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts[0]).toMatchObject({ outcome: 'failed' });
    expect(result.attempts[0]?.detail).toMatch(/not authoritative \(no AA bit\)/);
    expect(result.attempts.at(-1)).toMatchObject({ method: 'cross-check', outcome: 'failed' });
    expect(result.attempts.at(-1)?.detail).toMatch(
      /could not determine: only http:\/\/127\.0\.0\.1:\d+\/ named 198\.51\.100\.10/,
    );
    expect(JSON.stringify(result)).not.toMatch(/"ip":"203\.0\.113\.66"/);
  });

  it('could not determine when an interceptor sets the AA bit but HTTPS sees another address', async () => {
    const liar = await serve([{ type: 'A', data: '203.0.113.66' }]);
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'myip.opendns.com', type: 'A', server: liar.spec }, await web('198.51.100.10')],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts.at(-1)?.detail).toMatch(
      /the methods disagree \(203\.0\.113\.66 from dns:.*, 198\.51\.100\.10 from http/,
    );
  });

  it('does not count two DNS answers without HTTPS as a confirmation', async () => {
    const a = await serve([{ type: 'A', data: '198.51.100.77' }]);
    const b = await serve([{ type: 'TXT', data: ['198.51.100.77'] }]);
    const result = await discoverEgressIp(
      [
        { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: a.spec },
        { kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: b.spec },
      ],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts.at(-1)?.detail).toMatch(/two methods, one over HTTPS, agree/);
  });

  it('refuses plain http to a host that is not loopback', async () => {
    const result = await discoverEgressIp([{ kind: 'https', url: 'http://ifconfig.example/ip' }], deps);
    expect(result.attempts[0]?.detail).toMatch(/https:, or http: to a loopback address/);
  });

  it('takes the A answer for myip.opendns.com once HTTPS confirms it', async () => {
    const server = await serve([{ type: 'A', data: '198.51.100.77' }]);
    const confirm = await web('198.51.100.77');
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'myip.opendns.com', type: 'A', server: server.spec }, confirm],
      deps,
    );
    expect(result).toMatchObject({
      ok: true,
      ip: '198.51.100.77',
      method: `dns:myip.opendns.com@127.0.0.1:${server.port} + ${confirm.url}`,
      confirmedBy: [`dns:myip.opendns.com@127.0.0.1:${server.port}`, confirm.url],
      attempts: [{ outcome: 'ok' }, { outcome: 'ok' }],
    });
    expect(server.questions).toEqual(['myip.opendns.com A']);
  });

  it('falls back to the next method when the first server is dead, recording both attempts', async () => {
    const dead = await freePort();
    const google = await serve([{ type: 'TXT', data: ['203.0.113.9'] }]);
    const methods: EgressMethod[] = [
      { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: `udp://127.0.0.1:${dead}` },
      { kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: google.spec },
      await web('203.0.113.9'),
    ];
    const result = await discoverEgressIp(methods, deps);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ip).toBe('203.0.113.9');
    expect(result.confirmedBy[0]).toBe(`dns:o-o.myaddr.l.google.com@127.0.0.1:${google.port}`);
    expect(result.attempts).toHaveLength(3);
    expect(result.attempts[0]).toMatchObject({ method: `dns:myip.opendns.com@127.0.0.1:${dead}`, outcome: 'failed' });
    expect(result.attempts[0]?.detail).toMatch(/could not be reached|no answer/);
    expect(result.attempts[1]).toMatchObject({ outcome: 'ok' });
  });

  it('fails a method answering a private address and says why', async () => {
    const server = await serve([{ type: 'A', data: '10.1.2.3' }]);
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'myip.opendns.com', type: 'A', server: server.spec }],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts).toHaveLength(2);
    expect(result.attempts[1]?.detail).toMatch(/none of the 1 method\(s\) gave a usable address/);
    expect(result.attempts[0]?.outcome).toBe('failed');
    expect(result.attempts[0]?.detail).toContain('"10.1.2.3"');
    expect(result.attempts[0]?.detail).toMatch(/private address/);
  });

  it('fails loopback and CGNAT answers, and several different addresses', async () => {
    const loop = await serve([{ type: 'A', data: '127.0.0.1' }]);
    const cgnat = await serve([{ type: 'TXT', data: ['100.64.1.1'] }]);
    const several = await serve([
      { type: 'A', data: '198.51.100.1' },
      { type: 'A', data: '198.51.100.2' },
    ]);
    const result = await discoverEgressIp(
      [
        { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: loop.spec },
        { kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: cgnat.spec },
        { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: several.spec },
      ],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(result.attempts[0]?.detail).toMatch(/loopback/);
    expect(result.attempts[1]?.detail).toMatch(/carrier-grade NAT/);
    expect(result.attempts[2]?.detail).toMatch(/several different addresses: "198\.51\.100\.1", "198\.51\.100\.2"/);
  });

  it("takes the address among Google's TXT strings and ignores edns0-client-subnet", async () => {
    const server = await serve([
      { type: 'TXT', data: ['edns0-client-subnet 1.2.3.0/24'] },
      { type: 'TXT', data: ['2001:db8::77'] },
    ]);
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: server.spec }, await web('2001:db8::77')],
      deps,
    );
    expect(result).toMatchObject({ ok: true, ip: '2001:db8::77' });
    expect(result.attempts[0]?.detail).toMatch(/ignored 1 other string/);
  });

  it('sanitises and caps a garbage TXT answer in the detail', async () => {
    const garbage = `not-an-ip\u0007\u001b[31mred\r\nInjected: yes\u202e${'x'.repeat(200)}`;
    const server = await serve([{ type: 'TXT', data: [garbage] }]);
    const result = await discoverEgressIp(
      [{ kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: server.spec }],
      deps,
    );
    expect(result.ok).toBe(false);
    const detail = result.attempts[0]?.detail ?? '';
    expect(detail).toMatch(/is not an IP address/);
    expect(detail).toContain('\\u{7}');
    expect(detail).toContain('\\u{1b}');
    expect(detail).toContain('\\u{202e}');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none remain
    expect(detail).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(detail.length).toBeLessThan(200);
    expect(detail).toContain('…');
  });

  it('reports NXDOMAIN and an invalid server spec as failed attempts, never throwing', async () => {
    const server = await serve([]);
    const result = await discoverEgressIp(
      [
        { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: 'udp://resolver1.opendns.com' },
        { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: server.spec },
      ],
      deps,
    );
    expect(result.ok).toBe(false);
    expect(result.attempts[0]).toMatchObject({ outcome: 'failed' });
    expect(result.attempts[0]?.detail).toMatch(/needs an IP address/);
    expect(result.attempts[1]?.detail).toMatch(/no A records/);
    expect(await discoverEgressIp([], deps)).toMatchObject({
      ok: false,
      attempts: [
        { method: '(none)', outcome: 'failed' },
        { method: 'cross-check', outcome: 'failed' },
      ],
    });
  });

  describe('over HTTP(S)', () => {
    let body = '';
    let status = 200;
    const start = async () => {
      const server = http.createServer((req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(
          req.url?.startsWith('/big') ? 'x'.repeat(10_000) : req.url?.startsWith('/ip/') ? req.url.slice(4) : body,
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };

    it('takes the body as the address (default fetcher)', async () => {
      const base = await start();
      body = '198.51.100.200\n';
      status = 200;
      const dns = await serve([{ type: 'A', data: '198.51.100.200' }]);
      const result = await discoverEgressIp(
        [
          { kind: 'https', url: `${base}/?format=text&key=s3cret` },
          { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: dns.spec },
        ],
        deps,
      );
      expect(result).toMatchObject({ ok: true, ip: '198.51.100.200' });
      expect(result.ok && result.confirmedBy[0]).toBe(`${base}/`);
      expect(JSON.stringify(result)).not.toContain('s3cret');
    });

    it('fails on a non-IP body, an HTTP error and an oversized body, then falls back to DNS', async () => {
      const base = await start();
      const dns = await serve([{ type: 'A', data: '192.0.2.44' }]);
      body = '<html>your ip is 198.51.100.200</html>';
      status = 200;
      const first = await discoverEgressIp(
        [
          { kind: 'https', url: `${base}/` },
          { kind: 'https', url: `${base}/big` },
          { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: dns.spec },
          { kind: 'https', url: `${base}/ip/192.0.2.44` },
        ],
        deps,
      );
      expect(first).toMatchObject({ ok: true, ip: '192.0.2.44' });
      expect(first.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'ok', 'ok']);
      expect(first.attempts[0]?.detail).toMatch(/is not an IP address/);
      expect(first.attempts[1]?.detail).toMatch(/larger than/);
      status = 503;
      body = '198.51.100.200';
      const second = await discoverEgressIp([{ kind: 'https', url: `${base}/` }], deps);
      expect(second).toMatchObject({
        ok: false,
        attempts: [{ outcome: 'failed', detail: 'failed: HTTP 503' }, { method: 'cross-check' }],
      });
    });

    it('uses an injected fetchText and survives one that throws', async () => {
      const result = await discoverEgressIp(
        [
          { kind: 'https', url: 'https://api.ipify.org' },
          { kind: 'https', url: 'https://ifconfig.example/ip' },
          { kind: 'https', url: 'https://checkip.example/' },
        ],
        {
          ...deps,
          fetchText: async (url) => {
            if (url.includes('ipify')) throw new Error('ECONNRESET');
            return ' 2001:db8::1 ';
          },
        },
      );
      expect(result).toMatchObject({
        ok: true,
        ip: '2001:db8::1',
        method: 'https://ifconfig.example/ip + https://checkip.example/',
      });
      expect(result.attempts[0]).toMatchObject({ method: 'https://api.ipify.org/', outcome: 'failed' });
    });
  });
});
