/**
 * `relaywatch agent` end to end on loopback: a scripted "what is my IP" DNS server, a scripted SMTP relay
 * (smtp-server), and an ingest receiver that verifies every request with the shared verification function
 * (`verifyRequest`, what the ingest Lambda uses). In-process through runCli() for --once, and as a real process for
 * the loop (stopped with SIGTERM).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeDocument } from '../../shared/cli/probe-render.ts';
import { MemoryReplayGuard, verifyRequest } from '../../shared/ingest/signature.ts';
import type { AgentReport } from '../../shared/use-cases/agent-cycle.ts';
import { type DnsServer, dnsServer, type IpEchoServer, ipEchoServer } from '../support/answer-dns.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert } from '../support/tls-cert.ts';

/** An agent secret of the required form (rwas_ + ≥ 32 bytes base64url), recognisable as a canary. */
const OTHER_SECRET = `rwas_${'o'.repeat(43)}`;
const SECRET = 'rwas_CANARY-agent-secret-3d9f0b-0123456789abcdefghij';
const root = new URL('../../', import.meta.url).pathname;

interface Ingest extends Receiver {
  /** Why each refused request was refused (verifyRequest's reason). */
  readonly rejected: string[];
}

/** The ingest as the Lambda will be: every request verified with the shared `verifyRequest` before it counts. */
async function receiver(): Promise<Ingest> {
  const replay = new MemoryReplayGuard();
  const rejected: string[] = [];
  const r = await startReceiver('/ingest', async (body, headers, req) => {
    const v = await verifyRequest({
      headers: headers as Record<string, string>,
      body,
      request: { method: req.method ?? '', host: req.headers.host ?? '', path: req.url ?? '' },
      sourceIp: req.socket.remoteAddress ?? null,
      agentFor: async (id) => (id === 'contoso-hq' ? { tenantId: 'contoso', secrets: [SECRET] } : null),
      replay,
    });
    if (v.ok) return null;
    rejected.push(v.reason);
    return { status: 401, body: v.message };
  });
  r.status = 202;
  return Object.assign(r, { rejected });
}

let dir: string;
let dns: DnsServer;
let echo: IpEchoServer;
let lab: SmtpLab;
let ingest: Ingest;

function config(opts: { relayIps: string; ingest?: boolean; secret?: boolean; agent?: boolean }): string {
  return `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 300
${
  opts.agent === false
    ? ''
    : `agent:
  id: contoso-hq
  tenant: contoso
${opts.ingest === false ? '' : `  ingestUrl: ${ingest.url}\n`}${opts.secret === false ? '' : '  secret: { env: LAB_AGENT_SECRET }\n'}  egress:
    - { dns: myip.opendns.com, type: A, server: "${dns.spec}" }
    - { https: "${echo.url}" }
  intervalMinutes: 15
  jitterSeconds: 0
`
}tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    relayIps: [${opts.relayIps}]
    relay: { sender: scanner@contoso.example }
    probeRecipients: [probe@contoso.example]
`;
}

async function siteFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function cli(args: string[], env: NodeJS.ProcessEnv = { LAB_AGENT_SECRET: SECRET }) {
  return runCliCaptured(args, env, FIXED_NOW);
}

/** The signature headers of a request, as a client would send them again. */
function signedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => k.startsWith('x-relaywatch-')));
}

/** The test addresses are documentation addresses, which the config loader rightly warns about. */
function withoutDocWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l !== '' && !/^warning: tenants\[0\]\.relayIps\[0\]: .* is a documentation address/.test(l))
    .join('\n');
}

