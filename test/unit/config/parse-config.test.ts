import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_BYTES, parseConfig } from '../../../shared/config/load.ts';
import { ConfigError, formatProblem } from '../../../shared/config/problems.ts';
import { DEFAULT_RESOLVERS, RelaywatchConfigSchema } from '../../../shared/config/schema.ts';
import {
  accepted,
  EXAMPLE_TEXT,
  errorOf,
  lineOf,
  lines,
  problemAt,
  problemsOf,
  tenant,
  withTenants,
} from './helpers.ts';

describe('the example configuration', () => {
  it('loads without errors; its only warnings are for its documentation addresses', () => {
    const { config, warnings, path } = parseConfig(EXAMPLE_TEXT, 'examples/relaywatch.yaml');
    expect(path).toBe('examples/relaywatch.yaml');
    expect(config.msp.name).toBe('Northwind IT');
    expect(config.tenants.map((t) => t.id)).toEqual(['contoso', 'fabrikam', 'tailspin']);
    expect(warnings.map((w) => ({ path: w.path, line: w.line, severity: w.severity }))).toEqual([
      { path: 'tenants[0].relayIps[0]', line: lineOf(EXAMPLE_TEXT, '- 203.0.113.10'), severity: 'warning' },
      { path: 'tenants[1].relayIps[0]', line: lineOf(EXAMPLE_TEXT, '- 198.51.100.23'), severity: 'warning' },
      { path: 'tenants[1].relayIps[1]', line: lineOf(EXAMPLE_TEXT, '- "2001:db8:fab::25"'), severity: 'warning' },
    ]);
    expect(warnings[0]?.message).toBe(
      '203.0.113.10 is a documentation address (TEST-NET-3, RFC 5737): fine in examples and tests, but no real site sends from it',
    );
    expect(warnings[2]?.message).toContain('(2001:db8::/32, RFC 3849)');
  });

  it('has one healthy relay tenant, one with a known mistake and one on OAuth submission', () => {
    const { config } = parseConfig(EXAMPLE_TEXT, 'example');
    const [contoso, fabrikam, tailspin] = config.tenants;
    expect(contoso).toMatchObject({
      domains: [{ name: 'contoso.example', expectedMx: 'contoso-example.mail.protection.outlook.com' }],
      relayIps: ['203.0.113.10'],
      probeRecipients: ['probe@contoso.example'],
    });
    expect(EXAMPLE_TEXT).toContain('"v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all"');
    expect(fabrikam?.relayIps).toEqual(['198.51.100.23', '2001:db8:fab::25']);
    expect(EXAMPLE_TEXT).toContain('"v=spf1 ip4:198.51.100.7 include:spf.protection.outlook.com -all"');
    expect(tailspin?.relayIps).toEqual([]);
    expect(tailspin?.submission).toEqual({
      auth: 'oauth',
      mailbox: 'scanner@tailspin.example',
      host: 'smtp.office365.com',
      port: 587,
      entraTenantId: '00000000-0000-4000-8000-000000000001',
      clientId: '00000000-0000-4000-8000-000000000002',
      clientSecret: { env: 'RELAYWATCH_TAILSPIN_CLIENT_SECRET' },
    });
  });

  it('uses only reserved example domains and documentation addresses', () => {
    const { config } = parseConfig(EXAMPLE_TEXT, 'example');
    for (const t of config.tenants) {
      for (const d of t.domains) expect(d.name).toMatch(/\.example$/);
      for (const ip of t.relayIps) expect(ip).toMatch(/^(203\.0\.113\.|198\.51\.100\.|192\.0\.2\.|2001:db8:)/);
    }
    expect(config.msp.contact.email).toMatch(/@northwind\.example$/);
  });

  it('is a fixed point of the schema (parsing the parsed config changes nothing)', () => {
    const { config } = parseConfig(EXAMPLE_TEXT, 'example');
    expect(RelaywatchConfigSchema.parse(config)).toEqual(config);
  });
});

