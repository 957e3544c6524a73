/**
 * `relaywatch check` with state, incidents and alerts, end to end on loopback: a real DNSBL server (rbldnsd) where
 * the customer's IP becomes listed between runs and is delisted later, three alert routes with real receivers (a
 * Slack-shaped HTTP receiver, a Standard Webhooks receiver verified with the library's own `verify`, and an SMTP
 * server whose messages are parsed with mailparser), and the embedded SQLite store in a temporary directory.
 *
 * The contract under test: exactly one alert per route when the listing appears (with the delisting packet attached
 * to the e-mail), silence while it stays, exactly one RESOLVED per route when it goes, a failed send retried on the
 * next run and never lost, and --dry-run that shows the alerts without sending or marking them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { LAB_CONFIG_HEADER } from '../support/lab-config.ts';
import { type RbldnsdServer, rbldnsdAvailable, startRbldnsd } from '../support/rbldnsd.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert } from '../support/tls-cert.ts';

const IP = '192.0.2.10';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let dir: string;
let slack: Receiver;
let hook: Receiver;
let mail: SmtpLab;
let bl: RbldnsdServer | undefined;

function config(): string {
  return `${LAB_CONFIG_HEADER}
alerts:
  allowPrivateDestinations: true # the receivers listen on 127.0.0.1
  routes:
    - id: noc-slack
      slack: { webhookUrl: { env: LAB_SLACK_URL } }
    - id: siem
      webhook: { url: { env: LAB_HOOK_URL }, secret: { env: LAB_HOOK_SECRET } }
    - id: psa
      email:
        from: relaywatch@msp.example
        to: [tickets@psa.example]
        smtp: { host: 127.0.0.1, port: ${mail.port}, requireTLS: false }
  default: [noc-slack, siem, psa]
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    relayIps: [${IP}]
`;
}

async function serveBlocklist(listed: boolean): Promise<string> {
  await bl?.stop();
  bl = await startRbldnsd({
    zones: [
      {
        name: 'lab.bl.test',
        type: 'ip4set',
        files: [
          `:127.0.0.2:Listed by the lab trap, see https://lab.bl.test/?ip=$\n127.0.0.2\n${listed ? `${IP}\n` : ''}`,
        ],
      },
    ],
  });
  return `udp://127.0.0.1:${bl.port}`;
}

/** The store the runs share: a fresh one per test (`fresh()`), SQLite in the temp dir or a DynamoDB Local table. */
let storeArgs: () => string[] = () => [];
let storeCount = 0;

function fresh(backend: 'sqlite' | 'dynamodb', dynamo: () => DynamoDbLocal): void {
  storeCount++;
  const n = storeCount;
  storeArgs =
    backend === 'sqlite'
      ? () => ['--store', `sqlite:${join(dir, `state-${n}.db`)}`]
      : () => ['--store', `dynamodb:relaywatch-e2e-${n}`, '--endpoint', dynamo().endpoint];
}

async function check(listed: boolean, extra: string[] = []) {
  const blocklistDns = await serveBlocklist(listed);
  const args = [
    'check',
    '--config',
    join(dir, 'relaywatch.yaml'),
    ...storeArgs(),
    '--zone',
    'lab',
    '--blocklist-dns',
    blocklistDns,
    '--json',
    ...extra,
  ];
  const env = { LAB_SLACK_URL: slack.url, LAB_HOOK_URL: hook.url, LAB_HOOK_SECRET: WEBHOOK_SECRET };
  const { code, stdout, stderr } = await runCliCaptured(args, env);
  const doc = JSON.parse(stdout) as {
    state: {
      opened: { id: string }[];
      resolved: { id: string }[];
      open: number;
      notifications: { route: string; kind: string; sent: boolean | null; error: string | null }[];
    };
  };
  return { code, doc, stderr };
}

const mails = async (): Promise<ParsedMail[]> => Promise.all(mail.received.map((m) => simpleParser(m.raw)));
const rb = rbldnsdAvailable();

