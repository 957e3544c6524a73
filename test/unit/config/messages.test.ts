import { describe, expect, it } from 'vitest';
import { lines, problemsOf, tenant, withTenants } from './helpers.ts';

/** Each snippet is one tenant (or a tenant plus a top-level section) with one mistake a user could make. */
const MISTAKES: Record<string, string> = {
  'submission host localhost': `  - id: a
    name: A
    domains: [a.example]
    submission: { auth: basic, host: localhost, mailbox: a@a.example, password: { env: X } }
`,
  'relay host with a space': `  - id: a
    name: A
    domains: [a.example]
    relay: { sender: scan@a.example, host: "smtp relay.example" }
`,
  'weekly window with a bad day': `  - id: a
    name: A
    domains: [a.example]
    maintenance:
      - { days: [mon, funday], start: "01:00", end: "02:00", timeZone: Europe/London }
`,
  'one-off window with a bad time': `  - id: a
    name: A
    domains: [a.example]
    maintenance:
      - { from: yesterday, until: "2026-12-01T00:00:00Z" }
`,
  'window mixing both forms': `  - id: a
    name: A
    domains: [a.example]
    maintenance:
      - { days: [mon], start: "1am", end: "02:00", timeZone: Europe/London }
`,
  'domain entry as a number': `  - id: a
    name: A
    domains: [42]
`,
  'e-mail route smtp host localhost': `${tenant('a')}alerts:
  routes:
    - id: psa
      email: { from: rw@n.example, to: [psa@n.example], smtp: { host: localhost } }
`,
  'egress method by DNS with a bad server': `${tenant('a')}agent:
  id: site-1
  egress:
    - { dns: myip.opendns.com, server: "resolver1.opendns.com" }
`,
};

describe('configuration messages', () => {
  for (const [name, body] of Object.entries(MISTAKES)) {
    it(`says what is wrong, never "Invalid input": ${name}`, () => {
      const shown = lines(problemsOf(withTenants(body)));
      expect(shown.length).toBeGreaterThan(0);
      for (const l of shown) expect(l).not.toMatch(/invalid input/i);
    });
  }

  it('refuses localhost as a submission host, saying what is allowed', () => {
    expect(lines(problemsOf(withTenants(MISTAKES['submission host localhost'] ?? '')))).toEqual([
      'tenants[0].submission.host: "localhost" is a single-label name, which is not accepted: use a fully qualified host name (e.g. smtp.office365.com) or an IP address (for this machine, 127.0.0.1 or ::1) (line 11)',
    ]);
  });

  it('reports the problem of the maintenance form the window uses', () => {
    expect(lines(problemsOf(withTenants(MISTAKES['weekly window with a bad day'] ?? ''))).join('\n')).toMatch(
      /maintenance\[0\]\.days\[1\]: must be "mon" or .*"sun"/,
    );
    expect(lines(problemsOf(withTenants(MISTAKES['one-off window with a bad time'] ?? ''))).join('\n')).toMatch(
      /maintenance\[0\]\.from: must be an ISO 8601 time/,
    );
  });

  it('points a YAML syntax error at the line of the unclosed quote, not the end of the file', () => {
    const text = withTenants(`  - id: "a
    name: A
    domains: [a.example]
    relayIps: []
x: 1
`);
    expect(text.split('\n').length).toBeGreaterThan(12);
    expect(lines(problemsOf(text))).toEqual([
      'YAML syntax: a value opened with " here is never closed (the closing " is missing) (line 8)',
    ]);
  });

  it('points an unclosed [ at the line it opens', () => {
    const text = withTenants(`  - id: a
    name: A
    domains: [a.example, b.example
    relayIps: []
`);
    expect(lines(problemsOf(text))).toEqual(['YAML syntax: a [ opened here is never closed (add the ]) (line 10)']);
  });

  it('keeps the position of other syntax errors', () => {
    const text = withTenants(`  - id: "a" b
    name: A
`);
    expect(lines(problemsOf(text))[0]).toMatch(/^YAML syntax: unexpected content .*\(line 8\)$/);
  });
});