describe('paths and lines', () => {
  it('reports a bad domain exactly as documented', () => {
    const text = withTenants(
      `${tenant('alpha')}${tenant('beta')}  - id: contoso
    name: Contoso Ltd
${'    # padding\n'.repeat(14)}    domains:
      - contoso..com
`,
    );
    const err = errorOf(text, 'relaywatch.yaml');
    expect(err.problems).toHaveLength(1);
    expect(formatProblem(err.problems[0] as never)).toBe(
      'tenants[2].domains[0]: "contoso..com" is not a valid domain name (line 31)',
    );
    expect(err.problems[0]).toEqual({
      path: 'tenants[2].domains[0]',
      message: '"contoso..com" is not a valid domain name',
      line: 31,
      column: 9,
      severity: 'error',
    });
  });

  it('points at the key of an unknown key and names it, with a suggestion when one is close', () => {
    const text = withTenants(`  - id: contoso
    name: Contoso
    domains: [contoso.example]
    relayIP: [203.0.113.10]
    colour: blue
`);
    const problems = problemsOf(text);
    expect(problemAt(problems, 'tenants[0].relayIP')).toMatchObject({
      message: 'unknown key "relayIP" (did you mean "relayIps"?)',
      line: 11,
      column: 5,
    });
    expect(problemAt(problems, 'tenants[0].colour').message).toBe(
      'unknown key "colour" (allowed here: id, name, domains, relayIps, relay, submission, probeMailbox, probeRecipients, tags, blocklists, alerts, maintenance, mutes)',
    );
  });

  it('reports unknown keys at every level', () => {
    const text = `version: 1
extra: 1
msp:
  name: N
  nmae: N
  contact: { name: C, email: c@n.example, fax: 1 }
dns: { timeout: 5 }
secrets: { file: s.yaml, path: x }
tenants:
  - id: t
    name: T
    domains: [{ name: t.example, expectedMX: t-example.mail.protection.outlook.com }]
    submission: { auth: basic, mailbox: a@t.example, password: { env: P, value: x } }
`;
    const problems = problemsOf(text);
    expect(lines(problems)).toEqual([
      'extra: unknown key "extra" (allowed here: version, msp, dns, secrets, blocklists, agent, ingest, state, incidents, alerts, digest, tenants) (line 2)',
      'msp.nmae: unknown key "nmae" (did you mean "name"?) (line 5)',
      'msp.contact.fax: unknown key "fax" (allowed here: name, email, phone) (line 6)',
      'dns.timeout: unknown key "timeout" (did you mean "timeoutMs"?) (line 7)',
      'secrets.path: unknown key "path" (allowed here: file) (line 8)',
      'tenants[0].domains[0].expectedMX: unknown key "expectedMX" (did you mean "expectedMx"?) (line 12)',
      // Inside a secret reference an unknown key is not shown: it may be the secret (`password: {hunter2}`).
      'tenants[0].submission.password: has an unknown key (not shown: it may be the secret); use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString) (line 13)',
    ]);
  });

  it('points a missing key at the mapping that lacks it', () => {
    const text = `version: 1
msp:
  name: Northwind IT
  contact:
    name: NOC
tenants:
  - id: t
    name: T
    domains: [t.example]
`;
    expect(lines(problemsOf(text))).toEqual(['msp.contact.email: is required (line 4)']);
  });

  it('describes a wrong type without quoting the value', () => {
    const text = withTenants(`  - id: t
    name: [T]
    domains: t.example
    relayIps: 203.0.113.10
    tags: { gold: true }
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].name: must be a string (found a list) (line 9)',
      'tenants[0].domains: must be a list (found a string) (line 10)',
      'tenants[0].relayIps: must be a list (found a string) (line 11)',
      'tenants[0].tags: must be a list (found a mapping) (line 12)',
    ]);
  });
});

describe('top level', () => {
  it('needs version 1 and reports only the version when it is another', () => {
    expect(lines(problemsOf(`version: 2\nmsp: 5\n`))).toEqual([
      'version: must be 1: this relaywatch reads configuration version 1 (line 1)',
    ]);
    expect(lines(problemsOf(`version: "1"\n`))).toEqual([
      'version: must be 1: this relaywatch reads configuration version 1 (line 1)',
    ]);
    const missing = problemsOf(withTenants(tenant('t')).replace('version: 1\n', ''));
    expect(lines(missing)).toEqual(['version: is required: this relaywatch reads version 1 (line 1)']);
  });

  it('needs at least one tenant and one domain per tenant', () => {
    expect(lines(problemsOf(`${withTenants('')}`))).toEqual([
      'tenants: must be a list (found an empty value) (line 7)',
    ]);
    expect(lines(problemsOf(withTenants('  []\n').replace('tenants:\n  []', 'tenants: []')))).toEqual([
      'tenants: must list at least one tenant (line 7)',
    ]);
    expect(lines(problemsOf(withTenants('  - { id: t, name: T, domains: [] }\n')))).toEqual([
      'tenants[0].domains: must list at least one domain (line 8)',
    ]);
  });

  it('fills in the DNS defaults', () => {
    const { config } = accepted(withTenants(tenant('t')));
    expect(config.dns).toEqual({ resolvers: [...DEFAULT_RESOLVERS], timeoutMs: 2500, concurrency: 32 });
    expect(config.tenants[0]?.relayIps).toEqual([]);
  });

  it('checks DNS settings', () => {
    const text = `dns:
  resolvers:
    - doh:https://dns.internal.example/dns-query
    - https://dns.internal.example/other
    - udp://192.0.2.53
    - udp://192.0.2.53:5353
    - tcp://[2001:db8::53]:53
    - udp://[2001:db8::53]
    - http://dns.internal.example/dns-query
    - udp://dns.internal.example
    - doh:https://user:pa55@dns.internal.example/q
    - 192.0.2.53
    - udp://192.0.2.53:70000
    - udp://192.0.2.53
  timeoutMs: 50
  concurrency: 1000
  caFile: ./ca.pem
${withTenants(tenant('t'))}`;
    expect(lines(problemsOf(text))).toEqual([
      'dns.resolvers[6]: DNS over HTTPS needs an https:// URL; use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port] (line 9)',
      'dns.resolvers[7]: a plain DNS server must be an IP address (a DNS server cannot be found by name); use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port] (line 10)',
      'dns.resolvers[8]: the DoH URL must not contain a user name or password (they would appear in logs); use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port] (line 11)',
      'dns.resolvers[9]: is not a resolver; use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port] (line 12)',
      'dns.resolvers[10]: the port must be 1..65535; use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port] (line 13)',
      'dns.resolvers[11]: this resolver is listed twice (first at dns.resolvers[2] on line 5) (line 14)',
      'dns.timeoutMs: must be at least 100 (line 15)',
      'dns.concurrency: must be at most 256 (line 16)',
    ]);
    // The credentials in the refused URL are not repeated.
    expect(errorOf(text).message).not.toContain('pa55');
  });

  it('accepts a minimal valid DNS section and keeps caFile as written', () => {
    const { config } = accepted(
      `dns: { resolvers: ["udp://192.0.2.53"], caFile: ./ca.pem }\n${withTenants(tenant('t'))}`,
    );
    expect(config.dns).toEqual({
      resolvers: ['udp://192.0.2.53'],
      timeoutMs: 2500,
      concurrency: 32,
      caFile: './ca.pem',
    });
  });
});

describe('tenants', () => {
  it('checks ids, names and tags', () => {
    const text = withTenants(`  - id: Contoso
    name: ""
    domains: [contoso.example]
    tags: [gold, Gold, ${'x'.repeat(33)}, gold]
  - id: -fabrikam
    name: "Fabrikam\\u0007"
    domains: [fabrikam.example]
  - id: ${'a'.repeat(64)}
    name: Long
    domains: [long.example]
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].id: "Contoso" is not a valid tenant id: use lower-case letters, digits and hyphens (1..63 characters, starting with a letter or digit) (line 8)',
      'tenants[0].name: the tenant name must not be empty (line 9)',
      'tenants[0].tags[1]: "Gold" is not a valid tag: use lower-case letters, digits and hyphens (1..32 characters, starting with a letter or digit) (line 11)',
      `tenants[0].tags[2]: "${'x'.repeat(33)}" is not a valid tag: use lower-case letters, digits and hyphens (1..32 characters, starting with a letter or digit) (line 11)`,
      'tenants[0].tags[3]: tag "gold" is listed twice (first at tenants[0].tags[0] on line 11) (line 11)',
      'tenants[1].id: "-fabrikam" is not a valid tenant id: use lower-case letters, digits and hyphens (1..63 characters, starting with a letter or digit) (line 12)',
      'tenants[1].name: the tenant name must not contain control characters (line 13)',
      `tenants[2].id: "${'a'.repeat(64)}" is not a valid tenant id: use lower-case letters, digits and hyphens (1..63 characters, starting with a letter or digit) (line 15)`,
    ]);
  });

  it('reports a duplicate tenant id at both places', () => {
    const text = withTenants(`${tenant('contoso')}${tenant('fabrikam')}${tenant('contoso', 'contoso2.example')}`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].id: duplicate tenant id "contoso": also used by tenants[2].id on line 14; ids must be unique (line 8)',
      'tenants[2].id: duplicate tenant id "contoso": also used by tenants[0].id on line 8; ids must be unique (line 14)',
    ]);
  });

  it('still finds a duplicate id when the tenants have other problems', () => {
    const text = withTenants(`  - { id: contoso, name: A, domains: [bad..name] }
  - { id: contoso, name: B, domains: [b.example], relayIps: [10.0.0.1] }
`);
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual([
      'tenants[0].id',
      'tenants[0].domains[0]',
      'tenants[1].id',
      'tenants[1].relayIps[0]',
    ]);
  });
});