describe.skipIf(!rb.ok && !process.env.CI).each(['sqlite', 'dynamodb'] as const)(
  `check with state, incidents and alerts on %s${rb.ok ? '' : ` (SKIPPED: ${rb.ok ? '' : rb.reason})`}`,
  (backend) => {
    // DynamoDB Local only for the DynamoDB run (it takes seconds to start).
    const dynamo: () => DynamoDbLocal =
      backend === 'dynamodb'
        ? useDynamoDbLocal()
        : () => {
            throw new Error('no DynamoDB Local in the SQLite run');
          };
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rw-state-'));
      slack = await startReceiver('/services/T000/B000/XXXX');
      hook = await startReceiver('/relaywatch');
      mail = await startSmtpLab({ starttls: false }, await makeSelfSignedCert(dir));
      await writeFile(join(dir, 'relaywatch.yaml'), config());
    });
    afterAll(async () => {
      await bl?.stop();
      await slack?.close();
      await hook?.close();
      await mail?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('clean, listed, still listed, delisted, clean: one alert per route, a retried lost send, one RESOLVED per route', async () => {
      fresh(backend, dynamo);
      const counted = [slack.bodies.length, hook.bodies.length, mail.received.length];
      expect(counted).toEqual([0, 0, 0]);
      // 1. clean: nothing to say
      const r1 = await check(false);
      expect(r1.doc.state.opened).toEqual([]);
      expect(r1.doc.state.notifications).toEqual([]);

      // 2. listed: the incident opens; Slack is down, the webhook and the e-mail arrive
      slack.status = 503;
      const r2 = await check(true);
      expect(r2.doc.state.opened).toHaveLength(1);
      const id = r2.doc.state.opened[0]!.id;
      expect(id).toMatch(/^[0-9a-z]{8}$/);
      expect(r2.doc.state.notifications.map((n) => [n.route, n.kind, n.sent])).toEqual([
        ['noc-slack', 'opened', false],
        ['siem', 'opened', true],
        ['psa', 'opened', true],
      ]);
      expect(hook.bodies).toHaveLength(1);
      expect(mail.received).toHaveLength(1);
      expect(slack.bodies).toHaveLength(0);

      // 3. still listed, Slack is back: only the lost Slack alert goes out; nothing is repeated
      slack.status = 200;
      const r3 = await check(true);
      expect(r3.doc.state.opened).toEqual([]);
      expect(r3.doc.state.notifications.map((n) => [n.route, n.kind, n.sent])).toEqual([['noc-slack', 'opened', true]]);
      expect(slack.bodies).toHaveLength(1);
      expect(hook.bodies).toHaveLength(1);
      expect(mail.received).toHaveLength(1);

      // 4. delisted: resolved, exactly one RESOLVED per route
      const r4 = await check(false);
      expect(r4.doc.state.resolved.map((i) => i.id)).toEqual([id]);
      expect(r4.doc.state.notifications.map((n) => [n.route, n.kind, n.sent])).toEqual([
        ['noc-slack', 'resolved', true],
        ['siem', 'resolved', true],
        ['psa', 'resolved', true],
      ]);
      expect(r4.doc.state.open).toBe(0);

      // 5. clean again: silence
      const r5 = await check(false);
      expect(r5.doc.state.notifications).toEqual([]);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual([2, 2, 2]);

      // The e-mails: a PSA-parseable subject, the headers, the delisting packet attached as a well-formed .eml
      const [opened, resolved] = await mails();
      expect(opened?.subject).toBe(`[relaywatch][contoso] CRITICAL: ${IP} listed by lab.bl.test #${id}`);
      expect(resolved?.subject).toBe(`[relaywatch][contoso] RESOLVED: ${IP} listed by lab.bl.test #${id}`);
      expect(opened?.headers.get('x-relaywatch-tenant')).toBe('contoso');
      expect(opened?.headers.get('x-relaywatch-incident')).toBe(id);
      expect(opened?.headers.get('x-relaywatch-check')).toBe('blocklist');
      const attachment = opened?.attachments.find((a) => a.contentType === 'message/rfc822');
      expect(attachment?.filename).toBe(`delist-${IP}-lab.eml`);
      const packet = await simpleParser(attachment!.content);
      expect(packet.subject).toContain(`${IP} on lab.bl.test`);
      expect(packet.text).toContain('https://lab.bl.test/remove');
      expect(resolved?.attachments.filter((a) => a.contentType === 'message/rfc822')).toEqual([]);

      // The webhook: signed per Standard Webhooks, verified with the library; opened then resolved
      const wh = new Webhook(WEBHOOK_SECRET);
      const events = hook.bodies.map(
        (body, i) => wh.verify(body, hook.headers[i]!) as { type: string; data: { id?: string; incidentId?: string } },
      );
      expect(events.map((e) => e.type)).toEqual(['relaywatch.incident.opened', 'relaywatch.incident.resolved']);
      // Slack: Block Kit with the incident id, opened then resolved
      expect(slack.bodies.every((b) => b.includes(id))).toBe(true);
    });

    it('--dry-run shows the alerts it would send and marks nothing: the next real run sends them', async () => {
      fresh(backend, dynamo);
      const before = [slack.bodies.length, hook.bodies.length, mail.received.length];
      const dry = await check(true, ['--dry-run']);
      expect(dry.doc.state.notifications.map((n) => [n.route, n.kind, n.sent])).toEqual([
        ['noc-slack', 'opened', null],
        ['siem', 'opened', null],
        ['psa', 'opened', null],
      ]);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual(before);
      const real = await check(true);
      expect(real.doc.state.opened).toEqual([]); // it opened in the dry run (state is recorded)
      expect(real.doc.state.notifications.map((n) => [n.route, n.kind, n.sent])).toEqual([
        ['noc-slack', 'opened', true],
        ['siem', 'opened', true],
        ['psa', 'opened', true],
      ]);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual(before.map((n) => n + 1));
    });
  },
);
