import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodemailerProber, xoauth2String } from '../../shared/adapters/smtp/nodemailer-prober.ts';
import { Redactor, secretVariants } from '../../shared/adapters/smtp/redact.ts';
import { type ProbeRequest, ProbeRequestError, type ProbeResult } from '../../shared/ports/smtp-prober.ts';
import {
  closedPort,
  type HostileKind,
  type HostileServer,
  LAB_QUEUE_ID,
  type SmtpLab,
  type SmtpLabScript,
  startHostileServer,
  startSmtpLab,
} from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const USER = 'scanner@contoso.example';
const PASSWORD = 'Tr0ub4dor&3-very-secret';
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.sig-secret-part';
const RCPT = 'probe-inbox@contoso.example';

let certDir: string;
let cert: SelfSignedCert;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'relaywatch-smtp-lab-'));
  cert = await makeSelfSignedCert(certDir);
});
afterAll(async () => {
  await rm(certDir, { recursive: true, force: true });
});

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function lab(script: SmtpLabScript = {}): Promise<SmtpLab> {
  const l = await startSmtpLab(script, cert);
  running.push(l);
  return l;
}

async function hostile(kind: HostileKind): Promise<HostileServer> {
  const h = await startHostileServer(kind);
  running.push(h);
  return h;
}

function request(target: { host: string; port: number }, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    host: target.host,
    port: target.port,
    ehloName: 'probe.relaywatch.test',
    tls: 'starttls-if-offered',
    from: USER,
    to: RCPT,
    allowedRecipients: [RCPT],
    tenantId: 'contoso',
    probeId: 'p-0001',
    timeouts: { stepMs: 2_000, totalMs: 5_000 },
    rejectUnauthorized: false,
    ...extra,
  };
}

const prober = new NodemailerProber({ clock: () => new Date('2026-11-27T10:00:00.000Z') });

function sentLines(r: ProbeResult): string[] {
  return r.transcript.flatMap((e) => (e.sent !== undefined ? [e.sent] : []));
}

function assertNoSecrets(r: ProbeResult): void {
  const json = JSON.stringify(r);
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  for (const s of [
    PASSWORD,
    TOKEN,
    b64(PASSWORD),
    b64(TOKEN),
    b64(`\u0000${USER}\u0000${PASSWORD}`),
    b64(xoauth2String(USER, TOKEN)),
  ]) {
    expect(json).not.toContain(s);
  }
}