describe('domains', () => {
  it('normalises names: lower case, A-labels, no trailing dot, always objects', () => {
    const text = withTenants(`  - id: t
    name: T
    domains:
      - Contoso.Example.
      - bücher.example
      - { name: FABRIKAM.example, expectedMx: FABRIKAM-example.mail.protection.outlook.com. }
`);
    expect(accepted(text).config.tenants[0]?.domains).toEqual([
      { name: 'contoso.example' },
      { name: 'xn--bcher-kva.example' },
      { name: 'fabrikam.example', expectedMx: 'fabrikam-example.mail.protection.outlook.com' },
    ]);
  });

  it('names the field of an object entry', () => {
    const text = withTenants(`  - id: t
    name: T
    domains:
      - name: contoso
        expectedMx: -bad.example
      - { expectedMx: x.example }
      - 42
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].domains[0].name: "contoso" is not a valid domain name: it needs at least two labels (e.g. contoso.com) (line 11)',
      'tenants[0].domains[0].expectedMx: "-bad.example" is not a valid host name: a label cannot start or end with a hyphen (line 12)',
      'tenants[0].domains[1].name: is required (line 13)',
      'tenants[0].domains[2]: must be a string or a mapping (found a number) (line 14)',
    ]);
  });

  it('rejects the same domain twice in one tenant (after normalisation)', () => {
    const text = withTenants(`  - id: t
    name: T
    domains:
      - contoso.example
      - CONTOSO.example.
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].domains[1]: domain "contoso.example" is listed twice (first at tenants[0].domains[0] on line 11) (line 12)',
    ]);
  });

  it('rejects a domain in two tenants, at both places: a domain belongs to one Microsoft 365 tenant', () => {
    const text = withTenants(`${tenant('contoso', 'shared.example')}${tenant('fabrikam', 'Shared.Example')}`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].domains[0]: domain "shared.example" is also listed for tenant "fabrikam" (tenants[1].domains[0] on line 13); a domain can be verified in only one Microsoft 365 tenant (line 10)',
      'tenants[1].domains[0]: domain "shared.example" is also listed for tenant "contoso" (tenants[0].domains[0] on line 10); a domain can be verified in only one Microsoft 365 tenant (line 13)',
    ]);
  });
});

