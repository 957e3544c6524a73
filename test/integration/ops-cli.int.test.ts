/**
 * The read/ops commands end to end, in-process through runCli(): `status`, `incidents`, `history` and `notify test`.
 * The state they read is built by real `relaywatch check` runs against a real DNSBL server (rbldnsd) where the
 * customer's IP is listed and later delisted, with the embedded SQLite store in a temporary directory; `notify test`
 * sends to local HTTP receivers (a Slack-shaped one, and a Standard Webhooks one verified with the library's own
 * `verify`). Hostile text (a bidi override in a tenant name, ANSI escapes in stored records) must reach the terminal
 * escaped.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../shared/adapters/store/open-store.ts';
import type { HistoryDocument } from '../../shared/cli/commands/history.ts';
import type { IncidentsDocument } from '../../shared/cli/commands/incidents.ts';
import type { NotifyTestDocument } from '../../shared/cli/commands/notify.ts';
import type { StatusDocument } from '../../shared/cli/commands/status.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { LAB_CONFIG_HEADER } from '../support/lab-config.ts';
import { type RbldnsdServer, rbldnsdAvailable, startRbldnsd } from '../support/rbldnsd.ts';
import { runCliCaptured } from '../support/run-cli.ts';

const IP = '192.0.2.10';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ESC = '\u001b';
const RLO = '\u202e';

let dir: string;
let slack: Receiver;
let hook: Receiver;
let bl: RbldnsdServer | undefined;

function config(fabrikamName = `Fabrikam ${RLO}gnp.exe`): string {
  return `${LAB_CONFIG_HEADER}
alerts:
  allowPrivateDestinations: true # the receivers listen on 127.0.0.1
  routes:
    - id: noc-slack
      slack: { webhookUrl: { env: LAB_SLACK_URL } }
    - id: siem
      webhook: { url: { env: LAB_HOOK_URL }, secret: { env: LAB_HOOK_SECRET } }
    - id: broken
      webhook: { url: { env: LAB_MISSING_URL }, secret: { env: LAB_HOOK_SECRET } }
    - id: psa
      email:
        from: relaywatch@msp.example
        to: [tickets@psa.example]
        smtp: { host: 127.0.0.1, port: 9, requireTLS: false }
  default: [noc-slack, siem, broken]
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    relayIps: [${IP}]
  - id: fabrikam
    name: ${JSON.stringify(fabrikamName)}
    domains: [fabrikam.example]
`;
}

const configPath = () => join(dir, 'relaywatch.yaml');
const storeArg = () => `sqlite:${join(dir, 'state.db')}`;
const env = () => ({ LAB_SLACK_URL: slack.url, LAB_HOOK_URL: hook.url, LAB_HOOK_SECRET: WEBHOOK_SECRET });

function cli(args: string[]) {
  return runCliCaptured(args, env());
}

/** A read command against the test config and store. */
function read(args: string[]) {
  return cli([...args, '--config', configPath(), '--store', storeArg()]);
}

function json<T>(r: { code: number; stdout: string; stderr: string }): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

async function check(listed: boolean): Promise<{ opened: string[]; resolved: string[] }> {
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
  const r = await cli([
    'check',
    '--config',
    configPath(),
    '--store',
    storeArg(),
    '--tenant',
    'contoso',
    '--zone',
    'lab',
    '--blocklist-dns',
    `udp://127.0.0.1:${bl.port}`,
    '--json',
  ]);
  const doc = json<{ state: { opened: { id: string }[]; resolved: { id: string }[] } }>(r);
  return { opened: doc.state.opened.map((i) => i.id), resolved: doc.state.resolved.map((i) => i.id) };
}

const rb = rbldnsdAvailable();

