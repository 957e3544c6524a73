/** The `file` alert channel: the notifier on a real folder, its config, and the route wiring. */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/notify/alert.ts';
import { alertFileBase, FileNotifier } from '../../../shared/notify/file.ts';
import { routeNotifiers } from '../../../shared/notify/routing.ts';
import { deliveryId } from '../../../shared/notify/webhook.ts';
import { runCliCaptured } from '../../support/run-cli.ts';
import { accepted, problemAt, problemsOf, tenant, withTenants } from '../config/helpers.ts';

const PACKET_EML =
  'From: noc@northwind.example\r\nTo: noc@northwind.example\r\nSubject: Delisting request\r\n\r\nPlease delist 203.0.113.10.\r\n';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    kind: 'opened',
    incidentId: 'k3m9q2p7',
    tenant: { id: 'contoso', name: 'Contoso <Ltd>\r\nBcc: x@evil.example' },
    severity: 'critical',
    check: 'blocklist',
    subject: '203.0.113.10 on bl.example',
    title: '203.0.113.10 is listed on bl.example',
    what: 'Relayed mail from the scanner room may be refused.',
    why: 'The public IP is on a blocklist.',
    remediation: ['Find the infected machine', 'Request delisting'],
    links: [],
    evidence: 'Listed: spam traps',
    openedAt: '2026-06-02T09:00:00.000Z',
    at: '2026-06-02T09:00:00.000Z',
    packet: {
      filename: 'delist-203.0.113.10-bl.eml',
      eml: PACKET_EML,
      text: 'Please delist',
      markdown: 'Please delist',
    },
    ...over,
  };
}

const ADDRESSING = { from: 'relaywatch@northwind.example', to: ['tickets@psa.example'] };

describe('FileNotifier', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-file-route-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('names files by event time, tenant, kind and incident', () => {
    expect(alertFileBase(alert())).toBe('20260602T090000Z-contoso-opened-k3m9q2p7');
    expect(alertFileBase(alert({ kind: 'resolved', at: '2026-06-03T09:00:01.250Z' }))).toBe(
      '20260603T090001Z-contoso-resolved-k3m9q2p7',
    );
    expect(alertFileBase(alert({ tenant: { id: '../../etc', name: 'x' }, at: 'nonsense' }))).toBe(
      'undated-etc-opened-k3m9q2p7',
    );
  });

  it('writes the alert as an .eml with the packet attached and as the webhook JSON, creating the folder', async () => {
    const target = join(dir, 'drop', 'relaywatch');
    const r = await new FileNotifier({ dir: target, ...ADDRESSING }).send(alert());
    expect(r.ok).toBe(true);
    expect(await readdir(target)).toEqual([
      '20260602T090000Z-contoso-opened-k3m9q2p7.eml',
      '20260602T090000Z-contoso-opened-k3m9q2p7.json',
    ]);
    const mail = await simpleParser(await readFile(join(target, '20260602T090000Z-contoso-opened-k3m9q2p7.eml')));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : null).toBe('tickets@psa.example');
    expect(mail.headers.get('x-relaywatch-incident')).toBe('k3m9q2p7');
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.attachments.map((a) => [a.contentType, a.filename, a.contentDisposition])).toEqual([
      ['message/rfc822', 'delist-203.0.113.10-bl.eml', 'attachment'],
    ]);
    const json = JSON.parse(await readFile(join(target, '20260602T090000Z-contoso-opened-k3m9q2p7.json'), 'utf8'));
    expect(json.type).toBe('relaywatch.incident.opened');
    expect(json.data.packet).toMatchObject({ filename: 'delist-203.0.113.10-bl.eml', eml: PACKET_EML });
    expect(deliveryId(alert())).toMatch(/^msg_/);
  });

  it('writes a retried alert under the same names with the same bytes, never a second copy', async () => {
    const n = new FileNotifier({ dir, ...ADDRESSING });
    const eml = join(dir, '20260602T090000Z-contoso-opened-k3m9q2p7.eml');
    expect((await n.send(alert())).ok).toBe(true);
    const first = await readFile(eml, 'utf8');
    expect((await n.send(alert())).ok).toBe(true);
    expect(await readFile(eml, 'utf8')).toBe(first);
    expect((await n.send(alert({ kind: 'reminder', at: '2026-06-03T09:00:00.000Z' }))).ok).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([
      '20260602T090000Z-contoso-opened-k3m9q2p7.eml',
      '20260602T090000Z-contoso-opened-k3m9q2p7.json',
      '20260603T090000Z-contoso-reminder-k3m9q2p7.eml',
      '20260603T090000Z-contoso-reminder-k3m9q2p7.json',
    ]);
  });

  it('reports a folder it cannot write as a retryable failure and leaves no temporary file', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const r = await new FileNotifier({ dir: blocker, ...ADDRESSING }).send(alert());
    expect(r).toEqual({ ok: false, retryable: true, error: `file: cannot write to ${blocker} (EEXIST)` });
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await mkdir(locked, { mode: 0o500 });
      const denied = await new FileNotifier({ dir: locked, ...ADDRESSING }).send(alert());
      expect(denied).toMatchObject({ ok: false, retryable: true });
      expect(await readdir(locked)).toEqual([]);
    }
  });
});