describe('relayIps', () => {
  it('normalises entries', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relayIps: [8.8.8.8, "2A01:111:F400:0:0:0:0:25", "::ffff:8.8.4.4", 8.8.8.0/29, 1.1.1.1/32]
`);
    expect(accepted(text).config.tenants[0]?.relayIps).toEqual([
      '8.8.8.8',
      '2a01:111:f400::25',
      '8.8.4.4',
      '8.8.8.0/29',
      '1.1.1.1',
    ]);
  });

  it('rejects private and other non-public addresses, bad ranges and duplicates', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relayIps:
      - 192.168.1.20
      - 100.64.3.4
      - 203.0.113.5/29
      - 203.0.112.0/23
      - fd12:3456::1
      - 8.8.8.8
      - 8.8.8.8
      - printer.t.example
`);
    expect(lines(problemsOf(text))).toEqual([
      `tenants[0].relayIps[0]: "192.168.1.20" is a private address (RFC 1918); Exchange Online sees the site's public egress IP (line 12)`,
      `tenants[0].relayIps[1]: "100.64.3.4" is a carrier-grade NAT address (RFC 6598, 100.64.0.0/10); Exchange Online sees the ISP's public address (line 13)`,
      'tenants[0].relayIps[2]: "203.0.113.5/29" has host bits set; the network is 203.0.113.0/29 (line 14)',
      'tenants[0].relayIps[3]: "203.0.112.0/23" is a range of more than 256 addresses; relayIps take single addresses and ranges up to /24 (IPv4) or /120 (IPv6) (line 15)',
      `tenants[0].relayIps[4]: "fd12:3456::1" is a unique local address (fc00::/7, the IPv6 private range); Exchange Online sees the site's public egress IP (line 16)`,
      'tenants[0].relayIps[6]: relay address 8.8.8.8 is listed twice (first at tenants[0].relayIps[5] on line 17) (line 18)',
      'tenants[0].relayIps[7]: "printer.t.example" is not an IP address or CIDR range (e.g. 203.0.113.10, 2001:db8::25, 203.0.113.0/29) (line 19)',
    ]);
  });

  it('warns about documentation addresses and about entries already covered by a range', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relayIps: [8.8.8.0/29, 8.8.8.5, "2001:db8::25"]
`);
    const { warnings } = accepted(text);
    expect(lines(warnings)).toEqual([
      'warning: tenants[0].relayIps[1]: 8.8.8.5 is already covered by 8.8.8.0/29 (tenants[0].relayIps[0] on line 11) (line 11)',
      'warning: tenants[0].relayIps[2]: 2001:db8::25 is a documentation address (2001:db8::/32, RFC 3849): fine in examples and tests, but no real site sends from it (line 11)',
    ]);
  });

  it('allows one relay address in several tenants, with a warning at the later ones', () => {
    const text = withTenants(`  - id: contoso
    name: Contoso
    domains: [contoso.example]
    relayIps: [8.8.8.0/29]
  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example]
    relayIps: [8.8.8.5]
  - id: tailspin
    name: Tailspin
    domains: [tailspin.example]
    relayIps: [8.8.8.5, 9.9.9.9]
`);
    const { config, warnings } = accepted(text);
    expect(config.tenants.map((t) => t.relayIps)).toEqual([['8.8.8.0/29'], ['8.8.8.5'], ['8.8.8.5', '9.9.9.9']]);
    expect(lines(warnings)).toEqual([
      'warning: tenants[1].relayIps[0]: 8.8.8.5 is also a relay address of tenant "contoso" (8.8.8.0/29 at tenants[0].relayIps[0] on line 11): fine for a shared building or hosted relay, but a block-listing of it affects each of these tenants (line 15)',
      'warning: tenants[2].relayIps[0]: 8.8.8.5 is also a relay address of tenant "contoso" (8.8.8.0/29 at tenants[0].relayIps[0] on line 11), tenant "fabrikam" (8.8.8.5 at tenants[1].relayIps[0] on line 15): fine for a shared building or hosted relay, but a block-listing of it affects each of these tenants (line 19)',
    ]);
  });
});

describe('alerts, incidents, maintenance and mutes', () => {
  const routes = `alerts:
  routes:
    - id: noc-slack
      slack: { webhookUrl: { env: SLACK_URL } }
    - id: psa
      minSeverity: critical
      email: { from: relaywatch@msp.example, to: [help@psa.example], ses: { region: eu-west-2 } }
  default: [noc-slack]
`;
  it('accepts routes, defaults and per-tenant routing, maintenance and mutes', () => {
    const text = `${withTenants(`  - id: t
    name: T
    domains: [t.example]
    alerts: { routes: [psa] }
    maintenance:
      - { days: [sat], start: "22:00", end: "06:00", timeZone: Europe/London }
      - { from: "2026-11-28T08:00:00+00:00", until: "2026-11-28T14:00:00+00:00" }
    mutes:
      - { until: "2026-12-01T00:00:00Z", check: blocklist, reason: delisting requested }
`)}${routes}incidents:
  remindEveryHours: 12
  checks: { probe-relay: { openAfter: 3 } }
