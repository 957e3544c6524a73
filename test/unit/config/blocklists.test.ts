/**
 * The `blocklists` section: schema, rules across values (every problem with its path and line), the effective zone
 * list, and key references.
 */
import { describe, expect, it } from 'vitest';
import { ZONES } from '../../../shared/blocklist/registry.ts';
import { blocklistResolvers, blocklistZones, REGISTRY_ZONE_IDS } from '../../../shared/config/blocklists.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ConfigProblem } from '../../../shared/config/problems.ts';
import { RelaywatchConfigSchema } from '../../../shared/config/schema.ts';
import { resolveBlocklistKeys } from '../../../shared/config/secrets.ts';
import { accepted, EXAMPLE_TEXT, lineOf, problemAt, problemsOf } from './helpers.ts';

const TOP = `version: 1
msp:
  name: Northwind IT
  contact: { name: NOC, email: noc@northwind.example }
`;
const TENANTS = `tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
`;
/** Keys for both default-enabled key zones, so that a test sees only the warnings it is about. */
const KEYS = `  keys:
    spamhaus-zen-dqs: { env: SPAMHAUS_DQS_KEY }
    abusix: { secret: abusix-key }
`;

/** A config with `dns` (optional) and a `blocklists:` section whose body is `body`. */
function config(body: string, dns = ''): string {
  return `${TOP}${dns}blocklists:\n${body}${TENANTS}`;
}

const PRIVATE = '  resolvers: [udp://192.0.2.53]\n';

function customZone(fields: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    id: 'msp-private',
    name: 'bl.msp.example',
    operator: 'Northwind IT',
    scope: 'ip',
    kind: 'abuse',
    codes: '{127.0.0.2: {meaning: "listed by the NOC", kind: abuse}}',
    errorCodes: '{}',
    ipv6: 'false',
    key: 'null',
    publicResolvers: 'works',
    terms: '"internal"',
    lookupUrl: 'null',
    removalUrl: 'null',
    defaultEnabled: 'true',
    ...fields,
  };
  return `{ ${Object.entries(base)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')} }`;
}

function only(problems: readonly ConfigProblem[], severity: 'error' | 'warning'): ConfigProblem[] {
  return problems.filter((p) => p.severity === severity);
}

describe('blocklists: defaults and the effective zone list', () => {
  it('is optional; without it every defaultEnabled registry zone is queried through dns.resolvers', () => {
    const { config: c, warnings } = accepted(TOP + TENANTS);
    expect(c.blocklists).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(blocklistZones(c).map((z) => z.id)).toEqual(ZONES.filter((z) => z.defaultEnabled).map((z) => z.id));
    expect(blocklistResolvers(c)).toEqual(c.dns.resolvers);
  });

  it('fills in the defaults of an empty section', () => {
    const { config: c } = accepted(config(`  concurrency: 64\n${KEYS}`));
    expect(c.blocklists).toEqual({
      zones: { enable: [], disable: [] },
      custom: [],
      keys: { 'spamhaus-zen-dqs': { env: 'SPAMHAUS_DQS_KEY' }, abusix: { secret: 'abusix-key' } },
      dailyBudget: {},
      concurrency: 64,
      perZoneConcurrency: 16,
    });
  });

  it('applies enable, disable, custom zones and a tenant’s disable, registry order first', () => {
    const text = `${TOP}blocklists:
${PRIVATE}  zones:
    enable: [spamhaus-zen, off-by-default]
    disable: [spamcop, uceprotect-3, msp-private]
  custom:
    - ${customZone()}
    - ${customZone({ id: 'off-by-default', name: 'bl2.msp.example', defaultEnabled: 'false' })}
    - ${customZone({ id: 'third', name: 'bl3.msp.example' })}
${KEYS}tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    blocklists: { disable: [psbl, third] }
  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example]
`;
    const { config: c, warnings } = accepted(text);
    expect(warnings).toEqual([]);
    const expected = [
      ...ZONES.filter(
        (z) => (z.defaultEnabled || z.id === 'spamhaus-zen') && !['spamcop', 'uceprotect-3'].includes(z.id),
      ).map((z) => z.id),
      'off-by-default',
      'third',
    ];
    expect(blocklistZones(c).map((z) => z.id)).toEqual(expected);
    expect(blocklistZones(c, 'fabrikam').map((z) => z.id)).toEqual(expected);
    expect(blocklistZones(c, 'contoso').map((z) => z.id)).toEqual(
      expected.filter((id) => id !== 'psbl' && id !== 'third'),
    );
    expect(blocklistResolvers(c)).toEqual(['udp://192.0.2.53']);
    // The custom zone comes back as the shared schema produces it (defaults applied).
    expect(blocklistZones(c).find((z) => z.id === 'third')).toMatchObject({
      txt: false,
      registrationRequired: false,
      sources: [],
    });
  });

  it('is a fixed point of the schema', () => {
    const { config: c } = accepted(
      config(`${PRIVATE}  custom:\n    - ${customZone()}\n  dailyBudget: { spamhaus-zen-dqs: 1000 }\n${KEYS}`),
    );
    expect(RelaywatchConfigSchema.parse(c)).toEqual(c);
  });

  it('the commented-out example section is valid once uncommented, and warns about nothing', () => {
    const lines = EXAMPLE_TEXT.split('\n');
    const start = lines.indexOf('# blocklists:');
    expect(start).toBeGreaterThan(0);
    let end = start;
    while (lines[end + 1]?.startsWith('#   ')) end++;
    const block = lines.slice(start, end + 1).map((l) => l.slice(2));
    const text = [...lines.slice(0, start), ...block, ...lines.slice(end + 1)].join('\n');
    const { config: c, warnings } = parseConfig(text, 'example');
    expect(warnings.filter((w) => w.path.startsWith('blocklists'))).toEqual([]);
    expect(c.blocklists?.resolvers).toEqual(['udp://192.0.2.53']);
    expect(blocklistZones(c).map((z) => z.id)).toContain('northwind-private');
    expect(blocklistZones(c).map((z) => z.id)).toContain('spamhaus-zen');
    expect(blocklistZones(c).map((z) => z.id)).not.toContain('uceprotect-3');
  });
});