describe.skipIf(!rb.ok && !process.env.CI)(
  `status, incidents, history and notify test${rb.ok ? '' : ` (SKIPPED: ${rb.ok ? '' : rb.reason})`}`,
  () => {
    let incidentId = '';

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rw-ops-'));
      slack = await startReceiver('/services/T000/B000/XXXX');
      hook = await startReceiver('/relaywatch');
      await writeFile(configPath(), config());
      expect((await check(false)).opened).toEqual([]);
      const listed = await check(true);
      expect(listed.opened).toHaveLength(1);
      incidentId = listed.opened[0]!;
    });
    afterAll(async () => {
      await bl?.stop();
      await slack?.close();
      await hook?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('status: the open critical incident with its deliveries, exit 2; an unchecked tenant says so', async () => {
      const text = await read(['status']);
      expect(text.code).toBe(2);
      expect(text.stdout).toContain(`#${incidentId} CRITICAL: ${IP} listed by lab.bl.test`);
      expect(text.stdout).toMatch(/noc-slack \(slack\): delivered/);
      expect(text.stdout).toMatch(/siem \(webhook\): delivered/);
      expect(text.stdout).toMatch(/broken \(webhook\): FAILING \(1 attempt\): .*LAB_MISSING_URL/);
      expect(text.stdout).toContain('never checked (run relaywatch check)');
      expect(text.stdout).toMatch(new RegExp(`FAIL +blocklist +${IP.replace(/\./g, '\\.')}@lab .*1 fail in a row`));
      // The bidi override in fabrikam's name is shown escaped, never raw.
      expect(text.stdout).toContain('Fabrikam \\u202egnp.exe (fabrikam)');
      expect(text.stdout).not.toContain(RLO);
      expect(text.stdout).toContain('Status: CRITICAL, 1 open incident(s)');

      const r = await read(['status', '--json']);
      expect(r.code).toBe(2);
      const doc = json<StatusDocument>(r);
      expect(doc.schema).toBe('relaywatch.status/v1');
      expect(doc.status).toBe('critical');
      expect(doc.exitCode).toBe(2);
      expect(doc.storeExists).toBe(true);
      expect(doc.lastRun?.source).toBe('cli');
      expect(doc.summary).toEqual({ tenants: 2, checked: 1, openIncidents: { critical: 1, warning: 0, info: 0 } });
      const [contoso, fabrikam] = doc.tenants;
      expect(contoso?.checked).toBe(true);
      expect(contoso?.subjects.find((s) => s.check === 'blocklist')).toMatchObject({
        subject: `${IP}@lab`,
        status: 'fail',
        consecutiveFails: 1,
        consecutivePasses: 0,
      });
      expect(contoso?.incidents).toHaveLength(1);
      const inc = contoso!.incidents[0]!;
      expect(inc).toMatchObject({ id: incidentId, severity: 'critical', check: 'blocklist', subject: `${IP}@lab` });
      expect(Date.parse(inc.openedAt)).not.toBeNaN();
      expect(inc.deliveries.map((d) => [d.route, d.channel, d.state])).toEqual([
        ['noc-slack', 'slack', 'delivered'],
        ['siem', 'webhook', 'delivered'],
        ['broken', 'webhook', 'failing'],
      ]);
      expect(inc.deliveries[2]?.lastError).toContain('environment variable LAB_MISSING_URL is not set');
      expect(fabrikam).toMatchObject({ id: 'fabrikam', checked: false, subjects: [], incidents: [] });
      // JSON keeps the exact value but escapes the bidi override (still the same string once parsed).
      expect(fabrikam?.name).toBe(`Fabrikam ${RLO}gnp.exe`);
      expect(r.stdout).not.toContain(RLO);

      const only = await read(['status', '--tenant', 'fabrikam', '--json']);
      expect(only.code).toBe(0);
      expect(json<StatusDocument>(only).tenants.map((t) => t.id)).toEqual(['fabrikam']);

      const unknown = await read(['status', '--tenant', 'nope']);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('the config has: contoso, fabrikam');
    });

    it('status against a store no run has written: never checked, exit 0, and no file is created', async () => {
      const missing = join(dir, 'nothing-yet', 'state.db');
      const r = await cli(['status', '--config', configPath(), '--store', `sqlite:${missing}`]);
      expect(r.code).toBe(0);
      expect(r.stdout.match(/never checked \(run relaywatch check\)/g)).toHaveLength(2);
      expect(r.stdout).toContain('does not exist yet');
      expect(existsSync(missing)).toBe(false);
      const bad = await cli(['status', '--config', configPath(), '--store', 'mysql:x']);
      expect(bad.code).toBe(3);
      expect(bad.stderr).toContain('invalid store');
    });

    it('incidents: --open lists the open one with what happened; all of them per tenant', async () => {
      const text = await read(['incidents', '--open']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`#${incidentId}  OPEN      CRITICAL  Contoso Ltd (contoso)`);
      expect(text.stdout).toContain(`${IP} listed by lab.bl.test`);
      expect(text.stdout).toMatch(/what: .+/);

      const doc = json<IncidentsDocument>(await read(['incidents', '--open', '--json']));
      expect(doc.schema).toBe('relaywatch.incidents/v1');
      expect(doc.filter).toEqual({ open: true, tenants: null, limit: 50 });
      expect(doc.total).toBe(1);
      expect(doc.incidents[0]).toMatchObject({
        id: incidentId,
        tenant: 'contoso',
        tenantName: 'Contoso Ltd',
        status: 'open',
        severity: 'critical',
        check: 'blocklist',
        subject: `${IP}@lab`,
        resolvedAt: null,
      });
      expect(doc.incidents[0]?.what).toContain(IP);
      expect(doc.incidents[0]?.what.startsWith('{')).toBe(false);

      const fab = json<IncidentsDocument>(await read(['incidents', '--tenant', 'fabrikam', '--json']));
      expect(fab.incidents).toEqual([]);
      const badLimit = await read(['incidents', '--limit', '0']);
      expect(badLimit.code).toBe(3);
      expect(badLimit.stderr).toContain('--limit must be a positive whole number');
    });

    it('history: results newest first, --since (relative and ISO), --check, --limit, and clear usage errors', async () => {
      const all = json<HistoryDocument>(await read(['history', 'contoso', '--json']));
      expect(all.schema).toBe('relaywatch.history/v1');
      expect(all.tenant).toEqual({ id: 'contoso', name: 'Contoso Ltd' });
      expect(all.results.length).toBeGreaterThanOrEqual(4); // two runs: spf, mx, submission?, blocklist
      const times = all.results.map((r) => r.at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(new Set(all.results.map((r) => r.runId)).size).toBe(2);
      const newestBlocklist = all.results.find((r) => r.check === 'blocklist');
      expect(newestBlocklist).toMatchObject({ subject: IP, status: 'fail' });
      expect(all.events.map((e) => [e.kind, e.incident])).toContainEqual(['incident-opened', incidentId]);
      expect(all.moreResults).toBe(false);

      const recent = json<HistoryDocument>(await read(['history', 'contoso', '--since', '1h', '--json']));
      expect(recent.results).toEqual(all.results);
      expect(Date.now() - Date.parse(recent.filter.since!)).toBeGreaterThanOrEqual(3_600_000);
      const iso = json<HistoryDocument>(
        await read(['history', 'contoso', '--since', '2000-01-01T00:00:00Z', '--json']),
      );
      expect(iso.filter.since).toBe('2000-01-01T00:00:00.000Z');
      expect(iso.results).toEqual(all.results);
      const future = json<HistoryDocument>(await read(['history', 'contoso', '--since', '2999-01-01', '--json']));
      expect(future.results).toEqual([]);

      const bl = json<HistoryDocument>(await read(['history', 'contoso', '--check', 'blocklist', '--json']));
      expect(bl.results.length).toBe(2);
      expect(bl.results.every((r) => r.check === 'blocklist')).toBe(true);
      expect(bl.events.map((e) => e.kind)).toEqual(['incident-opened']);
      const spf = json<HistoryDocument>(await read(['history', 'contoso', '--check', 'spf', '--json']));
      expect(spf.results.every((r) => r.check === 'spf')).toBe(true);
      expect(spf.events).toEqual([]);

      const one = json<HistoryDocument>(await read(['history', 'contoso', '--limit', '1', '--json']));
      expect(one.results).toEqual(all.results.slice(0, 1));
      expect(one.moreResults).toBe(true);

      const text = await read(['history', 'contoso', '--check', 'blocklist']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('History of Contoso Ltd (contoso) · check blocklist');
      expect(text.stdout).toMatch(new RegExp(`FAIL +blocklist +${IP.replace(/\./g, '\\.')}`));
      expect(text.stdout).toContain(`incident opened #${incidentId} on ${IP}@lab (listed:lab)`);

      const bad = await read(['history', 'contoso', '--since', 'last tuesday']);
      expect(bad.code).toBe(3);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain('--since "last tuesday" is neither an ISO 8601 time');
      expect(bad.stderr).toContain('24h');

      const unknown = await read(['history', 'northwind']);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('unknown tenant "northwind"; the config has: contoso, fabrikam');
    });

    it('notify test: a signed webhook and a Slack message arrive; missing secret, unknown route, dry run', async () => {
      const before = { hook: hook.bodies.length, slack: slack.bodies.length };

      const wh = await cli(['notify', 'test', '--route', 'siem', '--config', configPath()]);
      expect(wh).toMatchObject({ code: 0, stdout: 'sent to siem (webhook)\n' });
      expect(hook.bodies).toHaveLength(before.hook + 1);
      const event = new Webhook(WEBHOOK_SECRET).verify(hook.bodies.at(-1)!, hook.headers.at(-1)!) as {
        type: string;
        data: { incidentId: string; kind: string; severity: string; title: string; tenant: { id: string } };
      };
      expect(event.type).toBe('relaywatch.incident.test');
      expect(event.data).toMatchObject({
        incidentId: 'test0000',
        kind: 'test',
        severity: 'info',
        tenant: { id: 'contoso' },
        title: 'relaywatch test alert: if you can read this, route siem works',
      });

      const sl = await cli([
        'notify',
        'test',
        '--route',
        'noc-slack',
        '--tenant',
        'fabrikam',
        '--config',
        configPath(),
      ]);
      expect(sl).toMatchObject({ code: 0, stdout: 'sent to noc-slack (slack)\n' });
      expect(slack.bodies).toHaveLength(before.slack + 1);
      expect(slack.bodies.at(-1)).toContain('relaywatch test alert: if you can read this, route noc-slack works');

      const js = json<NotifyTestDocument>(
        await cli(['notify', 'test', '--route', 'siem', '--config', configPath(), '--json']),
      );
      expect(js).toMatchObject({
        schema: 'relaywatch.notify-test/v1',
        route: { id: 'siem', channel: 'webhook' },
        dryRun: false,
        sent: true,
        error: null,
      });
      expect(JSON.stringify(js)).not.toContain(hook.url);

      const missing = await cli(['notify', 'test', '--route', 'broken', '--config', configPath()]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('NOT sent to broken (webhook)');
      expect(missing.stderr).toContain('environment variable LAB_MISSING_URL is not set');
      expect(`${missing.stdout}${missing.stderr}`).not.toMatch(/https?:\/\//);

      const unknown = await cli(['notify', 'test', '--route', 'pager', '--config', configPath()]);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain(
        'unknown route "pager"; the config has: noc-slack (slack), siem (webhook), broken (webhook), psa (email)',
      );
      const badTenant = await cli(['notify', 'test', '--route', 'siem', '--tenant', 'x', '--config', configPath()]);
      expect(badTenant.code).toBe(3);
      const noRoute = await cli(['notify', 'test', '--config', configPath()]);
      expect(noRoute.code).toBe(3);
      expect(noRoute.stderr).toContain('--route');

      const afterSends = { hook: hook.bodies.length, slack: slack.bodies.length };
      const drySlack = await cli(['notify', 'test', '--route', 'noc-slack', '--dry-run', '--config', configPath()]);
      expect(drySlack.code).toBe(0);
      expect(drySlack.stdout).toContain('Dry run: would send to noc-slack (slack) (nothing sent)');
      expect(drySlack.stdout).toContain('relaywatch test alert: if you can read this, route noc-slack works');
      expect(drySlack.stdout).not.toContain(slack.url);
      const dryHook = json<NotifyTestDocument>(
        await cli(['notify', 'test', '--route', 'siem', '--dry-run', '--json', '--config', configPath()]),
      );
      expect(dryHook).toMatchObject({
        dryRun: true,
        sent: null,
        message: { payload: { type: 'relaywatch.incident.test' } },
      });
      const dryMail = await cli(['notify', 'test', '--route', 'psa', '--dry-run', '--config', configPath()]);
      expect(dryMail.code).toBe(0);
      expect(dryMail.stdout).toContain(
        'Subject: [relaywatch][contoso] TEST: relaywatch test alert: if you can read this, route psa works #test0000',
      );
      // A dry run needs no secret: the broken route's message is shown too.
      expect((await cli(['notify', 'test', '--route', 'broken', '--dry-run', '--config', configPath()])).code).toBe(0);
      expect({ hook: hook.bodies.length, slack: slack.bodies.length }).toEqual(afterSends);
    });

    it('after the delisting run: resolved, no open incident, status exit 0, history has the resolution', async () => {
      const r = await check(false);
      expect(r.resolved).toEqual([incidentId]);

      const open = json<IncidentsDocument>(await read(['incidents', '--open', '--json']));
      expect(open.incidents).toEqual([]);
      expect((await read(['incidents', '--open'])).stdout).toContain('No open incident.');
      const all = json<IncidentsDocument>(await read(['incidents', '--json']));
      expect(all.incidents).toHaveLength(1);
      expect(all.incidents[0]).toMatchObject({ id: incidentId, status: 'resolved' });
      expect(Date.parse(all.incidents[0]!.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(all.incidents[0]!.openedAt));

      const status = await read(['status', '--json']);
      expect(status.code).toBe(0);
      const doc = json<StatusDocument>(status);
      expect(doc.status).toBe('ok');
      expect(doc.tenants[0]?.subjects.find((s) => s.check === 'blocklist')).toMatchObject({
        status: 'pass',
        consecutiveFails: 0,
        consecutivePasses: 1,
      });
      const history = json<HistoryDocument>(await read(['history', 'contoso', '--check', 'blocklist', '--json']));
      expect(history.results.map((x) => x.status)).toEqual(['pass', 'fail', 'pass']);
      expect(history.events.map((e) => e.kind)).toEqual(['incident-resolved', 'incident-opened']);
    });

    it('hostile stored text (ANSI escapes) is printed escaped by status, incidents and history', async () => {
      const path = join(dir, 'hostile.db');
      const store = await openStore(`sqlite:${path}`);
      const at = new Date().toISOString();
      const evil = `${ESC}[31mred${ESC}[0m ${ESC}]8;;https://evil.example${ESC}\\click`;
      try {
        await store.states.put(
          {
            tenantId: 'contoso',
            check: 'blocklist',
            subject: `${IP}@${evil}`,
            lastStatus: 'fail',
            lastAt: at,
            lastRunId: 'r1',
            consecutiveFails: 3,
            consecutivePasses: 0,
            fingerprint: null,
            fingerprintValue: null,
            version: 0,
          },
          null,
        );
        await store.incidents.put(
          {
            tenantId: 'contoso',
            id: 'evil0001',
            check: 'blocklist',
            subject: `${IP}@${evil}`,
            problem: 'blocklist-listed',
            status: 'open',
            severity: 'warning',
            title: `Listed ${evil}`,
            openedAt: at,
            updatedAt: at,
            resolvedAt: null,
            lastDetail: JSON.stringify({ what: `what ${evil}`, why: '', remediation: [], links: [], evidence: null }),
            deliveries: {
              'noc-slack': { opened: null, lastReminder: null, resolved: null, failures: 2, lastError: `boom ${evil}` },
            },
            flaps: [],
            version: 0,
          },
          null,
        );
        await store.results.putChecks([
          {
            tenantId: 'contoso',
            runId: 'r1',
            at,
            check: 'blocklist',
            subject: IP,
            status: 'fail',
            codes: ['blocklist-listed'],
            summary: `summary ${evil}`,
            fingerprint: null,
            detail: null,
          },
        ]);
        await store.results.putEvents([
          {
            tenantId: 'contoso',
            eventId: 'e1',
            at,
            kind: 'spf-changed',
            subject: 'contoso.example',
            before: `v=spf1 ${evil} -all`,
            after: 'v=spf1 -all',
            runId: 'r1',
          },
        ]);
      } finally {
        await store.close();
      }
      const store2 = ['--config', configPath(), '--store', `sqlite:${path}`];
      const outputs = [
        await cli(['status', ...store2]),
        await cli(['incidents', ...store2]),
        await cli(['history', 'contoso', ...store2]),
      ];
      const [status, incidents, history] = outputs;
      expect(status?.code).toBe(1); // only a warning incident is open
      for (const o of outputs) {
        expect(o.stdout).not.toContain(ESC);
        expect(o.stdout).toContain('\\x1b[31mred\\x1b[0m');
      }
      expect(status?.stdout).toContain('FAILING (2 attempts): boom \\x1b[31m');
      expect(incidents?.stdout).toContain('what: what \\x1b[31m');
      expect(history?.stdout).toContain('summary \\x1b[31m');
      expect(history?.stdout).toContain('SPF changed on contoso.example: v=spf1 \\x1b[31m');
      // JSON output escapes them too (as JSON \u escapes: the same string once parsed).
      const doc = await cli(['status', '--json', ...store2]);
      expect(doc.stdout).not.toContain(ESC);
      expect(json<StatusDocument>(doc).tenants[0]?.incidents[0]?.title).toBe(`Listed ${evil}`);
    });

    it('a tenant name with an ANSI escape in the config is refused, and the refusal prints no raw escape', async () => {
      const path = join(dir, 'hostile.yaml');
      await writeFile(path, config(`Fabrikam ${ESC}[31mRED`));
      const r = await cli(['status', '--config', path, '--store', storeArg()]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('must not contain control characters');
      expect(`${r.stdout}${r.stderr}`).not.toContain(ESC);
    });
  },
);