`;
    const { config } = accepted(text);
    expect(config.alerts?.routes.map((r) => [r.id, r.minSeverity])).toEqual([
      ['noc-slack', 'warning'],
      ['psa', 'critical'],
    ]);
    expect(config.tenants[0]?.alerts).toEqual({ routes: ['psa'], inheritDefault: true });
    expect(config.tenants[0]?.maintenance).toHaveLength(2);
    expect(config.incidents?.checks?.['probe-relay']).toEqual({ openAfter: 3 });
    expect(config.state).toEqual({ retentionDays: 90 });
  });

  it('rejects unknown routes, two channels in one route, a window that ends before it starts, a plain webhook URL', () => {
    const text = `${withTenants(`  - id: t
    name: T
    domains: [t.example]
    alerts: { routes: [pager] }
    maintenance:
      - { from: "2026-11-28T14:00:00Z", until: "2026-11-28T08:00:00Z" }
      - { days: [someday], start: "25:00", end: "06:00", timeZone: Mars/Olympus }
`)}alerts:
  routes:
    - id: both
      slack: { webhookUrl: { env: A } }
      teams: { webhookUrl: { env: B } }
    - id: hook
      webhook: { url: "https://hooks.example/T0SECRETPATH", secret: { env: C } }
    - id: mail
      email: { from: a@msp.example, to: [b@msp.example] }
  default: [nope]
`;
    const problems = problemsOf(text);
    expect(problemAt(problems, 'tenants[0].alerts.routes[0]').message).toMatch(
      /names no route "pager" \(routes: both, hook, mail\)/,
    );
    expect(problemAt(problems, 'alerts.default[0]').message).toMatch(/names no route "nope"/);
    expect(problemAt(problems, 'alerts.routes[0]').message).toMatch(/one channel per route/);
    expect(problemAt(problems, 'alerts.routes[2].email').message).toMatch(/exactly one of smtp or ses/);
    expect(problemAt(problems, 'tenants[0].maintenance[0].until').message).toBe('must be after from');
    expect(problemAt(problems, 'alerts.routes[1].webhook.url').message).toMatch(/must be a reference to a secret/);
    expect(JSON.stringify(problems)).not.toContain('T0SECRETPATH');
    expect(problems.some((p) => p.path.startsWith('tenants[0].maintenance[1]'))).toBe(true);
  });
});

describe('agent (the site agent)', () => {
  it('takes an id, an ingest URL, a secret reference and egress methods, with defaults for the schedule', () => {
    const text = `${withTenants(tenant('t'))}agent:
  id: t-hq
  ingestUrl: https://ingest.example/agent
  secret: { env: T_AGENT_SECRET }
  egress:
    - { dns: myip.opendns.com, server: "udp://208.67.222.222" }
    - { https: "https://api.ipify.org" }
`;
    const { config } = accepted(text);
    expect(config.agent).toEqual({
      id: 't-hq',
      ingestUrl: 'https://ingest.example/agent',
      secret: { env: 'T_AGENT_SECRET' },
      egress: [
        { dns: 'myip.opendns.com', type: 'A', server: 'udp://208.67.222.222' },
        { https: 'https://api.ipify.org' },
      ],
      intervalMinutes: 15,
      jitterSeconds: 60,
      heartbeatMinutes: 60,
    });
  });

  it('requires https for the ingest URL, except to a loopback address', () => {
    const at = (url: string) => `${withTenants(tenant('t'))}agent:\n  id: t-hq\n  ingestUrl: ${url}\n`;
    expect(problemAt(problemsOf(at('http://ingest.example/agent')), 'agent.ingestUrl').message).toMatch(
      /must be an https URL \(http is accepted only for a loopback address/,
    );
    expect(problemAt(problemsOf(at('http://10.0.0.5/agent')), 'agent.ingestUrl').message).toMatch(/https/);
    for (const ok of ['http://127.0.0.1:8080/ingest', 'http://localhost:8080/ingest', 'http://[::1]:8080/ingest']) {
      expect(accepted(at(ok)).config.agent?.ingestUrl).toBe(ok);
    }
  });

  it('rejects a recursive-resolver name as the egress server, a plain secret, and unknown keys', () => {
    const text = `${withTenants(tenant('t'))}agent:
  id: "bad id"
  secret: hunter2-plain
  egress:
    - { dns: myip.opendns.com, server: resolver1.opendns.com }
  intervall: 5
`;
    const problems = problemsOf(text);
    expect(problemAt(problems, 'agent.id').message).toMatch(/letters, digits/);
    expect(problemAt(problems, 'agent.secret').message).toMatch(/must be a reference to a secret/);
    expect(problemAt(problems, 'agent.egress[0].server').message).toMatch(/udp:\/\/IP/);
    expect(problemAt(problems, 'agent.intervall').message).toMatch(/unknown key "intervall"/);
    expect(JSON.stringify(problems)).not.toContain('hunter2-plain');
  });
});

describe('relay (the relay probe)', () => {
  it('defaults to port 25 and STARTTLS when offered; host stays unset (the MX decides at run time)', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relay: { sender: Scanner@T.example }
    probeRecipients: [probe@t.example]
`);
    const { config, warnings } = accepted(text);
    expect(warnings).toEqual([]);
    expect(config.tenants[0]?.relay).toEqual({ sender: 'Scanner@t.example', port: 25, tls: 'if-offered' });
  });

  it('warns when the sender domain is not a tenant domain, and rejects unknown keys and bad values', () => {
    const warn = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relay: { sender: scanner@other.example, host: relay.t.example, port: 2525, tls: required }
`);
    expect(lines(accepted(warn).warnings)).toEqual([
      `warning: tenants[0].relay.sender: the sender's domain "other.example" is not among the tenant's domains; Exchange Online relays only for accepted domains, and the relay endpoint is taken from the sender domain's MX: list it under domains (or correct the sender) (line 11)`,
    ]);
    const bad = withTenants(`  - id: t
    name: T
    domains: [t.example]
    relay: { sender: not-an-address, tls: sometimes, prot: 25 }
`);
    const problems = problemsOf(bad);
    expect(problemAt(problems, 'tenants[0].relay.sender').severity).toBe('error');
    expect(problemAt(problems, 'tenants[0].relay.tls').message).toMatch(/if-offered|required/);
    expect(problemAt(problems, 'tenants[0].relay.prot').message).toMatch(/unknown key "prot".*did you mean "port"/);
  });
});