describe('blocklists: values', () => {
  it('checks resolvers, concurrency, budgets and the shape of each part', () => {
    const text = config(`  resolvers: [udp://dns.example, udp://192.0.2.53, udp://192.0.2.53]
  zones: { enable: [Spamhaus_ZEN], disable: spamcop }
  concurrency: 0
  perZoneConcurrency: 65
  dailyBudget: { spamhaus-zen-dqs: 0, spamcop: 1.5 }
  keys: []
  custom: {}
`);
    const p = problemsOf(text);
    const at = (path: string) => problemAt(p, path);
    expect(at('blocklists.resolvers[0]')).toMatchObject({
      line: lineOf(text, 'resolvers:'),
      message: expect.stringContaining('a plain DNS server must be an IP address'),
    });
    expect(at('blocklists.resolvers[2]')).toMatchObject({
      message: 'this resolver is listed twice (first at blocklists.resolvers[1] on line 6)',
      line: 6,
    });
    expect(at('blocklists.zones.enable[0]').message).toBe(
      '"Spamhaus_ZEN" is not a zone id: zone ids are kebab-case (a-z, 0-9, -), as in the blocklist registry',
    );
    expect(at('blocklists.zones.disable').message).toBe('must be a list (found a string)');
    expect(at('blocklists.concurrency')).toMatchObject({ message: 'must be at least 1', line: 8 });
    expect(at('blocklists.perZoneConcurrency')).toMatchObject({ message: 'must be at most 64', line: 9 });
    expect(at('blocklists.dailyBudget.spamhaus-zen-dqs').message).toBe(
      'must be at least 1 (to stop querying a zone, disable it)',
    );
    expect(at('blocklists.dailyBudget.spamcop').message).toBe('must be a whole number');
    expect(at('blocklists.keys').message).toBe('must be a mapping (key: value) (found a list)');
    expect(at('blocklists.custom').message).toBe('must be a list (found a mapping)');
  });

  it('names unknown keys with a suggestion', () => {
    const text = config(`  resolver: [udp://192.0.2.53]\n  zones: { enabled: [spamcop] }\n`);
    const p = problemsOf(text);
    expect(problemAt(p, 'blocklists.resolver')).toMatchObject({
      message: 'unknown key "resolver" (did you mean "resolvers"?)',
      line: 6,
      column: 3,
    });
    expect(problemAt(p, 'blocklists.zones.enabled').message).toBe('unknown key "enabled" (did you mean "enable"?)');
  });

  it('accepts a tenant’s blocklists.disable only with known keys', () => {
    const text = `${TOP}${TENANTS}    blocklists: { disabled: [psbl] }\n`;
    expect(problemAt(problemsOf(text), 'tenants[0].blocklists.disabled').message).toBe(
      'unknown key "disabled" (did you mean "disable"?)',
    );
  });
});

