/**
 * Two `relaywatch check` runs at once on the same store (a cron overlap) against real receivers on loopback: a
 * Slack-shaped HTTP receiver, a Standard Webhooks receiver (verified with the library), an SMTP server whose messages
 * are parsed with mailparser, a real DNSBL (rbldnsd), and the store as SQLite file or DynamoDB Local table.
 *
 * The contract: exactly one message per route for each incident transition, however the two runs interleave; the
 * retry of a failed send carries the same webhook-id; the RESOLVED e-mail replies to the episode's opening message;
 * a re-opened incident's opening e-mail has a new Message-ID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { LAB_CONFIG_HEADER } from '../support/lab-config.ts';
import { type RbldnsdServer, rbldnsdAvailable, startRbldnsd } from '../support/rbldnsd.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { closedPort, type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert } from '../support/tls-cert.ts';

const IP = '192.0.2.10';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let dir: string;
let slack: Receiver;
let hook: Receiver;
let mail: SmtpLab;
let bl: RbldnsdServer | undefined;
/** The webhook-id of every attempt, accepted or not. */
const hookAttempts: string[] = [];

function config(smtpPort: number): string {
  return `${LAB_CONFIG_HEADER}
incidents:
  flapping: null
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
        smtp: { host: 127.0.0.1, port: ${smtpPort}, requireTLS: false }
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
        files: [`:127.0.0.2:Listed by the lab trap\n127.0.0.2\n${listed ? `${IP}\n` : ''}`],
      },
    ],
  });
  return `udp://127.0.0.1:${bl.port}`;
}

interface StateDoc {
  state: {
    opened: { id: string }[];
    notifications: { route: string; kind: string; sent: boolean | null }[];
    held: { incident: string; reason: string }[];
  };
}

function run(store: string[], dns: string) {
  const args = ['check', '--config', join(dir, 'relaywatch.yaml'), ...store, '--zone', 'lab'];
  const env = { LAB_SLACK_URL: slack.url, LAB_HOOK_URL: hook.url, LAB_HOOK_SECRET: WEBHOOK_SECRET };
  return runCliCaptured([...args, '--blocklist-dns', dns, '--json'], env).then((r) => JSON.parse(r.stdout) as StateDoc);
}

const sentBy = (docs: StateDoc[]) =>
  docs.flatMap((d) => d.state.notifications.filter((n) => n.sent === true).map((n) => `${n.route} ${n.kind}`)).sort();

const rb = rbldnsdAvailable();

describe.skipIf(!rb.ok && !process.env.CI).each(['sqlite', 'dynamodb'] as const)(
  `two check runs at once on %s${rb.ok ? '' : ` (SKIPPED: ${rb.ok ? '' : rb.reason})`}`,
  (backend) => {
    const dynamo: () => DynamoDbLocal =
      backend === 'dynamodb'
        ? useDynamoDbLocal()
        : () => {
            throw new Error('no DynamoDB Local in the SQLite run');
          };
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rw-race-'));
      slack = await startReceiver('/services/T000/B000/XXXX');
      hook = await startReceiver('/relaywatch', async (_body, headers) => {
        hookAttempts.push(String(headers['webhook-id']));
        return null;
      });
      mail = await startSmtpLab({ starttls: false }, await makeSelfSignedCert(dir));
    });
    afterAll(async () => {
      await bl?.stop();
      await slack?.close();
      await hook?.close();
      await mail?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('sends exactly one message per route and transition, keeps the webhook-id across retries, threads the e-mails', async () => {
      const store =
        backend === 'sqlite'
          ? ['--store', `sqlite:${join(dir, 'state.db')}`]
          : ['--store', 'dynamodb:relaywatch-race', '--endpoint', dynamo().endpoint];
      hookAttempts.length = 0;

      // 1. Listed while every route is down: the incident opens, nothing is delivered.
      await writeFile(join(dir, 'relaywatch.yaml'), config(await closedPort()));
      slack.status = 503;
      hook.status = 503;
      const listed = await serveBlocklist(true);
      const first = await run(store, listed);
      expect(first.state.opened).toHaveLength(1);
      const id = first.state.opened[0]?.id;
      expect(first.state.notifications.map((n) => [n.route, n.sent])).toEqual([
        ['noc-slack', false],
        ['siem', false],
        ['psa', false],
      ]);
      expect(hookAttempts).toHaveLength(1);

      // 2. The routes are back (and slow, so the runs overlap); two runs start together: one message per route.
      await writeFile(join(dir, 'relaywatch.yaml'), config(mail.port));
      slack.status = 200;
      hook.status = 200;
      slack.delayMs = 700;
      hook.delayMs = 700;
      const both = await Promise.all([run(store, listed), run(store, listed)]);
      expect(sentBy(both)).toEqual(['noc-slack opened', 'psa opened', 'siem opened']);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual([1, 1, 1]);
      // The retry carries the webhook-id of the failed attempt: a receiver that saw both can drop one.
      expect(hookAttempts[0]).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(hook.headers[0]?.['webhook-id']).toBe(hookAttempts[0]);

      // 3. Delisted; two runs together again: one RESOLVED per route.
      const clean = await serveBlocklist(false);
      const resolvedRuns = await Promise.all([run(store, clean), run(store, clean)]);
      expect(sentBy(resolvedRuns)).toEqual(['noc-slack resolved', 'psa resolved', 'siem resolved']);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual([2, 2, 2]);

      // 4. Listed again: a new episode of the same incident, announced once per route, with a new Message-ID.
      slack.delayMs = 0;
      hook.delayMs = 0;
      const relisted = await serveBlocklist(true);
      const again = await Promise.all([run(store, relisted), run(store, relisted)]);
      expect(sentBy(again)).toEqual(['noc-slack opened', 'psa opened', 'siem opened']);
      expect([slack.bodies.length, hook.bodies.length, mail.received.length]).toEqual([3, 3, 3]);

      const [opened, resolved, reopened] = await Promise.all(mail.received.map((m) => simpleParser(m.raw)));
      expect(opened?.subject).toContain(`#${id}`);
      expect(opened?.messageId).toMatch(new RegExp(`^<relaywatch\\.${id}\\.[0-9a-f]{16}@msp\\.example>$`));
      expect(opened?.inReplyTo).toBeUndefined();
      expect(resolved?.subject).toContain('RESOLVED');
      expect(resolved?.inReplyTo).toBe(opened?.messageId);
      expect(resolved?.references).toBe(opened?.messageId);
      expect(resolved?.messageId).not.toBe(opened?.messageId);
      expect(reopened?.messageId).toMatch(new RegExp(`^<relaywatch\\.${id}\\.`));
      expect(reopened?.messageId).not.toBe(opened?.messageId);

      const wh = new Webhook(WEBHOOK_SECRET);
      const types = hook.bodies.map((b, i) => (wh.verify(b, hook.headers[i] ?? {}) as { type: string }).type);
      expect(types).toEqual([
        'relaywatch.incident.opened',
        'relaywatch.incident.resolved',
        'relaywatch.incident.opened',
      ]);
      expect(new Set(hook.headers.map((h) => h['webhook-id'])).size).toBe(3);
    });
  },
);