describe('submission', () => {
  it('fills in host and port and accepts basic auth with a secret reference', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission: { mailbox: Scanner@T.example, auth: basic, password: { secret: t-scanner } }
`);
    expect(accepted(text).config.tenants[0]?.submission).toEqual({
      auth: 'basic',
      mailbox: 'Scanner@t.example',
      host: 'smtp.office365.com',
      port: 587,
      password: { secret: 't-scanner' },
    });
  });

  it('reports every field oauth needs and is missing', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@t.example
      auth: oauth
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].submission.entraTenantId: is required for auth: oauth (the Entra tenant ID or one of its domains) (line 11)',
      "tenants[0].submission.clientId: is required for auth: oauth (the Entra application's client ID, a GUID) (line 11)",
      'tenants[0].submission.clientSecret: is required: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString) (line 11)',
    ]);
  });

  it('checks the oauth fields, the auth kind and keys of the other kind', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@t.example
      auth: oauth
      entraTenantId: not a tenant
      clientId: 1234
      clientSecret: { env: T_SECRET }
      password: { env: T_PASSWORD }
  - id: u
    name: U
    domains: [u.example]
    submission: { mailbox: scanner@u.example, auth: ntlm }
  - id: v
    name: V
    domains: [v.example]
    submission: { mailbox: scanner@v.example }
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].submission.entraTenantId: must be the Entra tenant ID (a GUID) or one of its domains (e.g. contoso.onmicrosoft.com) (line 14)',
      'tenants[0].submission.clientId: must be a string (found a number) (line 15)',
      'tenants[0].submission.password: unknown key "password" for auth: oauth (password belongs to auth: basic) (line 17)',
      'tenants[1].submission.auth: must be oauth or basic (line 21)',
      'tenants[2].submission.auth: is required: oauth or basic (line 25)',
    ]);
  });

  it('accepts an Entra tenant given by domain and normalises GUIDs', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@t.example
      auth: oauth
      entraTenantId: T.onmicrosoft.com
      clientId: 0000000A-0000-4000-8000-00000000000B
      clientSecret: { env: T_SECRET }
`);
    expect(accepted(text).config.tenants[0]?.submission).toMatchObject({
      entraTenantId: 't.onmicrosoft.com',
      clientId: '0000000a-0000-4000-8000-00000000000b',
    });
  });

  it('warns when the mailbox is outside the tenant domains and when the port is not 587', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@other.example
      auth: basic
      password: { env: T_PASSWORD }
      port: 465
`);
    expect(lines(accepted(text).warnings)).toEqual([
      `warning: tenants[0].submission.mailbox: the mailbox's domain "other.example" is not among the tenant's domains; list it under domains so that its SPF and MX are checked too (or correct the mailbox) (line 12)`,
      'warning: tenants[0].submission.port: port 465 is unusual: Exchange Online accepts SMTP AUTH submission on 587 with STARTTLS (465 and implicit TLS are not supported) (line 15)',
    ]);
  });

  it('checks secret references', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission: { mailbox: a@t.example, auth: basic, password: { env: A, secret: b } }
  - id: u
    name: U
    domains: [u.example]
    submission: { mailbox: a@u.example, auth: basic, password: { env: 1ABC } }
  - id: v
    name: V
    domains: [v.example]
    submission: { mailbox: a@v.example, auth: basic, password: { secret: "-x" } }
  - id: w
    name: W
    domains: [w.example]
    submission: { mailbox: a@w.example, auth: basic, password: {} }
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].submission.password: needs exactly one of env, secret, secretsManager or ssm: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString) (line 11)',
      'tenants[1].submission.password.env: must be the name of an environment variable (letters, digits and _, not starting with a digit) (line 15)',
      'tenants[2].submission.password.secret: must be the name of an entry in the secrets file (letters, digits, _, . and -, at most 128) (line 19)',
      'tenants[3].submission.password: needs exactly one of env, secret, secretsManager or ssm: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString) (line 23)',
    ]);
  });
});

describe('probeRecipients', () => {
  it('must be in the tenant domains, valid and listed once', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example, t2.example]
    probeRecipients:
      - probe@t.example
      - probe@elsewhere.example
      - not-an-address
      - Probe@T.example
`);
    expect(lines(problemsOf(text))).toEqual([
      `tenants[0].probeRecipients[1]: "probe@elsewhere.example" is outside the tenant's domains (t.example, t2.example); probe messages go only to the tenant's own domains (line 13)`,
      'tenants[0].probeRecipients[2]: "not-an-address" is not a valid e-mail address: it needs the form name@domain (line 14)',
      'tenants[0].probeRecipients[3]: probe recipient "Probe@t.example" is listed twice (first at tenants[0].probeRecipients[0] on line 12) (line 15)',
    ]);
  });
});