describe('blocklists: custom zones use the registry schema', () => {
  it('maps its problems to paths and lines in the file', () => {
    const text = config(`  custom:
    - ${customZone({ codes: '{127.0.0.2: {meaning: "listed by the NOC", kind: policy}}' })}
    - id: second
      name: Bl.Second.Example
      operator: Northwind IT
      scope: planet
      kind: abuse
      codes:
        127.0.0.1: { meaning: "x", kind: abuse }
        192.0.2.1: { meaning: "y", kind: abuse }
        127.0.0.3: { meaning: "z", kind: abuse, colour: red }
      errorCodes: {}
      ipv6: "no"
      key: null
      publicResolvers: works
      terms: t
      lookupUrl: ftp://x.example
      removalUrl: null
      defaultEnabled: true
      homepage: https://x.example
`);
    const p = problemsOf(text);
    expect(problemAt(p, 'blocklists.custom[0].codes["127.0.0.2"].kind')).toMatchObject({
      message: 'is policy but the zone kind is abuse (use kind: mixed)',
      line: 7,
      severity: 'error',
    });
    expect(problemAt(p, 'blocklists.custom[1].name')).toMatchObject({
      message: 'must be a lower-case DNS zone name, optionally starting with "{key}."',
      line: lineOf(text, 'Bl.Second'),
    });
    expect(problemAt(p, 'blocklists.custom[1].scope')).toMatchObject({
      message: 'must be "ip" or "range" or "asn" or "domain"',
      line: lineOf(text, 'planet'),
    });
    expect(problemAt(p, 'blocklists.custom[1].codes["192.0.2.1"]')).toMatchObject({
      message: 'must be an address in 127.0.0.0/8 written as a.b.c.d',
      line: lineOf(text, '192.0.2.1:'),
      column: 9,
    });
    expect(problemAt(p, 'blocklists.custom[1].codes["127.0.0.3"].colour')).toMatchObject({
      message: 'unknown key "colour" (allowed here: meaning, kind)',
      line: lineOf(text, 'colour'),
    });
    expect(problemAt(p, 'blocklists.custom[1].ipv6').message).toBe('must be true or false (found a string)');
    expect(problemAt(p, 'blocklists.custom[1].lookupUrl').message).toBe('must be an http(s) URL');
    expect(problemAt(p, 'blocklists.custom[1].homepage')).toMatchObject({
      message: expect.stringMatching(/^unknown key "homepage" \(allowed here: id, name, operator, /),
      line: lineOf(text, 'homepage'),
    });
  });

  it('runs the registry schema’s own rules (127.0.0.1, error codes, key placeholder)', () => {
    const text = config(`  custom:
    - ${customZone({ codes: '{127.0.0.1: {meaning: "x", kind: abuse}, 127.255.255.254: {meaning: "y", kind: abuse}}' })}
    - ${customZone({ id: 'keyed', name: '"{key}.bl.keyed.example"' })}
`);
    const p = problemsOf(text);
    expect(problemAt(p, 'blocklists.custom[0].codes["127.0.0.1"]').message).toBe(
      '127.0.0.1 must never be listed (RFC 5782 §5)',
    );
    expect(problemAt(p, 'blocklists.custom[0].codes["127.255.255.254"]').message).toBe(
      '127.255.255.0/24 is reserved for error answers',
    );
    expect(problemAt(p, 'blocklists.custom[1].key')).toMatchObject({
      message: 'the name has a {key} placeholder, so key must be set',
      line: 8,
    });
  });

  it('refuses a custom zone whose id or name is a registry zone’s, or another custom zone’s', () => {
    const text = config(`  custom:
    - ${customZone({ id: 'spamcop' })}
    - ${customZone({ id: 'mine', name: 'zen.spamhaus.org' })}
    - ${customZone({ id: 'mine' })}
`);
    const p = problemsOf(text);
    expect(problemAt(p, 'blocklists.custom[0].id')).toMatchObject({
      message: expect.stringMatching(/^"spamcop" is the id of a registry zone \(bl\.spamcop\.net, /),
      line: 7,
      severity: 'error',
    });
    expect(problemAt(p, 'blocklists.custom[1].name')).toMatchObject({
      message:
        '"zen.spamhaus.org" is already in the registry as "spamhaus-zen"; enable that zone instead (blocklists.zones.enable)',
      line: 8,
    });
    expect(problemAt(p, 'blocklists.custom[2].id')).toMatchObject({
      message: '"mine" is already the id of blocklists.custom[1].id on line 8; zone ids must be unique',
      line: 9,
    });
    expect(problemAt(p, 'blocklists.custom[2].name')).toMatchObject({
      message: '"bl.msp.example" is already the name of blocklists.custom[0].name on line 7; list each zone once',
      line: 9,
    });
  });
});

describe('blocklists: zone ids', () => {
  it('reports an unknown id in enable, disable, dailyBudget and a tenant’s disable, listing the known ids', () => {
    const text = `${TOP}blocklists:
  zones:
    enable: [spamhause-zen]
    disable: [spamcopp]
  custom:
    - ${customZone()}
  dailyBudget:
    nope: 10
    msp-private: 10
${TENANTS}    blocklists: { disable: [psbl, zzz] }
`;
    const p = only(problemsOf(text), 'error');
    const known = [...REGISTRY_ZONE_IDS, 'msp-private'].join(', ');
    expect(p).toEqual([
      {
        path: 'blocklists.zones.enable[0]',
        message: `unknown zone id "spamhause-zen"; known zone ids: ${known}`,
        severity: 'error',
        line: 7,
        column: 14,
      },
      {
        path: 'blocklists.zones.disable[0]',
        message: `unknown zone id "spamcopp"; known zone ids: ${known}`,
        severity: 'error',
        line: 8,
        column: 15,
      },
      {
        path: 'blocklists.dailyBudget.nope',
        message: `unknown zone id "nope"; known zone ids: ${known}`,
        severity: 'error',
        line: 12,
        column: 11,
      },
      {
        path: 'tenants[0].blocklists.disable[1]',
        message: `unknown zone id "zzz"; known zone ids: ${known}`,
        severity: 'error',
        line: lineOf(text, 'zzz'),
        column: 35,
      },
    ]);
  });

  it('refuses an id both enabled and disabled (at both places) and an id twice in one list', () => {
    const text = config(`  zones:
    enable: [spamhaus-zen, spamcop]
    disable:
      - spamcop
      - psbl
      - psbl
`);
    const p = only(problemsOf(text), 'error');
    expect(p.map((x) => [x.path, x.line, x.message])).toEqual([
      [
        'blocklists.zones.enable[1]',
        7,
        'zone "spamcop" is both enabled and disabled (disabled at blocklists.zones.disable[0] on line 9); keep one',
      ],
      [
        'blocklists.zones.disable[0]',
        9,
        'zone "spamcop" is both enabled and disabled (enabled at blocklists.zones.enable[1] on line 7); keep one',
      ],
      [
        'blocklists.zones.disable[2]',
        11,
        'zone "psbl" is listed twice (first at blocklists.zones.disable[1] on line 10)',
      ],
    ]);
  });
});

describe('blocklists: keys', () => {
  it('warns about a key for a zone that takes none (registry or custom)', () => {
    const text = config(`${KEYS}    spamcop: { env: SPAMCOP_KEY }
    msp-private: { env: MSP_KEY }
  custom:
    - ${customZone()}
`);
    const { warnings } = accepted(text);
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([
      ['blocklists.keys.spamcop', 9, 'zone "spamcop" (bl.spamcop.net) takes no key; this key is not used'],
      ['blocklists.keys.msp-private', 10, 'zone "msp-private" (bl.msp.example) takes no key; this key is not used'],
    ]);
  });

  it('warns about each enabled key zone without a key: default, enabled and custom', () => {
    const text = config(`  zones: { disable: [abusix] }
  custom:
    - ${customZone({ id: 'msp-key', name: '"{key}.bl.msp.example"', key: '{required: true, placement: label-prefix}' })}
`);
    const { warnings } = accepted(text);
    expect(warnings.map((w) => [w.path, w.line, w.severity, w.message])).toEqual([
      [
        'blocklists',
        5,
        'warning',
        expect.stringMatching(
          /^zone "spamhaus-zen-dqs" \(Spamhaus Technology.*\) needs a key and blocklists\.keys\.spamhaus-zen-dqs is not set; it will be reported as not checked \(or disable it: blocklists\.zones\.disable\)$/,
        ),
      ],
      [
        'blocklists.custom[0]',
        8,
        'warning',
        'zone "msp-key" (Northwind IT) needs a key and blocklists.keys.msp-key is not set; it will be reported as not checked (or disable it: blocklists.zones.disable)',
      ],
    ]);
  });

  it('says nothing about key zones when the section is absent (the run reports them as not checked)', () => {
    expect(accepted(TOP + TENANTS).warnings).toEqual([]);
  });

  it('says nothing about a disabled key zone', () => {
    expect(accepted(config('  zones: { disable: [abusix, spamhaus-zen-dqs] }\n')).warnings).toEqual([]);
  });

  it('reports a key for an unknown zone without showing the id (it may be the key itself)', () => {
    const text = config(`  keys:
    spamhaus-zen-dqs: { env: SPAMHAUS_DQS_KEY }
    Wr0ngPlac3dK3y: { env: X }
`);
    const p = only(problemsOf(text), 'error');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ path: 'blocklists.keys', line: 8, column: 5 });
    expect(p[0]?.message).toMatch(/^a key names no zone \(not shown: it may be the key itself\); /);
    expect(JSON.stringify(p)).not.toContain('Wr0ng');
  });

  it('resolves key references; one that does not resolve is a warning naming the variable', () => {
    const { config: c } = accepted(config(KEYS));
    const r = resolveBlocklistKeys(c, { env: { SPAMHAUS_DQS_KEY: 'k3y-value' } });
    expect([...r.keys]).toEqual([['spamhaus-zen-dqs', 'k3y-value']]);
    expect(r.warnings).toEqual([
      {
        path: 'blocklists.keys.abusix',
        message:
          'secret "abusix-key" is referenced but there is no secrets file (set secrets.file in the config or RELAYWATCH_SECRETS_FILE); zone "abusix" will be reported as not checked',
        severity: 'warning',
      },
    ]);
    expect(resolveBlocklistKeys(accepted(TOP + TENANTS).config, { env: {} })).toEqual({
      keys: new Map(),
      warnings: [],
    });
  });
});