const labArgs = () => ['--host', '127.0.0.1', '--port', String(lab.port)];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-agent-'));
  const cert = await makeSelfSignedCert(dir);
  dns = await dnsServer([{ type: 'A', data: '198.51.100.77' }]);
  echo = await ipEchoServer('198.51.100.77');
  lab = await startSmtpLab({ starttls: false }, cert);
  ingest = await receiver();
});
afterAll(async () => {
  await echo?.close();
  await lab?.stop();
  await dns?.close();
  await ingest?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('relaywatch agent --once', () => {
  it('--json without posting: the egress IP, the relay probe and a finding that the IP is the configured one', async () => {
    const path = await siteFile('print.yaml', config({ relayIps: '198.51.100.77', ingest: false, secret: false }));
    const before = lab.received.length;
    const r = await cli(['agent', '--config', path, '--once', '--json', ...labArgs()]);
    expect(withoutDocWarnings(r.stderr)).toBe('');
    const doc = JSON.parse(r.stdout) as AgentReport<ProbeDocument>;
    expect(doc.probe.diagnosis.detail ?? doc.probe.diagnosis.id).toBe('ok');
    expect(r.code).toBe(0);
    expect(doc.schema).toBe('relaywatch.agent-report/v1');
    expect(doc.agentId).toBe('contoso-hq');
    expect(doc.tenant).toEqual({ id: 'contoso', name: 'Contoso Ltd' });
    expect(doc.egress).toMatchObject({
      ok: true,
      ip: '198.51.100.77',
      method: `dns:myip.opendns.com@127.0.0.1:${dns.port} + ${echo.url}`,
      confirmedBy: [`dns:myip.opendns.com@127.0.0.1:${dns.port}`, echo.url],
    });
    expect(doc.findings.map((f) => f.code)).toEqual(['agent-egress-ip-ok']);
    expect(doc.probe.diagnosis.id).toBe('ok');
    expect(doc.probe.kind).toBe('relay');
    expect(lab.received.length).toBe(before + 1);
    expect(dns.questions).toContain('myip.opendns.com A');
  });

  it('posts the report signed; the receiver verifies it; a replay of the same request is rejected', async () => {
    const path = await siteFile('post.yaml', config({ relayIps: '198.51.100.77' }));
    const accepted = ingest.bodies.length;
    const r = await cli(['agent', '--config', path, '--once', ...labArgs()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /contoso egress 198\.51\.100\.77 .* relay probe to 127\.0\.0\.1:\d+: ok · posted \(HTTP 202, 1 attempt\)/,
    );
    expect(ingest.bodies.length).toBe(accepted + 1);
    const body = ingest.bodies.at(-1)!;
    const doc = JSON.parse(body) as AgentReport<ProbeDocument>;
    expect(doc.probe.diagnosis.id).toBe('ok');
    for (const text of [body, r.stdout, r.stderr]) expect(text).not.toContain(SECRET);
    // the same signed request sent again (a captured packet replayed) is refused
    const replayed = await fetch(ingest.url, { method: 'POST', headers: signedHeaders(ingest.headers.at(-1)), body });
    expect(replayed.status).toBe(401);
    expect(ingest.rejected.at(-1)).toBe('replayed');
    expect(ingest.bodies.length).toBe(accepted + 1);
  });

  it("an ISP address change: the site's IP is not a relay IP → agent-egress-ip-changed, exit 1", async () => {
    const path = await siteFile('changed.yaml', config({ relayIps: '203.0.113.10', ingest: false, secret: false }));
    const r = await cli(['agent', '--config', path, '--once', '--json', ...labArgs()]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as AgentReport<ProbeDocument>;
    expect(doc.findings).toEqual([
      expect.objectContaining({
        code: 'agent-egress-ip-changed',
        severity: 'warning',
        evidence: { ip: '198.51.100.77', configured: ['203.0.113.10'] },
      }),
    ]);
  });

  it('an ingest that refuses the signature: not retried, exit 3 with the reason on stderr', async () => {
    const path = await siteFile('wrong-secret.yaml', config({ relayIps: '198.51.100.77' }));
    const r = await cli(['agent', '--config', path, '--once', ...labArgs()], { LAB_AGENT_SECRET: OTHER_SECRET });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not posted after 1 attempt\(s\): .*401/);
    expect(ingest.rejected.at(-1)).toBe('unauthorized');
    expect(r.stderr).not.toContain(OTHER_SECRET);
  });

  it('configuration gaps are exit 3 with what to add', async () => {
    const none = await cli([
      'agent',
      '--config',
      await siteFile('none.yaml', config({ relayIps: '198.51.100.77', agent: false })),
      '--once',
    ]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/has no agent section: add agent: \{ id:/);
    const noSecret = await cli([
      'agent',
      '--config',
      await siteFile('nosecret.yaml', config({ relayIps: '198.51.100.77', secret: false })),
      '--once',
    ]);
    expect(noSecret.code).toBe(3);
    expect(noSecret.stderr).toMatch(/agent\.ingestUrl is set but agent\.secret is not/);
    const unset = await cli(
      ['agent', '--config', await siteFile('unset.yaml', config({ relayIps: '198.51.100.77' })), '--once'],
      {},
    );
    expect(unset.code).toBe(3);
    expect(unset.stderr).toMatch(/agent\.secret: environment variable LAB_AGENT_SECRET is not set/);
    const before = ingest.bodies.length;
    const weak = await cli(
      ['agent', '--config', await siteFile('weak.yaml', config({ relayIps: '198.51.100.77' })), '--once'],
      { LAB_AGENT_SECRET: 'hunter2-is-not-a-secret' },
    );
    expect(weak.code).toBe(3);
    expect(weak.stderr).toMatch(
      /agent\.secret: an agent secret starts with rwas_ \(generate one with: relaywatch agent secret\)/,
    );
    expect(weak.stderr).not.toContain('hunter2');
    expect(ingest.bodies.length).toBe(before);
  });

  it('agent secret prints a new rwas_ secret of 32 random bytes, bare or as JSON', async () => {
    const one = await cli(['agent', 'secret'], {});
    const two = await cli(['agent', 'secret', '--json'], {});
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^rwas_[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(one.stdout.trim().slice(5), 'base64url')).toHaveLength(32);
    const parsed = JSON.parse(two.stdout) as { secret: string };
    expect(parsed.secret).toMatch(/^rwas_[A-Za-z0-9_-]{43}$/);
    expect(parsed.secret).not.toBe(one.stdout.trim());
    expect(one.stderr).toBe('');
  });
});

describe('relaywatch agent (loop mode, a real process)', () => {
  it('runs cycle after cycle, posting each with --heartbeat-minutes 0, and stops cleanly on SIGTERM', async () => {
    const path = await siteFile('loop.yaml', config({ relayIps: '198.51.100.77' }));
    const before = ingest.bodies.length;
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/relaywatch.js'),
        'agent',
        '--config',
        path,
        '--interval',
        '0.005',
        '--heartbeat-minutes',
        '0',
        ...labArgs(),
      ],
      { env: { ...process.env, LAB_AGENT_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 20_000;
    while (ingest.bodies.length < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await exited;
    expect(withoutDocWarnings(stderr)).toBe('');
    expect(ingest.bodies.length).toBeGreaterThanOrEqual(before + 3);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3);
  });

  it('posts a steady ok site once, then only its heartbeats: 1 + heartbeats posts for N cycles', async () => {
    const path = await siteFile('heartbeat.yaml', config({ relayIps: '198.51.100.77' }));
    const before = ingest.bodies.length;
    const intervalMin = 0.005; // 0.3 s
    const heartbeatMin = 0.02; // 1.2 s: every 4th cycle or so
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/relaywatch.js'),
        'agent',
        '--config',
        path,
        '--json',
        '--interval',
        String(intervalMin),
        '--heartbeat-minutes',
        String(heartbeatMin),
        ...labArgs(),
      ],
      { env: { ...process.env, LAB_AGENT_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const cycles = () => stdout.split('\n').filter((l) => l.trim() !== '').length;
    const deadline = Date.now() + 30_000;
    while (cycles() < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(withoutDocWarnings(stderr)).toBe('');
    const runs = stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as AgentReport<ProbeDocument>).at);
    expect(runs.length).toBeGreaterThanOrEqual(12);
    // The rule replayed on the cycles' own times: the first, then each one a heartbeat (less half an interval) after the
    // last posted. The last cycle is left out: SIGTERM may have cut its post short.
    const expected: string[] = [];
    let lastMs = Number.NEGATIVE_INFINITY;
    for (const at of runs.slice(0, -1)) {
      const ms = Date.parse(at);
      if (ms - lastMs >= (heartbeatMin - intervalMin / 2) * 60_000) {
        expected.push(at);
        lastMs = ms;
      }
    }
    const posted = ingest.bodies
      .slice(before)
      .map((b) => (JSON.parse(b) as AgentReport<ProbeDocument>).at)
      .filter((at) => at !== runs.at(-1));
    expect(posted).toEqual(expected);
    expect(posted[0]).toBe(runs[0]);
    expect(posted.length).toBeGreaterThanOrEqual(2);
    expect(posted.length).toBeLessThan(runs.length / 2);
    // Each heartbeat carries the ok cycles held back since the report before it, so every probe is counted once.
    const held = ingest.bodies
      .slice(before)
      .map((b) => JSON.parse(b) as AgentReport<ProbeDocument>)
      .filter((r) => r.at !== runs.at(-1))
      .map((r) => r.unpostedOk ?? 0);
    const gaps = posted.map((at, i) => (i === 0 ? 0 : runs.indexOf(at) - runs.indexOf(posted[i - 1]!) - 1));
    expect(held).toEqual(gaps);
    expect(held.slice(1).every((n) => n > 0)).toBe(true);
  });
});
