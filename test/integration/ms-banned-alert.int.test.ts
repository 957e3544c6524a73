/**
 * The headline feature end to end: `relaywatch check --probes` against an SMTP server that answers the submission
 * probe like Exchange Online does for a listed IP (`550 5.7.606 Access denied, banned sending IP [x.x.x.x]`), and the
 * incident's alert on every route carrying the Microsoft delisting request: the `.eml` attached to the e-mail (parsed
 * with mailparser), the packet in the Standard Webhooks payload (verified with the library), and the essentials inline
 * in Slack and Teams (real HTTP receivers on loopback).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const IP = '203.0.113.10';
const PASSWORD = 'lab-Basic-Pa55word!';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const BAN = {
  code: 550,
  message: `5.7.606 Access denied, banned sending IP [${IP}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)`,
};

let dir: string;
let cert: SelfSignedCert;
let exchange: SmtpLab;
let psa: SmtpLab;
let slack: Receiver;
let teams: Receiver;
let hook: Receiver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-ms-banned-'));
  cert = await makeSelfSignedCert(dir);
  exchange = await startSmtpLab(
    { auth: { methods: ['LOGIN'], user: 'app@tailspin.example', secret: PASSWORD }, onMailFrom: BAN },
    cert,
  );
  psa = await startSmtpLab({ starttls: false }, cert);
  slack = await startReceiver('/services/T000/B000/XXXX');
  teams = await startReceiver('/workflows/abc/triggers/manual/paths/invoke');
  teams.status = 202;
  hook = await startReceiver('/relaywatch');
  await writeFile(join(dir, 'ca.pem'), cert.cert);
  await writeFile(
    join(dir, 'relaywatch.yaml'),
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
    - id: noc-slack
      slack: { webhookUrl: { env: LAB_SLACK_URL } }
    - id: noc-teams
      teams: { webhookUrl: { env: LAB_TEAMS_URL } }
    - id: siem
      webhook: { url: { env: LAB_HOOK_URL }, secret: { env: LAB_HOOK_SECRET } }
    - id: psa
      email:
        from: relaywatch@msp.example
        to: [tickets@psa.example]
        smtp: { host: 127.0.0.1, port: ${psa.port}, requireTLS: false }
  default: [noc-slack, noc-teams, siem, psa]
tenants:
  - id: tailspin
    name: Tailspin Toys
    domains: [tailspin.example]
    relayIps: [${IP}]
    submission: { mailbox: app@tailspin.example, auth: basic, password: { env: LAB_TAILSPIN_PASSWORD }, host: 127.0.0.1, port: ${exchange.port} }
    probeRecipients: [probe@tailspin.example]
`,
  );
});
afterAll(async () => {
  await exchange?.stop();
  await psa?.stop();
  await slack?.close();
  await teams?.close();
  await hook?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an ms-banned-ip incident from the submission probe', () => {
  it('alerts on every route with the Microsoft delisting request', async () => {
    const args = [
      'check',
      '--config',
      join(dir, 'relaywatch.yaml'),
      '--probes',
      '--probe-ca',
      join(dir, 'ca.pem'),
      '--no-blocklists',
      '--store',
      `sqlite:${join(dir, 'state.db')}`,
      '--json',
    ];
    const env = {
      LAB_TAILSPIN_PASSWORD: PASSWORD,
      LAB_SLACK_URL: slack.url,
      LAB_TEAMS_URL: teams.url,
      LAB_HOOK_URL: hook.url,
      LAB_HOOK_SECRET: WEBHOOK_SECRET,
    };
    type Doc = {
      tenants: { checks: { kind: string; findings: { code: string }[] }[] }[];
      state: { opened: { id: string; check: string }[]; notifications: { route: string; sent: boolean | null }[] };
    };
    const first = JSON.parse((await runCliCaptured(args, env)).stdout) as Doc;
    expect(first.tenants[0]?.checks.find((c) => c.kind === 'probe-submission')?.findings[0]?.code).toBe(
      'probe-ms-banned-ip',
    );
    const second = JSON.parse((await runCliCaptured(args, env)).stdout) as Doc;
    expect(second.state.opened.map((i) => i.check)).toEqual(['probe-submission']);
    expect(second.state.notifications.map((n) => [n.route, n.sent])).toEqual([
      ['noc-slack', true],
      ['noc-teams', true],
      ['siem', true],
      ['psa', true],
    ]);

    // Webhook: the packet in the payload, with the essentials and the .eml addressed per the recipient rules.
    expect(hook.bodies).toHaveLength(1);
    const payload = new Webhook(WEBHOOK_SECRET).verify(hook.bodies[0] ?? '', hook.headers[0] ?? {}) as {
      data: {
        packet?: {
          filename: string;
          eml: string;
          text: string;
          microsoft?: { ip: string; code: string | null; portal: string | null; to: string; recipient: string | null };
        };
        links: { url: string }[];
      };
    };
    const packet = payload.data.packet;
    expect(packet?.microsoft).toEqual({
      ip: IP,
      code: '5.7.606',
      portal: 'https://sender.office.com/',
      to: 'delist@messaging.microsoft.com',
      recipient: 'app@tailspin.example',
    });
    expect(packet?.filename).toBe(`delist-${IP}-microsoft.eml`);
    expect(payload.data.links.map((l) => l.url)).toContain('https://sender.office.com/');
    const request = await simpleParser(packet?.eml ?? '');
    expect(request.to && !Array.isArray(request.to) ? request.to.text : '').toContain('delist@messaging.microsoft.com');
    expect(request.subject).toContain(IP);
    expect(request.text).toContain('5.7.606 Access denied, banned sending IP');
    expect(request.text).toContain('tailspin.example');

    // E-mail: the request attached as a .eml.
    expect(psa.received).toHaveLength(1);
    const mail = await simpleParser(psa.received[0]?.raw ?? '');
    const attachment = mail.attachments.find((a) => a.contentType === 'message/rfc822');
    expect(attachment?.filename).toBe(`delist-${IP}-microsoft.eml`);
    expect(attachment?.contentDisposition).toBe('attachment');
    const attached = await simpleParser(attachment?.content ?? Buffer.alloc(0));
    expect(attached.subject).toBe(request.subject);
    expect(mail.text).toContain('sender.office.com');

    // Slack and Teams: the essentials inline and where the full request is.
    for (const body of [slack.bodies[0] ?? '', teams.bodies[0] ?? '']) {
      expect(body).toContain(`${IP} is on Microsoft`);
      expect(body).toContain('https://sender.office.com/');
      expect(body).toContain('delist@messaging.microsoft.com');
      expect(body).toContain('app@tailspin.example');
      expect(body).toContain(`delist-${IP}-microsoft.eml, attached to the e-mail alert`);
    }
    for (const text of [...hook.bodies, ...slack.bodies, ...teams.bodies, psa.received[0]?.raw ?? '']) {
      expect(text).not.toContain(PASSWORD);
    }
  });
});