describe('many problems at once', () => {
  it('reports every problem, each with its path and line, in source order', () => {
    const text = `version: 1
msp:
  name: ""
  contact: { name: NOC, email: noc@@northwind.example }
tenants:
  - id: contoso
    name: Contoso
    domains: [contoso.example, contoso..example]
    relayIps: [10.0.0.1]
    probeRecipients: [probe@fabrikam.example]
  - id: contoso
    name: Fabrikam
    domains: [contoso.example]
    submission: { mailbox: a@contoso.example, auth: oauth, clientSecret: "s3cr3t-value" }
    shoeSize: 44
`;
    const err = errorOf(text, 'many.yaml');
    expect(err.name).toBe('ConfigError');
    expect(err.problems.map((p) => `${p.path} @${p.line}`)).toEqual([
      'msp.name @3',
      'msp.contact.email @4',
      'tenants[0].id @6',
      'tenants[0].domains[0] @8',
      'tenants[0].domains[1] @8',
      'tenants[0].relayIps[0] @9',
      'tenants[0].probeRecipients[0] @10',
      'tenants[1].id @11',
      'tenants[1].domains[0] @13',
      'tenants[1].submission.entraTenantId @14',
      'tenants[1].submission.clientId @14',
      'tenants[1].submission.clientSecret @14',
      'tenants[1].shoeSize @15',
    ]);
    // The message: a heading, then every problem on its own line.
    const messageLines = err.message.split('\n');
    expect(messageLines[0]).toBe('invalid configuration many.yaml: 13 errors');
    expect(messageLines.slice(1)).toEqual(err.problems.map((p) => `  ${formatProblem(p)}`));
    expect(err.message).not.toContain('s3cr3t-value');
  });

  it('includes warnings found alongside errors', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t..example]
    relayIps: [203.0.113.10]
`);
    const err = errorOf(text);
    expect(err.problems.map((p) => p.severity)).toEqual(['error', 'warning']);
    expect(err.message.split('\n')[0]).toBe('invalid configuration test.yaml: 1 error, 1 warning');
  });
});

describe('YAML', () => {
  it('reports syntax errors with line and column, without quoting the source', () => {
    const text = `version: 1
msp:
  name: Northwind: IT
  contact: x
`;
    const problems = problemsOf(text);
    expect(problems[0]).toEqual({
      path: '',
      message: 'YAML syntax: a nested mapping or list is not allowed here (check the indentation, or quote the value)',
      line: 3,
      column: 9,
      severity: 'error',
    });
    expect(JSON.stringify(problems)).not.toContain('Northwind');
    const unclosed = problemsOf('version: 1\nmsp:\n  name: "Northwind IT\n  contact: x\n');
    expect(unclosed.every((p) => p.line !== undefined && p.column !== undefined && p.path === '')).toBe(true);
  });

  it('reports tabs used as indentation', () => {
    const problems = problemsOf('version: 1\nmsp:\n\tname: x\n');
    expect(problems.some((p) => p.message.includes('tabs are not allowed') && p.line === 3)).toBe(true);
  });

  it('reports duplicate keys with both lines', () => {
    const text = withTenants(`  - id: t
    name: T
    domains: [t.example]
    name: U
`);
    expect(lines(problemsOf(text))).toEqual([
      'tenants[0].name: duplicate key "name" (first at line 9); each key may appear once (line 11)',
    ]);
  });

  it('reports an empty file and a file of comments clearly', () => {
    for (const text of ['', '   \n', '# nothing here\n', '---\n']) {
      expect(lines(problemsOf(text))).toEqual([
        'the file is empty; a configuration needs at least version, msp and tenants (an example: relaywatch check --config examples/relaywatch.yaml)',
      ]);
    }
  });

  it('needs a mapping at the top', () => {
    expect(lines(problemsOf('- version: 1\n'))).toEqual([
      'the file must be a YAML mapping (key: value) with version, msp and tenants, not a list (line 1)',
    ]);
    expect(lines(problemsOf('hello\n'))).toEqual([
      'the file must be a YAML mapping (key: value) with version, msp and tenants, not a string (line 1)',
    ]);
  });

  it('refuses several documents, tags and collection keys', () => {
    expect(problemsOf(`${withTenants(tenant('t'))}---\nversion: 1\n`)[0]?.message).toBe(
      'YAML syntax: the file holds more than one YAML document (---); a config is one document',
    );
    expect(problemsOf(withTenants(tenant('t')).replace('name: Northwind IT', 'name: !secret x'))[0]?.message).toContain(
      'YAML tags (!name) are not supported',
    );
    expect(lines(problemsOf(withTenants(tenant('t')).replace('version: 1', '? [a, b]\n: 1\nversion: 1')))).toEqual([
      'keys must be plain strings, not lists or mappings (line 1)',
    ]);
  });

  it('accepts anchors and aliases within limits, and refuses alias bombs', () => {
    const ok = withTenants(`  - id: t
    name: T
    domains: [t.example]
    tags: &tags [gold]
  - id: u
    name: U
    domains: [u.example]
    tags: *tags
`);
    expect(accepted(ok).config.tenants[1]?.tags).toEqual(['gold']);

    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
`;
    expect(problemsOf(bomb)[0]?.message).toBe('more than 100 aliases (*name) are used');
    expect(problemsOf('a: &a [1, *a]\n')[0]?.message).toMatch(/alias/);
    expect(problemsOf('a: *nope\n')[0]?.message).toMatch(/alias/);
  });

  it('refuses deep nesting before the YAML parser sees it', () => {
    for (const text of [
      '['.repeat(5_000_000),
      `a: ${'['.repeat(40)}${']'.repeat(40)}`,
      `a: ${'{b: '.repeat(5000)}`,
      `a:\n  ${'- '.repeat(100_000)}x`,
      `${'? '.repeat(100_000)}x`,
    ]) {
      const problems = problemsOf(text);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ path: '', message: 'nested more than 32 levels deep', severity: 'error' });
    }
    // Value nesting through block mappings is caught while converting, with the path.
    const deep = Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    expect(problemsOf(deep)[0]).toMatchObject({ message: 'nested more than 32 levels deep', line: 34 });
  });

  it('refuses text with more lines and values than any configuration has', () => {
    for (const text of [
      '\n'.repeat(400_001),
      '\r'.repeat(400_001),
      `k: ${'[]'.repeat(500_000)}`,
      'k: 1\n'.repeat(300_000),
    ]) {
      expect(lines(problemsOf(text))[0]).toMatch(
        /^the file has more than 400000 lines and values; that is not a configuration \(is it the right file\?\) \(line \d+\)$/,
      );
    }
  });

  it('stays fast and short when thousands of tenants repeat one id, domain and address', () => {
    const body = '  - { id: dup, name: D, domains: [dup.example], relayIps: [8.8.8.8] }\n'.repeat(3000);
    const started = performance.now();
    const problems = problemsOf(withTenants(body));
    // A guard against pathological (quadratic-or-worse) duplicate reporting, not a speed measurement (that is
    // `npm run bench`): 0.8 s alone here, 7 s on a machine shared by eight test runs; quadratic would be minutes.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(problems.filter((p) => p.severity === 'error')).toHaveLength(6000);
    expect(problemAt(problems, 'tenants[0].id').message).toBe(
      'duplicate tenant id "dup": also used by tenants[1].id on line 9, tenants[2].id on line 10, tenants[3].id on line 11 and 2996 more; ids must be unique',
    );
    expect(problemAt(problems, 'tenants[2999].relayIps[0]').message).toMatch(/ and 2996 more: fine for a shared/);
  });

  it('lists at most 200 problems in the message and keeps them all', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `  x${i}: 1`).join('\n');
    const err = errorOf(withTenants(tenant('t')).replace('msp:\n', `msp:\n${keys}\n`));
    expect(err.problems).toHaveLength(300);
    const messageLines = err.message.split('\n');
    expect(messageLines).toHaveLength(202);
    expect(messageLines[0]).toBe('invalid configuration test.yaml: 300 errors');
    expect(messageLines[201]).toBe('  … and 100 more (all are in .problems)');
  });

  it('treats __proto__ as an ordinary (unknown) key', () => {
    const text = withTenants(tenant('t')).replace('version: 1', 'version: 1\n__proto__: { polluted: true }');
    expect(lines(problemsOf(text))).toEqual([
      '__proto__: unknown key "__proto__" (allowed here: version, msp, dns, secrets, blocklists, agent, ingest, state, incidents, alerts, digest, tenants) (line 2)',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a byte order mark and CRLF line ends', () => {
    const text = `\uFEFF${withTenants(tenant('t'))}`.replaceAll('\n', '\r\n');
    expect(accepted(text).config.tenants[0]?.id).toBe('t');
    const bad = `\uFEFF${withTenants(tenant('t', 'bad..example'))}`.replaceAll('\n', '\r\n');
    expect(problemAt(problemsOf(bad), 'tenants[0].domains[0]').line).toBe(10);
  });

  it('refuses a text larger than the limit', () => {
    const big = `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`;
    expect(lines(problemsOf(big))).toEqual([
      'the file is 5 MiB, more than the 5 MiB a configuration may be; is it the right file?',
    ]);
    expect(() => parseConfig(withTenants(tenant('t')), 'small', { maxBytes: 50 })).toThrow(ConfigError);
  });

  it('keeps YAML 1.2 semantics: no, on and 0755 are what they look like', () => {
    const text = withTenants(`  - id: t
    name: no
    domains: [t.example]
    tags: [on, off, "0755"]
`);
    expect(accepted(text).config.tenants[0]).toMatchObject({ name: 'no', tags: ['on', 'off', '0755'] });
  });

  it('reports numbers that YAML cannot hold as out of range, not as Infinity', () => {
    const text = `dns: { timeoutMs: 1e999, concurrency: 99999999999999999999999 }\n${withTenants(tenant('t'))}`;
    expect(lines(problemsOf(text))).toEqual([
      'dns.timeoutMs: must be a number (found a number out of range) (line 1)',
      'dns.concurrency: must be at most 256 (line 1)',
    ]);
  });
});