describe('blocklists: zones that refuse public resolvers', () => {
  const enable = '  zones: { enable: [spamhaus-zen, barracuda] }\n';

  it('warns when every resolver is public (the default dns.resolvers)', () => {
    const text = config(`${enable}${KEYS}`);
    const { warnings } = accepted(text);
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([
      [
        'blocklists.zones.enable[0]',
        6,
        expect.stringMatching(
          /^zone "spamhaus-zen" needs a private resolver \(.* refuses queries through public resolvers and DoH\) and every resolver here is public; set blocklists\.resolvers, or it will be reported as not checked/,
        ),
      ],
      [
        'blocklists.zones.enable[1]',
        6,
        expect.stringMatching(/^zone "barracuda" needs a private resolver .* it will be reported as not checked/),
      ],
    ]);
  });

  it('warns with public dns.resolvers given as udp, and for a custom zone enabled by default', () => {
    const text = config(
      `  custom:\n    - ${customZone({ publicResolvers: 'refused' })}\n${KEYS}`,
      'dns:\n  resolvers: [udp://8.8.8.8, "udp://[2606:4700:4700::1111]"]\n',
    );
    const { warnings } = accepted(text);
    expect(warnings.map((w) => [w.path, w.line])).toEqual([['blocklists.custom[0]', 9]]);
    expect(warnings[0]?.message).toMatch(/^zone "msp-private" needs a private resolver \(Northwind IT refuses/);
  });

  it('says nothing when a private resolver is configured, in blocklists.resolvers or dns.resolvers', () => {
    expect(accepted(config(`${PRIVATE}${enable}${KEYS}`)).warnings).toEqual([]);
    expect(
      accepted(
        config(`${enable}${KEYS}`, 'dns:\n  resolvers: [doh:https://cloudflare-dns.com/dns-query, udp://192.0.2.53]\n'),
      ).warnings,
    ).toEqual([]);
  });

  it('uses blocklists.resolvers instead of dns.resolvers when both are given', () => {
    const text = config(
      `  resolvers: [doh:https://dns.google/dns-query]\n${enable}${KEYS}`,
      'dns:\n  resolvers: [udp://192.0.2.53]\n',
    );
    expect(accepted(text).warnings.map((w) => w.path)).toEqual([
      'blocklists.zones.enable[0]',
      'blocklists.zones.enable[1]',
    ]);
  });
});

describe('blocklists: every problem at once', () => {
  it('reports errors in source order, then warnings, each with its path and line', () => {
    const text = config(`  zones:
    enable: [spamhaus-zen, nope]
    disable: [spamhaus-zen]
  keys:
    spamcop: { env: SPAMCOP }
    abusix: plain-text-key
  custom:
    - ${customZone({ id: 'psbl' })}
  concurrency: 1000
`);
    const p = problemsOf(text);
    expect(p.map((x) => `${x.severity} ${x.path} ${x.line}`)).toEqual([
      'error blocklists.zones.enable[0] 7',
      'error blocklists.zones.enable[1] 7',
      'error blocklists.zones.disable[0] 8',
      'error blocklists.keys.abusix 11',
      'error blocklists.custom[0].id 13',
      'error blocklists.concurrency 14',
      'warning blocklists 5',
      'warning blocklists.keys.spamcop 10',
    ]);
    expect(problemAt(p, 'blocklists.keys.abusix').message).toBe(
      'must be a reference to a secret, not the secret itself: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString)',
    );
  });
});
