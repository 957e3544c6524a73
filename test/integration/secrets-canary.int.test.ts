/**
 * Every secret relaywatch handles gets a canary value: the Basic password, the OAuth client secret, the access token
 * Entra ID issues, the agent's HMAC secret and a blocklist zone key. Then every command that can touch them runs
 * against loopback servers (scripted SMTP, a fake Entra ID, a "what is my IP" DNS server, an ingest receiver), in
 * human and JSON form, and nothing any of them writes (stdout, stderr, JSON documents, transcripts, delisting packets,
 * the posted report) may contain a canary, in clear or base64, nor the XOAUTH2 string built from the token.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsServer, dnsServer, type IpEchoServer, ipEchoServer } from '../support/answer-dns.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';

const CANARY = {
  basicPassword: 'CANARY1-basic-password-q8Z',
  clientSecret: 'CANARY2-client-secret-w4X',
  accessToken: 'eyJhbGciOiJub25lIn0.CANARY3-access-token.sig',
  agentSecret: 'rwas_CANARY4-agent-secret-k2V-0123456789abcdefghijkl',
  zoneKey: 'canary5zonekeyabcdef',
};

function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}

const XOAUTH2 = Buffer.from(`user=app@wingtip.example\x01auth=Bearer ${CANARY.accessToken}\x01\x01`).toString('base64');

let dir: string;
let cert: SelfSignedCert;
let entra: TokenEndpoint;
let dns: DnsServer;
let echo: IpEchoServer;
let ingest: Receiver;
const outputs: Array<{ what: string; text: string }> = [];

async function cli(what: string, args: string[]): Promise<number> {
  const env = {
    LAB_BASIC_PASSWORD: CANARY.basicPassword,
    LAB_CLIENT_SECRET: CANARY.clientSecret,
    LAB_AGENT_SECRET: CANARY.agentSecret,
    LAB_ZONE_KEY: CANARY.zoneKey,
  };
  const r = await runCliCaptured(args, env, FIXED_NOW);
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  return r.code;
}

function config(): string {
  return `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 200
blocklists:
  resolvers: [udp://127.0.0.1:9]
  zones: { enable: [spamhaus-zen-dqs] }
  keys:
    spamhaus-zen-dqs: { env: LAB_ZONE_KEY }
agent:
  id: site-1
  tenant: tailspin
  ingestUrl: ${ingest.url}
  secret: { env: LAB_AGENT_SECRET }
  egress: [{ dns: myip.opendns.com, server: "${dns.spec}" }, { https: "${echo.url}" }]
tenants:
  - id: tailspin
    name: Tailspin Toys
    domains: [tailspin.example]
    relayIps: [198.51.100.77]
    relay: { sender: scanner@tailspin.example }
    submission: { mailbox: app@tailspin.example, auth: basic, password: { env: LAB_BASIC_PASSWORD } }
    probeRecipients: [probe@tailspin.example]
  - id: wingtip
    name: Wingtip
    domains: [wingtip.example]
    submission:
      mailbox: app@wingtip.example
      auth: oauth
      entraTenantId: wingtip.onmicrosoft.com
      clientId: 00000000-0000-4000-8000-000000000002
      clientSecret: { env: LAB_CLIENT_SECRET }
    probeRecipients: [probe@wingtip.example]
`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-canary-'));
  cert = await makeSelfSignedCert(dir);
  entra = await startTokenEndpoint(cert);
  dns = await dnsServer([{ type: 'A', data: '198.51.100.77' }]);
  echo = await ipEchoServer('198.51.100.77');
  ingest = await startReceiver('/ingest');
  ingest.status = 202;
});
afterAll(async () => {
  await echo?.close();
  await entra?.stop();
  await dns?.close();
  await ingest?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('canary secrets never leave relaywatch', () => {
  it('through probe (Basic, OAuth, refused credentials), agent, check, delist and the posted report', async () => {
    const path = join(dir, 'relaywatch.yaml');
    await writeFile(path, config());
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, cert.cert);
    const smtp = async (lab: SmtpLab) => ['--host', lab.host, '--port', String(lab.port), '--ca', ca, '--config', path];

    // Basic: accepted, then refused (the server echoes nothing secret, but our error paths run)
    for (const reject of [
      undefined,
      { code: 535, message: '5.7.139 Authentication unsuccessful, basic authentication is disabled.' },
    ]) {
      const lab = await startSmtpLab(
        {
          auth: {
            methods: ['LOGIN', 'PLAIN'],
            user: 'app@tailspin.example',
            secret: CANARY.basicPassword,
            ...(reject ? { reject } : {}),
          },
        },
        cert,
      );
      try {
        for (const json of [[], ['--json']])
          await cli('probe submission basic', ['probe', 'submission', '-t', 'tailspin', ...json, ...(await smtp(lab))]);
        expect(lab.authAttempts.length).toBeGreaterThan(0);
      } finally {
        await lab.stop();
      }
    }

    // OAuth: a token, then Entra refusing the secret with an error that echoes it back
    const oauthLab = await startSmtpLab(
      { auth: { methods: ['XOAUTH2'], user: 'app@wingtip.example', secret: CANARY.accessToken } },
      cert,
    );
    try {
      const authority = ['--authority-host', `https://127.0.0.1:${entra.port}`];
      entra.reply({ kind: 'token', accessToken: CANARY.accessToken, expiresIn: 3599 });
      for (const json of [[], ['--json']]) {
        expect(
          await cli('probe submission oauth', [
            'probe',
            'submission',
            '-t',
            'wingtip',
            ...json,
            ...authority,
            ...(await smtp(oauthLab)),
          ]),
        ).toBe(0);
      }
      entra.reply({
        kind: 'entra-error',
        status: 401,
        error: 'invalid_client',
        code: 7000215,
        text: `Invalid client secret provided: ${CANARY.clientSecret} (${CANARY.accessToken})`,
      });
      for (const json of [[], ['--json']]) {
        expect(
          await cli('probe submission oauth refused', [
            'probe',
            'submission',
            '-t',
            'wingtip',
            ...json,
            ...authority,
            ...(await smtp(oauthLab)),
          ]),
        ).toBe(2);
      }
    } finally {
      await oauthLab.stop();
    }

    // the site agent, printing and posting
    const relayLab = await startSmtpLab({ starttls: false }, cert);
    try {
      const args = ['agent', '--config', path, '--once', '--host', relayLab.host, '--port', String(relayLab.port)];
      await cli('agent --json --no-post', [...args, '--json', '--no-post']);
      await cli('agent (posting)', args);
      expect(ingest.bodies.length).toBe(1);
      outputs.push({ what: 'posted report', text: ingest.bodies.join('\n') });
    } finally {
      await relayLab.stop();
    }

    // a monitoring cycle with a keyed blocklist zone (the key goes into DNS query names, never into the report)
    const db = join(dir, 'state.db');
    await cli('check --json', ['check', '--config', path, '--json', '--dns-timeout', '200', '--store', `sqlite:${db}`]);
    await cli('check', ['check', '--config', path, '--dns-timeout', '200', '--store', `sqlite:${db}`]);
    // every stored item (results, state, incidents, events) as the bytes of the database file
    outputs.push({ what: 'state.db', text: (await readFile(db)).toString('latin1') });

    // the delisting packet, as JSON and as the .eml file
    const eml = join(dir, 'delist.eml');
    await cli('delist', [
      'delist',
      '--config',
      path,
      '--ip',
      '198.51.100.77',
      '--tenant',
      'tailspin',
      '--out',
      eml,
      '--json',
      '--dns-timeout',
      '200',
    ]);
    outputs.push({ what: 'delist .eml', text: await readFile(eml, 'utf8') });

    // the outputs are the real thing (the checks below would pass trivially on empty text)
    const all = (what: string) =>
      outputs
        .filter((o) => o.what.startsWith(what))
        .map((o) => o.text)
        .join('\n');
    expect(outputs.length).toBeGreaterThan(20);
    expect(all('probe submission basic')).toContain('submission-basic-auth');
    expect(all('probe submission basic')).toContain('basic-auth-disabled');
    expect(all('probe submission oauth refused')).toContain('AADSTS7000215');
    expect(all('posted report')).toContain('agent-egress-ip-ok');
    expect(all('check --json')).toContain('{key}.zen.dq.spamhaus.net');
    expect(all('state.db')).toContain('tailspin.example');
    expect(all('delist .eml')).toContain('198.51.100.77');
    const leaks: string[] = [];
    for (const { what, text } of outputs) {
      for (const [name, secret] of Object.entries(CANARY)) {
        for (const form of forms(secret)) if (text.includes(form)) leaks.push(`${name} in ${what}`);
      }
      if (text.includes('CANARY')) leaks.push(`a canary fragment in ${what}`);
      if (text.includes(XOAUTH2)) leaks.push(`the XOAUTH2 string in ${what}`);
    }
    expect(leaks).toEqual([]);
  });
});
