/**
 * `relaywatch probe relay|submission` end to end, in-process through runCli(), against scripted smtp-server instances
 * on loopback (STARTTLS with a self-signed certificate trusted through --ca) and a local fake of Entra ID's token
 * endpoint for OAuth. Secrets are canaries: they must not appear in any output, JSON document or error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeDocument } from '../../shared/cli/probe-render.ts';
import { startReceiver } from '../support/http-receiver.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, type SmtpLabScript, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { entraError, startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';

const BASIC_PASSWORD = 'CANARY-basic-Pa55word-91c2';
const CLIENT_SECRET = 'CANARY-client-secret-5b7e';
const ACCESS_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.CANARY-token-payload.c2lnbmF0dXJl';

let dir: string;
let cert: SelfSignedCert;
let configPath: string;
let caPath: string;

const CONFIG = `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 300
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [{ name: contoso.example, expectedMx: contoso-example.mail.protection.outlook.com }]
    relay: { sender: scanner@contoso.example }
    probeRecipients: [probe@contoso.example, second@contoso.example]
  - id: tailspin
    name: Tailspin Toys
    domains: [tailspin.example]
    submission:
      mailbox: app@tailspin.example
      auth: basic
      password: { env: LAB_TAILSPIN_PASSWORD }
    probeRecipients: [probe@tailspin.example]
  - id: wingtip
    name: Wingtip
    domains: [wingtip.example]
    submission:
      mailbox: app@wingtip.example
      auth: oauth
      entraTenantId: wingtip.onmicrosoft.com
      clientId: 00000000-0000-4000-8000-000000000002
      clientSecret: { env: LAB_WINGTIP_SECRET }
    probeRecipients: [probe@wingtip.example]
  - id: norelay
    name: No Relay Inc
    domains: [norelay.example]
`;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  // Probe results are recorded by default; these tests are about the probe, except the one that passes --store.
  const noStore = args[0] === 'probe' && !args.some((a) => a === '--no-store' || a.startsWith('--store'));
  return runCliCaptured(noStore ? [...args, '--no-store'] : args, env, FIXED_NOW);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-probe-cli-'));
  cert = await makeSelfSignedCert(dir);
  configPath = join(dir, 'relaywatch.yaml');
  caPath = join(dir, 'lab-ca.pem');
  await writeFile(configPath, CONFIG);
  await writeFile(caPath, cert.cert);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withLab<T>(script: SmtpLabScript, fn: (lab: SmtpLab) => Promise<T>): Promise<T> {
  const lab = await startSmtpLab(script, cert);
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}

function target(lab: SmtpLab): string[] {
  return ['--host', lab.host, '--port', String(lab.port), '--ca', caPath, '--config', configPath];
}

describe('relaywatch probe relay', () => {
  it('delivers: exit 0, diagnosis ok, STARTTLS used, the message carries the probe headers', async () => {
    await withLab({}, async (lab) => {
      const r = await cli(['probe', 'relay', '-t', 'contoso', '--json', ...target(lab)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as ProbeDocument;
      expect(doc.schema).toBe('relaywatch.probe/v1');
      expect(doc.diagnosis.id).toBe('ok');
      expect(doc.diagnosis.severity).toBe('info');
      expect(doc.target).toMatchObject({
        host: '127.0.0.1',
        port: lab.port,
        tls: 'starttls-if-offered',
        hostSource: 'override',
      });
      expect(doc.tls?.authorized).toBe(true);
      expect(doc.tls?.version).toMatch(/^TLSv1\.[23]$/);
      expect(doc.queueId).toBe('123456789');
      expect(doc.auth).toBeNull();
      expect(doc.transcript.map((e) => e.stage)).toEqual(
        expect.arrayContaining(['connect', 'banner', 'ehlo', 'starttls', 'mail', 'rcpt', 'data', 'data-end']),
      );
      expect(Object.keys(doc.timings)).toContain('data-end');
      expect(lab.received).toHaveLength(1);
      const msg = lab.received[0]!;
      expect(msg.from).toBe('scanner@contoso.example');
      expect(msg.to).toEqual(['probe@contoso.example']);
      expect(msg.secure).toBe(true);
      expect(msg.raw).toContain(`Message-ID: <${doc.messageId}>`);
      expect(msg.raw).toMatch(new RegExp(`X-Relaywatch-Probe: tenant=contoso; probe=${doc.probeId}; sent=2026-`));
    });
  });

  it('a Microsoft blocklist reply: exit 2, ms-banned-ip with the IP, and the human report says what to do', async () => {
    const ban = {
      code: 550,
      message:
        '5.7.606 Access denied, banned sending IP [203.0.113.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
    };
    await withLab({ onRcptTo: ban }, async (lab) => {
      const json = await cli(['probe', 'relay', '-t', 'contoso', '--json', ...target(lab)]);
      expect(json.code).toBe(2);
      const doc = JSON.parse(json.stdout) as ProbeDocument;
      expect(doc.diagnosis).toMatchObject({ id: 'ms-banned-ip', ip: '203.0.113.10', delistable: true, stage: 'rcpt' });
      expect(doc.diagnosis.reply?.enhanced).toBe('5.7.606');

      const human = await cli(['probe', 'relay', '-t', 'contoso', ...target(lab)]);
      expect(human.code).toBe(2);
      expect(human.stdout).toContain('Diagnosis: ms-banned-ip (error)');
      expect(human.stdout).toContain('S: 550 5.7.606 Access denied, banned sending IP [203.0.113.10]');
      expect(human.stdout).toContain('relaywatch delist --ip 203.0.113.10 --tenant contoso');
      expect(lab.received).toHaveLength(0);
    });
  });

  it('--to picks another configured recipient; any other address is refused before connecting (exit 3)', async () => {
    await withLab({}, async (lab) => {
      const ok = await cli([
        'probe',
        'relay',
        '-t',
        'contoso',
        '--to',
        'SECOND@contoso.example',
        '--json',
        ...target(lab),
      ]);
      expect(ok.code).toBe(0);
      expect(lab.received[0]?.to).toEqual(['second@contoso.example']);
      const bad = await cli(['probe', 'relay', '-t', 'contoso', '--to', 'someone@elsewhere.example', ...target(lab)]);
      expect(bad.code).toBe(3);
      expect(bad.stderr).toMatch(/not one of tenant contoso's probe recipients/);
      expect(lab.received).toHaveLength(1);
    });
  });

  it('a tenant without relay settings or probe recipients is a clear configuration error (exit 3)', async () => {
    const r = await cli(['probe', 'relay', '-t', 'norelay', '--config', configPath]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no probeRecipients/);
    const s = await cli(['probe', 'relay', '-t', 'tailspin', '--config', configPath]);
    expect(s.code).toBe(3);
    expect(s.stderr).toMatch(/tenant tailspin has no relay section: add relay: \{ sender: /);
    const u = await cli(['probe', 'relay', '-t', 'nobody', '--config', configPath]);
    expect(u.code).toBe(3);
    expect(u.stderr).toMatch(/unknown tenant "nobody"; the config has: contoso, tailspin, wingtip, norelay/);
    const k = await cli(['probe', 'sideways', '-t', 'contoso', '--config', configPath]);
    expect(k.code).toBe(3);
    expect(k.stderr).toMatch(/'sideways' is invalid for argument 'kind'\. Allowed choices are relay, submission/);
  });

  it('a --ca that is missing or holds no certificate is a usage error naming it, before any connection', async () => {
    const notPem = join(dir, 'not-a-cert.txt');
    await writeFile(notPem, 'hello');
    const bad = await cli(['probe', 'relay', '-t', 'contoso', '--config', configPath, '--ca', notPem]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`--ca "${notPem}" holds no PEM certificate`);
    const missing = await cli([
      'probe',
      'relay',
      '-t',
      'contoso',
      '--config',
      configPath,
      '--ca',
      join(dir, 'nope.pem'),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read --ca ".*nope\.pem": ENOENT/);
    const plain = await cli([
      'probe',
      'submission',
      '-t',
      'wingtip',
      '--config',
      configPath,
      '--authority-host',
      'http://login.example',
    ]);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain('--authority-host must be an https:// URL');
  });

  it('without --host the relay endpoint is the sender domain’s expectedMx', async () => {
    // The endpoint does not resolve here (no Internet): the probe ends as a DNS failure, not a crash.
    const r = await cli(['probe', 'relay', '-t', 'contoso', '--json', '--timeout', '10', '--config', configPath]);
    const doc = JSON.parse(r.stdout) as ProbeDocument;
    expect(doc.target).toMatchObject({
      host: 'contoso-example.mail.protection.outlook.com',
      port: 25,
      hostSource: 'expected-mx',
    });
    expect(['dns-failure', 'connection-refused', 'timeout']).toContain(doc.diagnosis.id);
    expect(r.code).toBe(2);
  });
});

describe('relaywatch probe submission with Basic authentication', () => {
  const auth = { methods: ['LOGIN', 'PLAIN'] as const, user: 'app@tailspin.example', secret: BASIC_PASSWORD };

  it('delivers with AUTH LOGIN over STARTTLS and carries the Basic-auth retirement warning; the password is nowhere', async () => {
    await withLab({ auth: { ...auth, methods: [...auth.methods] } }, async (lab) => {
      const env = { LAB_TAILSPIN_PASSWORD: BASIC_PASSWORD };
      const r = await cli(['probe', 'submission', '-t', 'tailspin', '--json', ...target(lab)], env);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as ProbeDocument;
      expect(doc.diagnosis.id).toBe('ok');
      expect(doc.auth).toEqual({ mechanism: 'LOGIN', user: 'app@tailspin.example' });
      expect(doc.target.tls).toBe('starttls-required');
      expect(doc.findings.map((f) => f.code)).toEqual(['submission-basic-auth']);
      expect(doc.findings[0]?.message).toMatch(/in 34 days/);
      expect(lab.authAttempts).toEqual([expect.objectContaining({ method: 'LOGIN', accepted: true })]);
      const human = await cli(['probe', 'submission', '-t', 'tailspin', ...target(lab)], env);
      expect(human.stdout).toContain('! submission-basic-auth');
      for (const text of [r.stdout, r.stderr, human.stdout, human.stderr]) {
        expect(text).not.toContain(BASIC_PASSWORD);
        expect(text).not.toContain(Buffer.from(BASIC_PASSWORD).toString('base64'));
      }
    });
  });

  it('records the result in the store; history --detail prints the stored transcript, without the password', async () => {
    await withLab({ auth: { ...auth, methods: ['LOGIN'] } }, async (lab) => {
      const env = { LAB_TAILSPIN_PASSWORD: BASIC_PASSWORD };
      const store = `sqlite:${join(dir, `probe-store-${lab.port}.db`)}`;
      const r = await cli(['probe', 'submission', '-t', 'tailspin', ...target(lab), '--store', store], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Recorded in ${store}`);
      const json = await cli(
        ['probe', 'submission', '-t', 'tailspin', ...target(lab), '--store', store, '--json'],
        env,
      );
      expect((JSON.parse(json.stdout) as { recorded: { store: string } | null }).recorded?.store).toBe(store);
      const skipped = await cli(['probe', 'submission', '-t', 'tailspin', ...target(lab), '--no-store', '--json'], env);
      expect((JSON.parse(skipped.stdout) as { recorded: unknown }).recorded).toBeNull();

      const history = await cli(['history', 'tailspin', '--config', configPath, '--store', store]);
      expect(history.stdout.match(/WARN +probe-submission +app@tailspin\.example/g)).toHaveLength(2);
      expect(history.stdout).not.toContain('transcript:');
      const detail = await cli([
        'history',
        'tailspin',
        '--config',
        configPath,
        '--store',
        store,
        '--check',
        'probe-submission',
        '--limit',
        '1',
        '--detail',
      ]);
      expect(detail.code).toBe(0);
      expect(detail.stdout).toContain('diagnosis: ok (Accepted)');
      expect(detail.stdout).toContain('transcript:');
      expect(detail.stdout).toMatch(/C: EHLO /);
      expect(detail.stdout).toMatch(/C: AUTH LOGIN/);
      expect(detail.stdout).toMatch(/S: 235 /);
      expect(detail.stdout).toMatch(/TLS: TLSv1\.[23] .*verified/);
      const doc = JSON.parse(
        (await cli(['history', 'tailspin', '--config', configPath, '--store', store, '--detail', '--json'])).stdout,
      ) as { results: { check: string; detail: { transcript: unknown[] } }[] };
      expect(doc.results[0]?.detail.transcript.length).toBeGreaterThan(5);
      for (const text of [r.stdout, detail.stdout, JSON.stringify(doc)]) {
        expect(text).not.toContain(BASIC_PASSWORD);
        expect(text).not.toContain(Buffer.from(BASIC_PASSWORD).toString('base64'));
      }
    });
  });

  it('Exchange refusing Basic: basic-auth-disabled, exit 2', async () => {
    const reject = {
      code: 535,
      message:
        '5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]',
    };
    await withLab({ auth: { ...auth, methods: ['LOGIN'], reject } }, async (lab) => {
      const r = await cli(['probe', 'submission', '-t', 'tailspin', '--json', ...target(lab)], {
        LAB_TAILSPIN_PASSWORD: BASIC_PASSWORD,
      });
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as ProbeDocument;
      expect(doc.diagnosis).toMatchObject({ id: 'basic-auth-disabled', stage: 'auth' });
      expect(r.stdout).not.toContain(BASIC_PASSWORD);
    });
  });

  it('a password reference that does not resolve names the variable, not a value (exit 3, no connection)', async () => {
    await withLab({ auth: { ...auth, methods: ['LOGIN'] } }, async (lab) => {
      const r = await cli(['probe', 'submission', '-t', 'tailspin', ...target(lab)], {});
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/submission\.password: environment variable LAB_TAILSPIN_PASSWORD is not set/);
      expect(lab.authAttempts).toHaveLength(0);
    });
  });

  it('a server that does not offer STARTTLS: the credentials are never sent', async () => {
    await withLab({ starttls: false, auth: { ...auth, methods: ['LOGIN'] } }, async (lab) => {
      const r = await cli(['probe', 'submission', '-t', 'tailspin', '--json', ...target(lab)], {
        LAB_TAILSPIN_PASSWORD: BASIC_PASSWORD,
      });
      expect(r.code).toBe(2);
      expect((JSON.parse(r.stdout) as ProbeDocument).diagnosis.id).toBe('starttls-not-offered');
      expect(lab.authAttempts).toHaveLength(0);
    });
  });
});

describe('relaywatch probe submission with OAuth 2.0 (XOAUTH2)', () => {
  let entra: TokenEndpoint;
  beforeAll(async () => {
    entra = await startTokenEndpoint(cert);
  });
  afterAll(async () => {
    await entra?.stop();
  });
  const env = { LAB_WINGTIP_SECRET: CLIENT_SECRET };
  const oauth = (lab: SmtpLab) => [...target(lab), '--authority-host', `https://127.0.0.1:${entra.port}`];

  it('gets an app-only token by client credentials and authenticates with it byte for byte; no secret is shown', async () => {
    entra.reset();
    entra.reply({ kind: 'token', accessToken: ACCESS_TOKEN, expiresIn: 3599 });
    const auth = { methods: ['XOAUTH2' as const], user: 'app@wingtip.example', secret: ACCESS_TOKEN };
    await withLab({ auth }, async (lab) => {
      const r = await cli(['probe', 'submission', '-t', 'wingtip', '--json', ...oauth(lab)], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as ProbeDocument;
      expect(doc.diagnosis.id).toBe('ok');
      expect(doc.auth).toEqual({ mechanism: 'XOAUTH2', user: 'app@wingtip.example' });
      expect(doc.findings).toEqual([]);
      // the token request: client credentials for Exchange Online's SMTP scope, at the tenant's token endpoint
      const tokenRequests = entra.requests.filter((q) => q.path.endsWith('/oauth2/v2.0/token'));
      expect(tokenRequests).toHaveLength(1);
      expect(tokenRequests[0]?.path).toBe('/wingtip.onmicrosoft.com/oauth2/v2.0/token');
      expect(tokenRequests[0]?.form).toMatchObject({
        grant_type: 'client_credentials',
        client_id: '00000000-0000-4000-8000-000000000002',
        client_secret: CLIENT_SECRET,
        scope: 'https://outlook.office365.com/.default',
      });
      expect(entra.requests).toHaveLength(1);
      expect(lab.authAttempts).toEqual([
        expect.objectContaining({
          method: 'XOAUTH2',
          username: 'app@wingtip.example',
          accessToken: ACCESS_TOKEN,
          accepted: true,
        }),
      ]);
      const human = await cli(['probe', 'submission', '-t', 'wingtip', ...oauth(lab)], env);
      expect(human.code).toBe(0);
      for (const text of [r.stdout, r.stderr, human.stdout, human.stderr]) {
        for (const secret of [CLIENT_SECRET, ACCESS_TOKEN, 'CANARY']) expect(text).not.toContain(secret);
        expect(text).not.toContain(
          Buffer.from(`user=app@wingtip.example\x01auth=Bearer ${ACCESS_TOKEN}\x01\x01`).toString('base64'),
        );
      }
    });
  });

  it('Entra rejecting the client secret: oauth-token-failed with AADSTS7000215, exit 2, and no SMTP connection', async () => {
    entra.reset();
    entra.reply(
      entraError('invalidSecret', {
        clientId: '00000000-0000-4000-8000-000000000002',
        tenant: 'wingtip.onmicrosoft.com',
      }),
    );
    await withLab(
      { auth: { methods: ['XOAUTH2'], user: 'app@wingtip.example', secret: ACCESS_TOKEN } },
      async (lab) => {
        const r = await cli(['probe', 'submission', '-t', 'wingtip', '--json', ...oauth(lab)], env);
        expect(r.code).toBe(2);
        const doc = JSON.parse(r.stdout) as ProbeDocument;
        expect(doc.diagnosis).toMatchObject({ id: 'oauth-token-failed', stage: 'auth', failure: 'token' });
        expect(doc.diagnosis.detail).toContain('AADSTS7000215');
        expect(lab.authAttempts).toHaveLength(0);
        expect(r.stdout).not.toContain(CLIENT_SECRET);
        const human = await cli(['probe', 'submission', '-t', 'wingtip', ...oauth(lab)], env);
        expect(human.stdout).toContain('Diagnosis: oauth-token-failed (error)');
        expect(human.stdout).not.toContain(CLIENT_SECRET);
      },
    );
  });

  it('Exchange refusing the token (SMTP AUTH off for the tenant): smtp-auth-disabled-tenant', async () => {
    entra.reset();
    entra.reply({ kind: 'token', accessToken: ACCESS_TOKEN, expiresIn: 3599 });
    const reject = {
      code: 535,
      message:
        '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0501CA0054.namprd05.prod.outlook.com]',
    };
    await withLab(
      { auth: { methods: ['XOAUTH2'], user: 'app@wingtip.example', secret: ACCESS_TOKEN, reject } },
      async (lab) => {
        const r = await cli(['probe', 'submission', '-t', 'wingtip', '--json', ...oauth(lab)], env);
        expect(r.code).toBe(2);
        expect((JSON.parse(r.stdout) as ProbeDocument).diagnosis.id).toBe('smtp-auth-disabled-tenant');
        expect(r.stdout).not.toContain(ACCESS_TOKEN);
      },
    );
  });
});

describe('relaywatch check --probes: the submission probe in the monitoring cycle', () => {
  async function siteConfig(lab: SmtpLab): Promise<string> {
    const path = join(dir, `check-probes-${lab.port}.yaml`);
    await writeFile(
      path,
      `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 200
alerts:
  allowPrivateDestinations: true # the receivers listen on 127.0.0.1
  routes:
    - id: hook
      webhook: { url: { env: LAB_HOOK_URL }, secret: { env: LAB_HOOK_SECRET } }
  default: [hook]
tenants:
  - id: tailspin
    name: Tailspin Toys
    domains: [tailspin.example]
    submission: { mailbox: app@tailspin.example, auth: basic, password: { env: LAB_TAILSPIN_PASSWORD }, host: 127.0.0.1, port: ${lab.port} }
    probeRecipients: [probe@tailspin.example]
  - id: norelay
    name: No Relay Inc
    domains: [norelay.example]
`,
    );
    return path;
  }

  it('a refused login is a probe-submission failure; twice in a row opens one incident and one alert, with no password anywhere', async () => {
    const hook = await startReceiver('/hook');
    hook.status = 204;
    const received = hook.bodies;
    const hookUrl = hook.url;
    const reject = {
      code: 535,
      message: '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.',
    };
    try {
      await withLab(
        { auth: { methods: ['LOGIN'], user: 'app@tailspin.example', secret: BASIC_PASSWORD, reject } },
        async (lab) => {
          const config = await siteConfig(lab);
          const store = `sqlite:${join(dir, `state-${lab.port}.db`)}`;
          const env = {
            LAB_TAILSPIN_PASSWORD: BASIC_PASSWORD,
            LAB_HOOK_URL: hookUrl,
            LAB_HOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
          };
          const args = [
            'check',
            '--config',
            config,
            '--probes',
            '--probe-ca',
            caPath,
            '--no-blocklists',
            '--store',
            store,
            '--json',
          ];
          const first = await cli(args, env);
          const doc = JSON.parse(first.stdout) as {
            tenants: { id: string; checks: { kind: string; status: string; findings: { code: string }[] }[] }[];
            state: {
              opened: { id: string; check: string }[];
              notifications: { route: string; sent: boolean | null }[];
            };
          };
          const tailspin = doc.tenants.find((t) => t.id === 'tailspin');
          const probe = tailspin?.checks.find((c) => c.kind === 'probe-submission');
          expect(probe?.status).toBe('fail');
          expect(probe?.findings.map((f) => f.code)).toEqual([
            'probe-smtp-auth-disabled-mailbox',
            'submission-basic-auth',
          ]);
          expect(doc.tenants.find((t) => t.id === 'norelay')?.checks).toEqual([]);
          expect(doc.state.opened).toEqual([]);
          const second = JSON.parse((await cli(args, env)).stdout) as typeof doc;
          expect(second.state.opened.map((i) => i.check)).toEqual(['probe-submission']);
          expect(second.state.notifications.map((n) => [n.route, n.sent])).toEqual([['hook', true]]);
          expect(received).toHaveLength(1);
          expect(received[0]).toContain(
            '"title":"Submission probe from app@tailspin.example: SMTP AUTH disabled for the mailbox"',
          );
          for (const text of [first.stdout, first.stderr, ...received]) {
            expect(text).not.toContain(BASIC_PASSWORD);
            expect(text).not.toContain(Buffer.from(BASIC_PASSWORD).toString('base64'));
          }
          expect(lab.authAttempts.length).toBe(2);
        },
      );
    } finally {
      await hook.close();
    }
  });

  it('a secret that is not set makes the probe unknown, not a failure, and the run goes on', async () => {
    await withLab(
      { auth: { methods: ['LOGIN'], user: 'app@tailspin.example', secret: BASIC_PASSWORD } },
      async (lab) => {
        const config = await siteConfig(lab);
        const r = await cli(
          ['check', '--config', config, '--probes', '--probe-ca', caPath, '--no-blocklists', '--no-store', '--json'],
          {},
        );
        const doc = JSON.parse(r.stdout) as {
          tenants: { id: string; checks: { kind: string; status: string; findings: { message: string }[] }[] }[];
        };
        const probe = doc.tenants.find((t) => t.id === 'tailspin')?.checks.find((c) => c.kind === 'probe-submission');
        expect(probe?.status).toBe('unknown');
        expect(probe?.findings[0]?.message).toMatch(/environment variable LAB_TAILSPIN_PASSWORD is not set/);
        expect(lab.authAttempts).toHaveLength(0);
        // The text report shows the probe under the tenant (it used to count in the summary only).
        const text = await cli(
          ['check', '--config', config, '--probes', '--probe-ca', caPath, '--no-blocklists', '--no-store'],
          {},
        );
        const tailspin = text.stdout.slice(text.stdout.indexOf('tailspin — Tailspin Toys'));
        expect(tailspin).toMatch(
          /submission \(SMTP AUTH\)\n(?:.*\n)*? {4}\? UNKNOWN +submission probe app@tailspin\.example/,
        );
        expect(tailspin).toContain('environment variable LAB_TAILSPIN_PASSWORD is not set');
      },
    );
  });
});
