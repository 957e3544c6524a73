/**
 * `relaywatch config validate`, `relaywatch tenants` and where configuration warnings are shown, in process through
 * runCli (no server: none of these commands touches the network).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationDocument } from '../../shared/cli/commands/config.ts';
import type { TenantsDocument } from '../../shared/cli/commands/tenants.ts';
import { runCliCaptured } from '../support/run-cli.ts';

const GOOD = `version: 1
msp:
  name: Northwind IT
  contact: { name: NOC, email: noc@northwind.example }
secrets:
  file: ./secrets.yaml
alerts:
  routes:
    - id: noc-slack
      slack: { webhookUrl: { secret: slack-url } }
    - id: psa
      minSeverity: critical
      email: { from: rw@northwind.example, to: [psa@northwind.example], smtp: { host: smtp.northwind.example } }
  default: [noc-slack]
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    relayIps: [203.0.113.10]
    alerts: { routes: [psa] }
  - id: tailspin
    name: Tailspin Toys
    domains: [{ name: tailspin.example, expectedMx: tailspin-example.mail.protection.outlook.com }]
    submission: { auth: basic, mailbox: scanner@tailspin.example, password: { env: TAILSPIN_PW } }
    probeRecipients: [probe@tailspin.example]
`;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-config-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function files(config: string, secrets: string | null, mode = 0o600): Promise<string> {
  const sub = await mkdtemp(join(dir, 'c-'));
  const path = join(sub, 'relaywatch.yaml');
  await writeFile(path, config);
  if (secrets !== null) {
    await writeFile(join(sub, 'secrets.yaml'), secrets);
    await chmod(join(sub, 'secrets.yaml'), mode);
  }
  return path;
}

describe('relaywatch config validate', () => {
  it('reports a valid file with its warnings, including the secrets file readable by everyone, exit 0', async () => {
    const path = await files(GOOD, 'slack-url: "https://hooks.slack.test/T/B/x"\n', 0o644);
    const r = await runCliCaptured(['config', 'validate', '--config', path], { TAILSPIN_PW: 'x' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('203.0.113.10 is a documentation address');
    expect(r.stdout).toMatch(
      /warning: the secrets file .*secrets\.yaml is readable by every user on this machine \(mode 0644\)/,
    );
    expect(r.stdout).toContain('VALID (2 tenants, 2 domains, 1 relay entry, 2 alert routes): 2 warnings (exit 0)');
    expect(r.stdout).not.toContain('hooks.slack.test');
  });

  it('names references that do not resolve here as warnings, never a value', async () => {
    const path = await files(GOOD, 'other: "s3cr3t-value"\n');
    const r = await runCliCaptured(['config', 'validate', '--config', path, '--json'], {});
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as ValidationDocument;
    expect(doc.valid).toBe(true);
    const unresolved = doc.problems.filter((p) => p.message.endsWith('(in this environment)'));
    expect(unresolved.map((p) => p.path)).toEqual([
      'tenants[1].submission.password',
      'alerts.routes[0].slack.webhookUrl',
    ]);
    expect(r.stdout).toContain('TAILSPIN_PW');
    expect(r.stdout).not.toContain('s3cr3t-value');
  });

  it("names the probe mailbox's unresolved password and client secret too", async () => {
    const withMailboxes = GOOD.replace(
      '    alerts: { routes: [psa] }\n',
      `    alerts: { routes: [psa] }
    probeMailbox:
      kind: imap
      host: imap.contoso.example
      user: probe@contoso.example
      password: { env: CONTOSO_IMAP_PW }
`,
    ).replace(
      '    probeRecipients: [probe@tailspin.example]\n',
      `    probeRecipients: [probe@tailspin.example]
    probeMailbox:
      kind: graph
      mailbox: probe@tailspin.example
      entraTenantId: 6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7
      clientId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
      clientSecret: { secret: tailspin-graph }
`,
    );
    const path = await files(withMailboxes, 'slack-url: "https://hooks.slack.test/T/B/x"\n');
    const r = await runCliCaptured(['config', 'validate', '--config', path, '--json'], { TAILSPIN_PW: 'x' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as ValidationDocument;
    const unresolved = doc.problems.filter((p) => p.message.endsWith('(in this environment)'));
    expect(unresolved.map((p) => p.path).sort()).toEqual([
      'tenants[0].probeMailbox.password',
      'tenants[1].probeMailbox.clientSecret',
    ]);
  });

  it('lists every problem at once (the file, then a missing secrets file) and exits 3 without running anything', async () => {
    const broken = GOOD.replace('domains: [contoso.example]', 'domains: [contoso..example]')
      .replace('relayIps: [203.0.113.10]', 'relayIps: [10.0.0.5]')
      .replace('    name: Tailspin Toys\n', '    name: Tailspin Toys\n    relayIP: [203.0.113.9]\n');
    const r = await runCliCaptured(['config', 'validate', '--config', await files(broken, null)], {});
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('"contoso..example" is not a valid domain name (line 18)');
    expect(r.stdout).toMatch(/relayIps\[0\]: .*10\.0\.0\.5.*private.*\(line 19\)/);
    expect(r.stdout).toContain('unknown key "relayIP" (did you mean "relayIps"?)');
    expect(r.stdout).toContain('INVALID: 3 errors');

    const missingSecrets = await runCliCaptured(['config', 'validate', '--config', await files(GOOD, null)], {});
    expect(missingSecrets.code).toBe(3);
    expect(missingSecrets.stdout).toMatch(/error: secrets\.file: secrets file not found: .*secrets\.yaml/);
    expect(missingSecrets.stdout).not.toContain('there is no secrets file');

    const broken2 = await files(GOOD, 'slack-url: "https://hooks.slack.test/T/B/never-closed\n');
    const invalidSecrets = await runCliCaptured(['config', 'validate', '--config', broken2], { TAILSPIN_PW: 'x' });
    expect(invalidSecrets.code).toBe(3);
    expect(invalidSecrets.stdout).toContain(
      'error: secrets.file: YAML syntax: a value opened with " here is never closed',
    );
    expect(invalidSecrets.stdout).not.toContain('there is no secrets file');
    expect(invalidSecrets.stdout).not.toContain('hooks.slack.test');
  });

  it('reports a YAML syntax error at its line', async () => {
    const text = GOOD.replace('  - id: contoso', '  - id: "contoso');
    const r = await runCliCaptured(['config', 'validate', '--config', await files(text, null)], {});
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      'YAML syntax: a value opened with " here is never closed (the closing " is missing) (line 16)',
    );
  });
});

describe('relaywatch tenants', () => {
  it('lists each tenant with domains, sending IPs, routes and what is monitored', async () => {
    const path = await files(GOOD, 'slack-url: "https://hooks.slack.test/T/B/x"\n');
    const r = await runCliCaptured(['tenants', '--config', path], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('contoso — Contoso Ltd');
    expect(r.stdout).toContain('sending IPs:  203.0.113.10');
    expect(r.stdout).toContain('alert routes: psa (email, critical and up), noc-slack (slack, warning and up)');
    expect(r.stdout).toContain('expected MX tailspin-example.mail.protection.outlook.com');
    expect(r.stdout).toMatch(/probe-submission +SMTP AUTH probe to smtp\.office365\.com:587/);
    // The key zones (no key configured) are said to be not checked, as check reports them.
    expect(r.stdout).toMatch(
      /blocklist +1 relay entry and the single IPs its SPF authorises, on \d+ blocklists \([1-9]\d* of them not checked in this setup/,
    );

    const json = await runCliCaptured(['tenants', '--config', path, '--json', '--tenant', 'tailspin'], {});
    const doc = JSON.parse(json.stdout) as TenantsDocument;
    expect(doc.tenants.map((t) => t.id)).toEqual(['tailspin']);
    expect(doc.tenants[0]?.sendingIps).toEqual([]);
    expect(doc.tenants[0]?.monitored.map((m) => m.check)).toEqual([
      'spf',
      'mx',
      'blocklist',
      'submission',
      'probe-submission',
    ]);
    expect(doc.tenants[0]?.routes).toEqual([{ id: 'noc-slack', channel: 'slack', minSeverity: 'warning' }]);
    const unknown = await runCliCaptured(['tenants', '--config', path, '--tenant', 'nope'], {});
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('the config has: contoso, tailspin');
  });
});

describe('configuration warnings', () => {
  it('are shown by check, but by read-only commands only with --verbose', async () => {
    const path = await files(GOOD, 'slack-url: "https://hooks.slack.test/T/B/x"\n', 0o644);
    const store = `sqlite:${join(dir, 'never-created', 'state.db')}`;
    for (const args of [
      ['status', '--config', path, '--store', store],
      ['incidents', '--config', path, '--store', store],
      ['history', 'contoso', '--config', path, '--store', store],
    ]) {
      const quiet = await runCliCaptured(args, {});
      expect(quiet.code, args[0]).toBe(0);
      expect(quiet.stderr, args[0]).toBe('');
      const verbose = await runCliCaptured([...args, '--verbose'], {});
      expect(verbose.stderr, args[0]).toContain('203.0.113.10 is a documentation address');
    }
    const check = await runCliCaptured(
      [
        'check',
        '--config',
        path,
        '--no-store',
        '--no-blocklists',
        '--dns',
        'udp://127.0.0.1:9',
        '--dns-timeout',
        '100',
      ],
      {},
    );
    expect(check.stderr).toContain('203.0.113.10 is a documentation address');
    expect(check.stderr).toMatch(/warning: the secrets file .* is readable by every user on this machine/);
  });
});