describe('the file route in the configuration', () => {
  const config = (route: string) => `${withTenants(tenant('t'))}alerts:
  routes:
${route}
  default: [drop]
`;

  it('accepts a folder, with optional addressing', () => {
    const { config: c } = accepted(
      config('    - id: drop\n      file: { dir: ./psa-drop, to: [tickets@psa.example] }'),
    );
    expect(c.alerts?.routes[0]?.file).toEqual({ dir: './psa-drop', to: ['tickets@psa.example'] });
  });

  it('refuses an empty folder and a route with file and another channel', () => {
    const problems = problemsOf(
      config(
        '    - id: drop\n      file: { dir: "" }\n    - id: two\n      file: { dir: x }\n      slack: { webhookUrl: { env: S } }',
      ),
    );
    expect(problemAt(problems, 'alerts.routes[0].file.dir').message).toMatch(/must name a folder/);
    expect(problemAt(problems, 'alerts.routes[1]').message).toMatch(/has slack and file: one channel per route/);
  });

  it('resolves a relative folder against the config file and addresses the MSP contact by default', async () => {
    const base = await mkdtemp(join(tmpdir(), 'rw-file-wiring-'));
    try {
      const { config: c } = accepted(config('    - id: drop\n      file: { dir: alerts }'));
      const n = routeNotifiers(c, { env: {} }, { baseDir: base }).notifierFor('drop');
      expect('error' in n).toBe(false);
      if ('error' in n) return;
      expect(n.channel).toBe('file');
      expect((await n.send(alert({ packet: null }))).ok).toBe(true);
      const files = await readdir(join(base, 'alerts'));
      expect(files).toHaveLength(2);
      const mail = await simpleParser(
        await readFile(join(base, 'alerts', files.find((f) => f.endsWith('.eml')) ?? '')),
      );
      const contact = c.msp.contact.email;
      expect(mail.from?.text).toContain(contact);
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : null).toBe(contact);
      expect(mail.attachments).toHaveLength(0);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('takes a test alert from relaywatch notify test into the folder beside the config', async () => {
    const base = await mkdtemp(join(tmpdir(), 'rw-file-notify-'));
    try {
      const file = join(base, 'relaywatch.yaml');
      await writeFile(file, config('    - id: drop\n      file: { dir: psa-drop }'));
      const dry = await runCliCaptured(['notify', 'test', '--route', 'drop', '--config', file, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/would send to drop \(file\)[\s\S]*Subject: \[relaywatch\]\[t\] TEST: /);
      const r = await runCliCaptured(['notify', 'test', '--route', 'drop', '--config', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('sent to drop (file)');
      const files = (await readdir(join(base, 'psa-drop'))).sort();
      expect(files.map((f) => f.replace(/^\d{8}T\d{6}Z/, 'T'))).toEqual([
        'T-t-test-test0000.eml',
        'T-t-test-test0000.json',
      ]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