describe('NodemailerProber against smtp-server', () => {
  it('sends through STARTTLS without AUTH and records every step, the TLS facts and the queue id', async () => {
    const l = await lab();
    const r = await prober.probe(request(l));
    expect(r.diagnosis.id).toBe('ok');
    expect(r.diagnosis.stage).toBe('data-end');
    expect(r.queueId).toBe(LAB_QUEUE_ID);
    expect(r.tls).not.toBeNull();
    expect(r.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(r.tls?.cipher).toBeTruthy();
    expect(r.tls?.subject).toBe('CN=localhost');
    expect(r.tls?.issuer).toBe('CN=localhost');
    expect(Date.parse(r.tls?.validTo ?? '')).toBeGreaterThan(Date.now());
    expect(r.tls?.authorized).toBe(false);
    expect(r.tls?.authorizationError).toMatch(/SELF_SIGNED/);

    const stages = [...new Set(r.transcript.map((e) => e.stage))];
    expect(stages).toEqual(['connect', 'banner', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'data-end']);
    expect(r.transcript.some((e) => e.stage === 'connect' && /^connected to 127\.0\.0\.1:\d+/.test(e.note ?? ''))).toBe(
      true,
    );
    expect(r.transcript.find((e) => e.stage === 'banner')?.reply?.[0]).toMatch(/^220 .*Microsoft ESMTP/);
    expect(r.transcript.find((e) => e.stage === 'ehlo' && e.note !== undefined)?.note).toMatch(/STARTTLS/);
    expect(sentLines(r)).toEqual([
      'EHLO probe.relaywatch.test',
      'STARTTLS',
      'EHLO probe.relaywatch.test',
      `MAIL FROM:<${USER}>`,
      `RCPT TO:<${RCPT}>`,
      'DATA',
    ]);
    const final = r.transcript.findLast((e) => e.stage === 'data-end' && e.reply !== undefined);
    expect(final?.reply?.[0]).toMatch(/^250 2\.6\.0 <.+> \[InternalId=123456789/);
    for (const s of ['connect', 'banner', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'data-end'] as const) {
      expect(r.timings[s], s).toBeTypeOf('number');
    }
    expect(r.transcript.every((e, i, a) => i === 0 || e.at >= a[i - 1]!.at)).toBe(true);

    // The message the server received carries the probe's identity.
    expect(l.received).toHaveLength(1);
    const msg = l.received[0]!;
    expect(msg.secure).toBe(true);
    expect(msg.to).toEqual([RCPT]);
    expect(msg.raw).toContain(`Message-ID: <${r.messageId}>`);
    expect(msg.raw).toMatch(/^X-Relaywatch-Probe: tenant=contoso; probe=p-0001; sent=2026-11-27T10:00:00\.000Z\r$/m);
  });

  it('verifies the certificate when the CA is given', async () => {
    const l = await lab();
    const r = await prober.probe(request(l, { ca: cert.cert, rejectUnauthorized: true }));
    expect(r.diagnosis.id).toBe('ok');
    expect(r.tls?.authorized).toBe(true);
    expect(r.tls?.authorizationError).toBeNull();
  });

  it('stops with certificate-invalid before AUTH when the certificate does not verify (the default)', async () => {
    const l = await lab({ auth: { methods: ['PLAIN'], user: USER, secret: PASSWORD } });
    const { rejectUnauthorized: _ignored, ...req } = request(l, {
      auth: { mechanism: 'PLAIN', user: USER, pass: PASSWORD },
    });
    const r = await prober.probe(req);
    expect(r.diagnosis.id).toBe('certificate-invalid');
    expect(r.diagnosis.stage).toBe('starttls');
    expect(r.tls?.subject).toBe('CN=localhost');
    expect(l.authAttempts).toHaveLength(0);
    expect(sentLines(r).some((s) => s.startsWith('AUTH'))).toBe(false);
  });

  it('sends in plaintext with tls "none" even when STARTTLS is offered', async () => {
    const l = await lab();
    const r = await prober.probe(request(l, { tls: 'none' }));
    expect(r.diagnosis.id).toBe('ok');
    expect(r.tls).toBeNull();
    expect(sentLines(r)).not.toContain('STARTTLS');
    expect(l.received[0]?.secure).toBe(false);
  });

  it('ends with a TLS diagnosis when STARTTLS is required but not offered, before any envelope', async () => {
    const l = await lab({ starttls: false });
    const r = await prober.probe(request(l, { tls: 'starttls-required' }));
    expect(r.diagnosis.id).toBe('starttls-not-offered');
    expect(r.diagnosis.stage).toBe('starttls');
    expect(r.diagnosis.detail).toMatch(/did not offer STARTTLS/);
    expect(r.tls).toBeNull();
    expect(sentLines(r)).toEqual(['EHLO probe.relaywatch.test']);
    expect(l.received).toHaveLength(0);
  });

  it.each([
    ['LOGIN', { mechanism: 'LOGIN', user: USER, pass: PASSWORD }],
    ['PLAIN', { mechanism: 'PLAIN', user: USER, pass: PASSWORD }],
  ] as const)('authenticates with %s and never records the password', async (method, auth) => {
    const l = await lab({ auth: { methods: ['PLAIN', 'LOGIN', 'XOAUTH2'], user: USER, secret: PASSWORD } });
    const r = await prober.probe(request(l, { auth }));
    expect(r.diagnosis.id).toBe('ok');
    expect(l.authAttempts).toEqual([expect.objectContaining({ method, username: USER, accepted: true })]);
    const authLines = r.transcript.filter((e) => e.stage === 'auth' && e.sent !== undefined).map((e) => e.sent);
    expect(authLines[0]).toMatch(new RegExp(`^AUTH ${method}`));
    expect(authLines.slice(1).every((s) => s === '<redacted>')).toBe(true);
    expect(r.transcript.find((e) => e.stage === 'auth' && e.reply?.[0]?.startsWith('235'))).toBeDefined();
    assertNoSecrets(r);
  });

  it('authenticates with XOAUTH2 (checked server-side) even when PLAIN is offered first', async () => {
    const l = await lab({ auth: { methods: ['PLAIN', 'LOGIN', 'XOAUTH2'], user: USER, secret: TOKEN } });
    const r = await prober.probe(request(l, { auth: { mechanism: 'XOAUTH2', user: USER, token: TOKEN } }));
    expect(r.diagnosis.id).toBe('ok');
    expect(l.authAttempts).toEqual([
      expect.objectContaining({ method: 'XOAUTH2', username: USER, accessToken: TOKEN, accepted: true }),
    ]);
    expect(sentLines(r)).toContain('AUTH XOAUTH2 <redacted>');
    assertNoSecrets(r);
  });

  it('classifies an AUTH rejection (SMTP AUTH disabled for the tenant) without leaking the token', async () => {
    const l = await lab({
      auth: {
        methods: ['XOAUTH2'],
        user: USER,
        secret: TOKEN,
        reject: {
          code: 535,
          message: '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
        },
      },
    });
    const r = await prober.probe(request(l, { auth: { mechanism: 'XOAUTH2', user: USER, token: TOKEN } }));
    expect(r.diagnosis.id).toBe('smtp-auth-disabled-tenant');
    expect(r.diagnosis.stage).toBe('auth');
    expect(r.diagnosis.reply?.code).toBe(535);
    expect(l.received).toHaveLength(0);
    assertNoSecrets(r);
  });

  it('classifies a wrong password as auth-failed', async () => {
    const l = await lab({ auth: { methods: ['LOGIN'], user: USER, secret: 'another' } });
    const r = await prober.probe(request(l, { auth: { mechanism: 'LOGIN', user: USER, pass: PASSWORD } }));
    expect(r.diagnosis.id).toBe('auth-failed');
    expect(r.diagnosis.stage).toBe('auth');
    assertNoSecrets(r);
  });

  it.each([
    [
      'onMailFrom',
      {
        code: 550,
        message:
          '5.7.606 Access denied, banned sending IP [127.0.0.1]. To request removal visit https://sender.office.com/',
      },
      'mail',
      'ms-banned-ip',
    ],
    ['onRcptTo', { code: 550, message: '5.7.64 TenantAttribution; Relay Access Denied' }, 'rcpt', 'connector-mismatch'],
    ['onRcptTo', { code: 451, message: '4.7.500 Access denied, please try again later' }, 'rcpt', 'ip-throttled'],
    [
      'onData',
      { code: 550, message: '5.7.23 The message was rejected because of Sender Policy Framework violation' },
      'data-end',
      'spf-fail',
    ],
  ] as const)('%s %o → %s stage, %s', async (hook, reply, stage, id) => {
    const l = await lab({ [hook]: reply });
    const r = await prober.probe(request(l));
    expect(r.diagnosis.id).toBe(id);
    expect(r.diagnosis.stage).toBe(stage);
    expect(r.diagnosis.reply?.code).toBe(reply.code);
    if (id === 'ms-banned-ip') {
      expect(r.diagnosis.ip).toBe('127.0.0.1');
      expect(r.diagnosis.delistable).toBe(true);
    }
    expect(r.queueId).toBeNull();
  });

  it('submission without AUTH → auth-required at MAIL FROM', async () => {
    const l = await lab({ onMailFrom: { code: 530, message: '5.7.57 Client not authenticated to send mail' } });
    const r = await prober.probe(request(l));
    expect(r.diagnosis.id).toBe('auth-required');
    expect(r.diagnosis.stage).toBe('mail');
  });

  it('rejects a recipient that is not a configured probe recipient before connecting', async () => {
    const h = await hostile('stall');
    await expect(prober.probe(request(h, { to: 'ceo@contoso.example' }))).rejects.toBeInstanceOf(ProbeRequestError);
    await expect(prober.probe(request(h, { to: `${RCPT}>\r\nRCPT TO:<x@y.z` }))).rejects.toThrow(/address/);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.connections()).toBe(0);
  });

  it('sanitises the X-Relaywatch-Probe values (no header injection)', async () => {
    const l = await lab();
    const r = await prober.probe(request(l, { tenantId: 'evil\r\nBcc: victim@example.com', probeId: 'p;1=2' }));
    expect(r.diagnosis.id).toBe('ok');
    const raw = l.received[0]?.raw ?? '';
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(raw).toMatch(/^X-Relaywatch-Probe: tenant=evil__Bcc:_victim@example\.com; probe=p_1=2; sent=\S+\r$/m);
  });

  it('gives every probe its own Message-ID', async () => {
    const l = await lab();
    const [a, b] = [await prober.probe(request(l)), await prober.probe(request(l))];
    expect(a.messageId).not.toBe(b.messageId);
    expect(a.messageId).toMatch(/^relaywatch\.[0-9a-f-]{36}@contoso\.example$/);
  });

  it('accepts the recipient case-insensitively', async () => {
    const l = await lab();
    const r = await prober.probe(request(l, { to: RCPT.toUpperCase() }));
    expect(r.diagnosis.id).toBe('ok');
  });
});

describe('secretVariants', () => {
  it('covers the secret and its base64 forms at every alignment', () => {
    const r = new Redactor([PASSWORD]);
    for (const prefix of ['', 'a', 'ab', '\u0000user\u0000']) {
      const encoded = Buffer.from(`${prefix}${PASSWORD}`, 'utf8').toString('base64');
      expect(r.scrub(encoded)).toContain('<redacted>');
      expect(secretVariants(PASSWORD).some((v) => encoded.includes(v))).toBe(true);
    }
    expect(r.scrub(`x ${PASSWORD} y`)).toBe('x <redacted> y');
  });
});

describe('NodemailerProber against hostile or absent servers', () => {
  it('connection refused → connection-refused at connect', async () => {
    const port = await closedPort();
    const r = await prober.probe(request({ host: '127.0.0.1', port }));
    expect(r.diagnosis.id).toBe('connection-refused');
    expect(r.diagnosis.stage).toBe('connect');
  });

  it('unresolvable host → dns-failure at connect', async () => {
    const r = await prober.probe(request({ host: 'no-such-host.invalid', port: 25 }));
    expect(r.diagnosis.id).toBe('dns-failure');
    expect(r.diagnosis.stage).toBe('connect');
  });

  it.each([
    ['stall', 'timeout'],
    ['trickle', 'timeout'],
  ] as const)('%s → %s at banner within the step limit', async (kind, id) => {
    const h = await hostile(kind);
    const started = performance.now();
    const r = await prober.probe(request(h, { timeouts: { stepMs: 1_000, totalMs: 5_000 } }));
    const elapsed = performance.now() - started;
    expect(r.diagnosis.id).toBe(id);
    expect(r.diagnosis.stage).toBe('banner');
    expect(elapsed).toBeLessThan(1_000 + 750);
  });

  it('a server that greets and then never answers EHLO → timeout at ehlo within the step limit', async () => {
    const h = await hostile('mute');
    const started = performance.now();
    const r = await prober.probe(request(h, { timeouts: { stepMs: 800, totalMs: 5_000 } }));
    expect(r.diagnosis.id).toBe('timeout');
    expect(r.diagnosis.stage).toBe('ehlo');
    expect(performance.now() - started).toBeLessThan(800 + 110 + 750);
  });

  it('the overall limit ends a probe whose steps each stay under the step limit', async () => {
    const h = await hostile('trickle');
    const started = performance.now();
    const r = await prober.probe(request(h, { timeouts: { stepMs: 10_000, totalMs: 1_200 } }));
    const elapsed = performance.now() - started;
    expect(r.diagnosis.id).toBe('timeout');
    expect(r.diagnosis.detail).toMatch(/overall/);
    expect(elapsed).toBeLessThan(1_200 + 750);
  });

  it('an oversized reply ends as a diagnosis, quickly', async () => {
    const h = await hostile('oversized');
    const started = performance.now();
    const r = await prober.probe(request(h));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(r.diagnosis.stage).toBe('banner');
    expect(r.diagnosis.id).toBe('protocol-error');
    expect(r.diagnosis.detail).toMatch(/exceeds maximum allowed size/);
    expect(JSON.stringify(r).length).toBeLessThan(64 * 1024);
  });

  it('a server that closes at once ends as a diagnosis', async () => {
    const h = await hostile('close');
    const r = await prober.probe(request(h));
    expect(r.diagnosis.id).toBe('protocol-error');
    expect(['connect', 'banner']).toContain(r.diagnosis.stage);
    expect(r.diagnosis.detail).toMatch(/closed/i);
  });
});
