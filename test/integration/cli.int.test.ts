/**
 * The `relaywatch` command end to end: in-process through runCli() (stdout/stderr captured) and once as a real
 * process, against unbound on loopback serving the DNS that examples/relaywatch.yaml describes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckDocument } from '../../shared/cli/json.ts';
import { EXAMPLE_LOCAL_DATA, EXAMPLE_ZONES } from '../support/example-zone.ts';
import { freePort } from '../support/ports.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const root = new URL('../../', import.meta.url).pathname;
const EXAMPLE = join(root, 'examples/relaywatch.yaml');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  // These tests are about the report; the state stage has its own tests (state.int.test.ts).
  const noStore = args[0] === 'check' && !args.some((a) => a === '--no-store' || a.startsWith('--store'));
  return runCliCaptured(noStore ? [...args, '--no-store'] : args, env, FIXED_NOW);
}

const unbound = unboundAvailable();

describe.skipIf(!unbound.ok)(
  `relaywatch CLI against unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`,
  () => {
    const lab = useUnbound({ localZones: EXAMPLE_ZONES, localData: EXAMPLE_LOCAL_DATA, doh: false });
    const dns = () => `udp://127.0.0.1:${lab().udpPort}`;

    it('check --json: the healthy tenant passes, the known mistake fails with the reason, exit 2', async () => {
      const r = await cli(['check', '--config', EXAMPLE, '--dns', dns(), '--json', '--no-blocklists']);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as CheckDocument;
      expect(doc.schema).toBe('relaywatch.check/v1');
      expect(doc.status).toBe('fail');
      expect(doc.exitCode).toBe(2);
      expect(doc.summary).toEqual({
        tenants: 3,
        domains: 4,
        ips: 0,
        byStatus: { pass: 4, warn: 0, fail: 1, unknown: 0 },
      });
      expect(doc.blocklists).toBeNull();
      const byId = Object.fromEntries(doc.tenants.map((t) => [t.id, t]));
      expect(byId.contoso?.status).toBe('pass');
      expect(byId.tailspin?.status).toBe('pass');
      expect(byId.tailspin?.checks.map((c) => [c.kind, c.findings[0]?.code])).toEqual([
        ['submission', 'submission-oauth'],
      ]);
      const fabrikam = byId.fabrikam?.domains.find((d) => d.domain === 'fabrikam.example');
      const spf = fabrikam?.checks.find((c) => c.kind === 'spf');
      const notAuthorised = spf?.findings.filter((f) => f.code === 'spf-relay-ip-not-authorised');
      expect(notAuthorised?.map((f) => f.evidence.ip)).toEqual(['198.51.100.23', '2001:db8:fab::25']);
      expect(spf?.findings.find((f) => f.code === 'spf-ip-not-relay')?.evidence).toEqual({ ip: '198.51.100.7' });
      const mx = byId.contoso?.domains[0]?.checks.find((c) => c.kind === 'mx');
      expect(mx?.details.relayEndpoint).toBe('contoso-example.mail.protection.outlook.com');
      expect(doc.dns.stats.queriesSent).toBeGreaterThan(0);
      // spf.protection.outlook.com is shared by every domain but asked once
      expect(doc.dns.stats.cacheHits + doc.dns.stats.inflightJoins).toBeGreaterThan(0);
      // warnings go to stderr only in the human form; --json keeps stdout pure JSON
      expect(r.stderr).toBe('');
    });

    it('check: a readable report grouped by tenant and domain, without colour when not a terminal', async () => {
      const r = await cli(['check', '--config', EXAMPLE, '--dns', dns(), '--no-blocklists']);
      expect(r.code).toBe(2);
      expect(r.stdout).not.toContain('\u001b[');
      expect(r.stdout).toMatch(/✘ FAIL\s+fabrikam — Fabrikam Inc/);
      expect(r.stdout).toContain('Relay IP 198.51.100.23 does not pass SPF for fabrikam.example');
      expect(r.stdout).toContain('relay endpoint contoso-example.mail.protection.outlook.com:25');
      expect(r.stdout).toContain(
        'Summary: 3 tenant(s), 4 domain(s), 0 IP(s): 4 pass, 0 warn, 1 fail, 0 unknown → FAIL (exit 2)',
      );
      expect(r.stderr).toContain('is a documentation address');
    });

    it('check: a store that cannot be written gives exit 3 even when a check fails, and the report keeps the FAIL', async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'rw-nostore-')), 'a-file');
      await writeFile(file, 'not a directory');
      const r = await cli([
        'check',
        '--config',
        EXAMPLE,
        '--dns',
        dns(),
        '--no-blocklists',
        '--store',
        `sqlite:${file}/x.db`,
      ]);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/✘ FAIL\s+fabrikam — Fabrikam Inc/);
      expect(r.stdout).toContain('1 fail, 0 unknown → FAIL (exit 3)');
      expect(r.stdout).toContain('State: NOT recorded: cannot create the SQLite store');
      const json = await cli([
        'check',
        '--config',
        EXAMPLE,
        '--dns',
        dns(),
        '--no-blocklists',
        '--json',
        '--store',
        `sqlite:${file}/x.db`,
      ]);
      expect(json.code).toBe(3);
      const doc = JSON.parse(json.stdout) as CheckDocument & { stateError?: string };
      expect([doc.status, doc.exitCode]).toEqual(['fail', 3]);
      expect(doc.stateError).toMatch(/exists and is not a directory/);
    });

    it('check --tenant limits the run; an unknown tenant is a usage error listing the known ones', async () => {
      const one = await cli([
        'check',
        '--config',
        EXAMPLE,
        '--dns',
        dns(),
        '--json',
        '--tenant',
        'contoso',
        '--no-blocklists',
      ]);
      expect(one.code).toBe(0);
      expect((JSON.parse(one.stdout) as CheckDocument).tenants.map((t) => t.id)).toEqual(['contoso']);
      const bad = await cli(['check', '--config', EXAMPLE, '--dns', dns(), '--tenant', 'nope']);
      expect(bad.code).toBe(3);
      expect(bad.stderr).toContain('unknown tenant "nope"; the config has: contoso, fabrikam, tailspin');
    });

    it('spf --ip gives the RFC 7208 result per address', async () => {
      const r = await cli([
        'spf',
        'fabrikam.example',
        '--ip',
        '198.51.100.7',
        '--ip',
        '198.51.100.23',
        '--dns',
        dns(),
        '--json',
      ]);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as { schema: string; results: { ip: string; result: string }[] };
      expect(doc.schema).toBe('relaywatch.spf/v1');
      expect(doc.results.map((x) => [x.ip, x.result])).toEqual([
        ['198.51.100.7', 'pass'],
        ['198.51.100.23', 'fail'],
      ]);
      const ok = await cli(['spf', 'contoso.example', '--ip', '203.0.113.10', '--dns', dns()]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/203\.0\.113\.10\s+pass/);
    });

    it('delist writes the request as .eml with the SPF evidence of every tenant domain', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relaywatch-delist-'));
      try {
        const ndr = join(dir, 'ndr.txt');
        await writeFile(
          ndr,
          '550 5.7.606 Access denied, banned sending IP [198.51.100.23]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
        );
        const out = join(dir, 'req.eml');
        const r = await cli([
          'delist',
          '--config',
          EXAMPLE,
          '--ip',
          '198.51.100.23',
          '--tenant',
          'fabrikam',
          '--reply-file',
          ndr,
          '--remediation',
          'Replaced the compromised NAS',
          '--out',
          out,
          '--dns',
          dns(),
          '--json',
        ]);
        expect(r.code).toBe(0);
        const doc = JSON.parse(r.stdout) as {
          to: string;
          code: string;
          spf: { domain: string; resultForIp: string }[];
        };
        expect(doc.to).toBe('delist@messaging.microsoft.com');
        expect(doc.code).toBe('5.7.606');
        expect(doc.spf.map((e) => [e.domain, e.resultForIp])).toEqual([
          ['fabrikam.example', 'fail'],
          ['fabrikam-mail.example', 'pass'],
        ]);
        const mail = await simpleParser(await readFile(out));
        expect(mail.subject).toBe(
          'Delisting request for 198.51.100.23 (Fabrikam Inc, fabrikam.example, fabrikam-mail.example)',
        );
        expect(mail.text).toContain('Replaced the compromised NAS');
        expect(mail.text).toContain('banned sending IP [198.51.100.23]');
        expect(mail.from?.text).toContain('noc@northwind.example');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('delist: an IP that is none of the tenant’s relay IPs is a warning, and the request does not call SPF evidence of legitimacy', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relaywatch-delist-'));
      try {
        const out = join(dir, 'req.eml');
        const args = ['delist', '--config', EXAMPLE, '--tenant', 'contoso', '--out', out, '--dns', dns()];
        const r = await cli([...args, '--ip', '198.51.100.99']);
        expect(r.code).toBe(0);
        expect(r.stderr).toContain(
          'warning: 198.51.100.99 is none of the relay IPs configured for contoso (203.0.113.10)',
        );
        expect(r.stdout).not.toContain('Evidence that 198.51.100.99 is a legitimate sender');
        expect(r.stdout).toContain('What we know about 198.51.100.99');
        expect(r.stdout).toContain('Note: 198.51.100.99 is not one of the relay IPs configured for this customer');
        expect(r.stdout).toContain('Note: SPF does not authorise 198.51.100.99 for any of the sending domains');
        expect(r.stdout).toContain(
          'contoso.example: v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all -> SPF result for 198.51.100.99: fail',
        );
        const mail = await simpleParser(await readFile(out));
        expect(mail.text).toContain('What we know about 198.51.100.99');
        const md = await cli([...args, '--ip', '198.51.100.99', '--markdown']);
        const unescaped = md.stdout.replaceAll('\\', ''); // Markdown escapes of . ( ) in our own text
        expect(unescaped).toContain('## What we know about 198.51.100.99');
        expect(unescaped).toContain('> **Note:** 198.51.100.99 is not one of the relay IPs');
        // The configured relay IP whose SPF passes keeps the heading, without notes.
        const ok = await cli([...args, '--ip', '203.0.113.10']);
        expect(ok.stderr).toBe(`wrote ${out} (to delist@messaging.microsoft.com)\n`);
        expect(ok.stdout).toContain('Evidence that 203.0.113.10 is a legitimate sender');
        expect(ok.stdout).not.toContain('Note:');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('delist refuses a private IP and a reply that names another IP, writing nothing, exit 3', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relaywatch-delist-'));
      try {
        const out = join(dir, 'req.eml');
        const args = ['delist', '--config', EXAMPLE, '--tenant', 'fabrikam', '--out', out, '--dns', dns()];
        const priv = await cli([...args, '--ip', '192.168.1.20']);
        expect(priv.code).toBe(3);
        expect(priv.stderr).toContain(
          '--ip 192.168.1.20 is a private address (RFC 1918): blocklists list public addresses only',
        );
        const ndr = join(dir, 'ndr.txt');
        await writeFile(
          ndr,
          '550 5.7.606 Access denied, banned sending IP [198.51.100.7]. To request removal visit https://sender.office.com/',
        );
        const other = await cli([...args, '--ip', '198.51.100.23', '--reply-file', ndr]);
        expect(other.code).toBe(3);
        expect(other.stderr).toContain('--reply-file names 198.51.100.7, not --ip 198.51.100.23');
        await expect(readFile(out)).rejects.toThrow(/ENOENT/);
        const same = await cli([...args, '--ip', '198.51.100.7', '--reply-file', ndr]);
        expect(same.code).toBe(0);
        expect(same.stderr).toContain('198.51.100.7 is none of the relay IPs configured for fabrikam');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('delist --zone renders the DNS blocklist removal guidance as text, Markdown and JSON', async () => {
      const base = ['delist', '--config', EXAMPLE, '--tenant', 'contoso', '--ip', '203.0.113.10', '--zone', 'spamcop'];
      const text = await cli(base);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('DNS blocklist delisting for 203.0.113.10 (Contoso Ltd)');
      expect(text.stdout).toContain('== SpamCop (Cisco Talos): bl.spamcop.net (spamcop)');
      expect(text.stdout).toContain('Removal: https://www.spamcop.net/bl.shtml?203.0.113.10');
      expect(text.stdout).toContain('Contact:  Northwind NOC, Northwind IT, noc@northwind.example');
      expect(text.stderr).toBe('');
      const md = await cli([...base, '--markdown']);
      expect(md.stdout).toContain('## SpamCop \\(Cisco Talos\\): `bl.spamcop.net` (`spamcop`)');
      expect(md.stdout).toContain('- **Removal:** <https://www.spamcop.net/bl.shtml?203.0.113.10>');
      const json = await cli([...base, '--zone', 'barracuda', '--json']);
      const doc = JSON.parse(json.stdout) as { schema: string; zones: { zone: string; removalUrl: string | null }[] };
      expect(doc.schema).toBe('relaywatch.delist-dnsbl/v1');
      expect(doc.zones.map((z) => z.zone)).toEqual(['spamcop', 'barracuda']);
      // the Barracuda form takes the IP in its URL (issue 16)
      expect(doc.zones[1]?.removalUrl).toBe('https://www.barracudacentral.org/rbl/removal-request/203.0.113.10');
      const mixed = await cli([...base, '--out', 'x.eml']);
      expect(mixed.code).toBe(3);
      expect(mixed.stderr).toContain('belong to the Microsoft request');
    });

    it('delist says which --out it cannot write, exit 3', async () => {
      const r = await cli([
        'delist',
        '--config',
        EXAMPLE,
        '--ip',
        '198.51.100.23',
        '--tenant',
        'fabrikam',
        '--out',
        '/nonexistent-dir/req.eml',
        '--dns',
        dns(),
      ]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('cannot write "/nonexistent-dir/req.eml"');
    });

    it('delist refuses an unknown tenant and a bad IP, exit 3', async () => {
      expect((await cli(['delist', '--config', EXAMPLE, '--ip', '1.2.3', '--tenant', 'fabrikam'])).code).toBe(3);
      const r = await cli(['delist', '--config', EXAMPLE, '--ip', '198.51.100.23', '--tenant', 'nope']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('unknown tenant "nope"');
    });

    it('mx --json names the relay endpoint; an unknown domain fails', async () => {
      const r = await cli(['mx', 'contoso.example', '--dns', dns(), '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ schema: 'relaywatch.mx/v1', status: 'pass' });
      const gone = await cli(['mx', 'gone.example', '--dns', dns()]);
      expect(gone.code).toBe(2);
      expect(gone.stdout).toContain('does not exist in DNS');
    });
  },
);

describe('relaywatch CLI without DNS servers', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relaywatch-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports every problem of a broken config with path and line, exit 3', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'msp: { name: X, contact: { name: N, email: n@x.example } }',
        'tenants:',
        '  - id: a',
        '    name: A',
        '    domains: [contoso..com]',
        '    relayIps: [10.0.0.5]',
        '',
      ].join('\n'),
    );
    const r = await cli(['check', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('tenants[0].domains[0]: "contoso..com" is not a valid domain name (line 6)');
    expect(r.stderr).toMatch(/tenants\[0\]\.relayIps\[0\]: .*10\.0\.0\.5.*private.*\(line 7\)/);
  });

  it('a missing config file says how to try the example, exit 3', async () => {
    const r = await cli(['check', '--config', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('relaywatch check --config examples/relaywatch.yaml');
  });

  it('rejects bad arguments with exit 3 and a clear message', async () => {
    expect((await cli(['spf', 'not a domain'])).code).toBe(3);
    const badIp = await cli(['spf', 'contoso.example', '--ip', '1.2.3']);
    expect(badIp.code).toBe(3);
    expect(badIp.stderr).toContain('--ip "1.2.3" is not an IPv4 or IPv6 address');
    const badDns = await cli(['mx', 'contoso.example', '--dns', '8.8.8.8']);
    expect(badDns.code).toBe(3);
    expect(badDns.stderr).toContain('udp://8.8.8.8');
    expect((await cli(['frobnicate'])).code).toBe(3);
  });

  it('--help teaches: commands, examples, exit statuses', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('check [options]');
    expect(r.stdout).toContain('relaywatch spf contoso.com --ip 203.0.113.10');
    expect(r.stdout).toContain('Exit status: 0 all pass');
    const sub = await cli(['check', '--help']);
    expect(sub.stdout).toContain('--tenant <id>');
    expect(sub.stdout).toContain('spf  SPF record');
  });

  it('a store that cannot be opened loses nothing: the report is printed, the failure said, exit 3', async () => {
    const port = await freePort();
    const args = [
      'check',
      '--config',
      EXAMPLE,
      '--dns',
      `udp://127.0.0.1:${port}`,
      '--dns-timeout',
      '200',
      '--no-blocklists',
    ];
    // a path under a regular file: the directory cannot be created (ENOTDIR)
    const file = join(await mkdtemp(join(tmpdir(), 'rw-nostore-')), 'a-file');
    await writeFile(file, 'not a directory');
    const r = await cli([...args, '--store', `sqlite:${file}/state.db`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Summary: 3 tenant(s)');
    expect(r.stdout).toContain('State: NOT recorded:');
    expect(r.stderr).toMatch(/results NOT recorded, incidents not evaluated, no alerts sent/);
    const bad = await cli([...args, '--store', 'redis:localhost']);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/invalid store "redis:localhost": unknown backend\. Accepted forms: sqlite:PATH/);
  });

  it('the real command finishes quickly with unknown verdicts when no resolver answers (the example config offline)', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'bin/relaywatch.js'),
        'check',
        '--config',
        EXAMPLE,
        '--dns',
        `udp://127.0.0.1:${port}`,
        '--dns-timeout',
        '300',
      ],
      // in a directory of its own: the default store (.relaywatch/state.db) is created there
      { encoding: 'utf8', timeout: 60_000, cwd: await mkdtemp(join(tmpdir(), 'rw-start-')) },
    );
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/State: \d+ result\(s\) stored in sqlite:\.relaywatch\/state\.db/);
    expect(r.stdout).toContain('open incidents: 0');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stdout).toContain('note: no DNS resolver answered');
    expect(r.stdout).toContain(
      'Summary: 3 tenant(s), 4 domain(s), 3 IP(s): 1 pass, 0 warn, 0 fail, 7 unknown → UNKNOWN (exit 3)',
    );
  });
});
