/**
 * The configuration as JSON (what `config push` uploads and the Lambdas read): the same document gives the same config
 * and the same problems (paths, severities, messages) as through the YAML loader, minus the line numbers.
 */
import { describe, expect, it } from 'vitest';
import { configJson, looksLikeJson, MAX_CONFIG_BYTES, parseConfigJson } from '../../../shared/config/document.ts';
import { parseConfig, readConfigDocument } from '../../../shared/config/load.ts';
import { ConfigError, type ConfigProblem } from '../../../shared/config/problems.ts';
import { readYaml } from '../../../shared/config/yaml-source.ts';
import { EXAMPLE_TEXT, HEADER, tenant, withoutLines, withTenants } from './helpers.ts';

/** The problems of a text through one reader, or `valid` with its warnings. */
function outcome(read: () => unknown): { readonly valid: boolean; readonly problems: readonly ConfigProblem[] } {
  try {
    const loaded = read() as { warnings: readonly ConfigProblem[] };
    return { valid: true, problems: loaded.warnings };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { valid: false, problems: err.problems };
  }
}

/** The YAML text's document as JSON text (the test's own conversion: the plain data the YAML reader gives). */
function asJson(yamlText: string, space?: number): string {
  const read = readYaml(yamlText);
  expect(read.usable && read.problems).toEqual([]);
  return JSON.stringify(read.value, null, space);
}

function expectSameProblems(yamlText: string): readonly ConfigProblem[] {
  const yaml = outcome(() => parseConfig(yamlText, 'test.yaml'));
  const json = outcome(() => parseConfigJson(asJson(yamlText), 'test.json'));
  expect(json.valid).toBe(yaml.valid);
  // The same problems; the order is the YAML's by line, the JSON's as found, so compared sorted.
  expect(json.problems.map(withoutLines).sort()).toEqual(yaml.problems.map(withoutLines).sort());
  for (const p of json.problems) {
    expect(p.line).toBeUndefined();
    expect(p.column).toBeUndefined();
    expect(p.message).not.toMatch(/\bline \d/);
  }
  return yaml.problems;
}

describe('parseConfigJson', () => {
  it('reads the example configuration as JSON to the same config and warnings as from YAML', () => {
    const yaml = parseConfig(EXAMPLE_TEXT, 'example.yaml');
    const json = parseConfigJson(asJson(EXAMPLE_TEXT), 'example.json');
    expect(json.config).toEqual(yaml.config);
    expect(json.warnings.length).toBeGreaterThan(0);
    expect(json.warnings.map(withoutLines).sort()).toEqual(yaml.warnings.map(withoutLines).sort());
    expect(json.path).toBe('example.json');
  });

  it('reports the same problems as the YAML loader for broken documents, minus the lines', () => {
    const broken: readonly string[] = [
      // a bad domain, an unknown key with a suggestion, a missing key, a wrong type
      withTenants(`  - id: a\n    name: A\n    domains: [contoso..com]\n    relayIp: [198.51.100.7]\n`),
      withTenants(`  - id: a\n    domains: [a.example]\n    tags: 7\n`),
      // duplicate tenant ids and a domain in two tenants (rule messages that name the other place)
      withTenants(`${tenant('a', 'x.example')}${tenant('a', 'x.example')}${tenant('b')}`),
      // relay addresses: private, duplicate, covered by a range, shared by two tenants (errors and warnings)
      withTenants(
        `  - id: a\n    name: A\n    domains: [a.example]\n    relayIps: [10.0.0.1, 203.0.113.0/24, 203.0.113.9, 192.0.2.1, 192.0.2.1]\n` +
          `  - id: b\n    name: B\n    domains: [b.example]\n    relayIps: [192.0.2.1]\n`,
      ),
      // another version: only the version is reported
      `version: 2\nmsp: { name: x }\ntenants: []\n`,
      // too few tenants, an unknown top-level key
      `version: 1\nmsp:\n  name: X\n  contact: { name: N, email: n@x.example }\ntenants: []\ntenant: []\n`,
      // submission: oauth missing its fields, a plain secret where a reference belongs (not shown), basic-only keys
      withTenants(
        `  - id: a\n    name: A\n    domains: [a.example]\n    submission:\n      auth: oauth\n      mailbox: scan@other.example\n      password: hunter2-plain\n      port: 25\n`,
      ),
      withTenants(
        `  - id: a\n    name: A\n    domains: [a.example]\n    submission:\n      auth: basic\n      mailbox: scan@a.example\n      password: { env: X, s3cr3t: 1 }\n`,
      ),
      // blocklists: an unknown zone, a zone enabled and disabled, a duplicate custom id, a key for no zone
      `${HEADER}${tenant('a')}blocklists:\n  zones:\n    enable: [spamhaus-zen, nope-zone, spamcop]\n    disable: [spamcop]\n` +
        `  custom:\n    - { id: mine, name: bl.mine.example }\n    - { id: mine, name: bl2.mine.example }\n  keys:\n    notazone: { env: K }\n`,
      // alerts: a duplicate route id, an unknown default route, a window that ends before it starts
      `${HEADER}  - id: a\n    name: A\n    domains: [a.example]\n    maintenance:\n      - { from: '2026-05-02T00:00:00Z', to: '2026-05-01T00:00:00Z' }\n` +
        `alerts:\n  default: [nowhere]\n  routes:\n    - { id: ops, webhook: { url: { env: U } } }\n    - { id: ops, webhook: { url: { env: V } } }\n`,
      // DNS settings out of range, an unknown key and __proto__ as an ordinary key
      `dns: { timeoutMs: 0, concurrency: 99999, resolver: [1.1.1.1] }\n__proto__: { x: 1 }\n${withTenants(tenant('t'))}`,
      // probe recipients outside the tenant's domains, listed twice
      withTenants(
        `  - id: a\n    name: A\n    domains: [a.example]\n    probeRecipients: [x@b.example, y@a.example, y@a.example]\n`,
      ),
    ];
    const counts = { errors: 0, warnings: 0, lineMessages: 0 };
    for (const text of broken) {
      const problems = expectSameProblems(text);
      expect(problems.length, text).toBeGreaterThan(0);
      counts.errors += problems.filter((p) => p.severity === 'error').length;
      counts.warnings += problems.filter((p) => p.severity === 'warning').length;
      counts.lineMessages += problems.filter((p) => / on line \d+/.test(p.message)).length;
    }
    // The documents exercise errors, warnings and messages that name another place by line.
    expect(counts.errors).toBeGreaterThan(20);
    expect(counts.warnings).toBeGreaterThan(2);
    expect(counts.lineMessages).toBeGreaterThan(2);
  });

  it('reads indented JSON, a byte order mark and spaces around the object', () => {
    const text = asJson(EXAMPLE_TEXT, 2);
    expect(parseConfigJson(`\uFEFF\n  ${text}\n`, 'x.json').config).toEqual(parseConfig(EXAMPLE_TEXT, 'x').config);
  });

  it('says what breaks the JSON and where, without quoting the text', () => {
    const secret = 'hunter2-Sup3r';
    const cases: readonly (readonly [string, string])[] = [
      [`{"version": 1, "tenants": [{"password": ${secret}}]}`, 'JSON syntax: unexpected content'],
      [`{"version": 1, "x": "${secret}\u0001"}`, 'JSON syntax: a string holds a control character'],
      [`{"version": 1, "x": "${secret}\\q"}`, 'JSON syntax: a string has an invalid escape sequence'],
      [`{"version": 1, "x": "${secret}`, 'JSON syntax: a string is never closed'],
      [`{"version": 1, ${secret}: 1}`, 'JSON syntax: a key must be a string in double quotes'],
      [`{"version": 1, "${secret}" 1}`, 'JSON syntax: a ":" is missing after a key'],
      [`{"version": 1 "${secret}": 1}`, 'JSON syntax: a "," or "}" is missing after a value'],
      [`{"version": 1, "x": [1 "${secret}"]}`, 'JSON syntax: a "," or "]" is missing after a list item'],
      [`{"version": 1} ${secret}`, 'JSON syntax: there is more text after the document'],
      [`{"version": 1, "${secret}":`, 'JSON syntax: the text ends too early'],
    ];
    for (const [text, start] of cases) {
      let err: unknown;
      try {
        parseConfigJson(text, 's3://b/k');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConfigError);
      const { message, problems } = err as ConfigError;
      expect(message, text).toMatch(/^invalid configuration s3:\/\/b\/k: 1 error\n {2}JSON syntax: /);
      expect(problems, text).toEqual([expect.objectContaining({ path: '', severity: 'error' })]);
      expect(problems[0]?.message.startsWith(start), `${text}: ${problems[0]?.message}`).toBe(true);
      expect(message, text).not.toContain('hunter2');
    }
    // Where V8 says the position: its line and column (compact JSON is one line).
    const p = outcome(() => parseConfigJson('{"version": 1,\n  "x" 1}', 'k')).problems[0];
    expect(p).toEqual({
      path: '',
      message: 'JSON syntax: a ":" is missing after a key (column 7)',
      severity: 'error',
      line: 2,
      column: 7,
    });
  });

  it('refuses an empty text, a document that is no object, and one over the size limit', () => {
    expect(() => parseConfigJson(' \n', 'k')).toThrow(/the file is empty; a configuration needs at least version/);
    expect(() => parseConfigJson('{}', 'k')).toThrow(ConfigError);
    expect(
      outcome(() => parseConfigJson('{}', 'k'))
        .problems.map(withoutLines)
        .sort(),
    ).toEqual(
      outcome(() => parseConfig('{}', 'k'))
        .problems.map(withoutLines)
        .sort(),
    );
    expect(() => parseConfigJson('[1]', 'k')).toThrow(
      /must be a JSON object with version, msp and tenants, not a list/,
    );
    expect(() => parseConfigJson('null', 'k')).toThrow(/not an empty value/);
    const big = `{"x": "${'x'.repeat(MAX_CONFIG_BYTES)}"}`;
    expect(() => parseConfigJson(big, 'k')).toThrow(/the file is 5 MiB, more than the 5 MiB a configuration may be/);
  });

  it('keeps the YAML reader limits, with its messages and paths', () => {
    // 40 mappings deep under an unknown key: both readers stop at the same path with the same message.
    let yamlText = 'version: 1\nx:\n';
    let jsonText = '1';
    for (let i = 0; i < 40; i++) {
      yamlText += `${'  '.repeat(i + 1)}a:${i === 39 ? ' 1' : ''}\n`;
      jsonText = `{"a": ${jsonText}}`;
    }
    jsonText = `{"version": 1, "x": ${jsonText}}`;
    const yaml = outcome(() => parseConfig(yamlText, 'k'));
    const json = outcome(() => parseConfigJson(jsonText, 'k'));
    expect(json.problems.map(withoutLines)).toEqual(yaml.problems.map(withoutLines));
    expect(json.problems.map(withoutLines)).toEqual([`error x${'.a'.repeat(32)}: nested more than 32 levels deep`]);
    const values = (n: number) => Array.from({ length: n }, () => '0').join(',');
    const many = outcome(() => parseConfigJson(`{"version": 1, "x": [${values(250_001)}]}`, 'k'));
    const manyYaml = outcome(() => parseConfig(`version: 1\nx: [${values(250_001)}]\n`, 'k'));
    expect(many.problems.map(withoutLines)).toEqual(manyYaml.problems.map(withoutLines));
    expect(many.problems.map(withoutLines)).toEqual(['error x[249997]: the document has more than 250000 values']);
  });

  it('reads numbers JSON and YAML cannot hold the same way', () => {
    const text = `{"version": 1, "dns": {"timeoutMs": 1e999, "concurrency": 99999999999999999999999}, ${asJson(
      withTenants(tenant('t')),
    )
      .slice(1)
      .replace('"version":1,', '')}`;
    expect(outcome(() => parseConfigJson(text, 'k')).problems.map(withoutLines)).toEqual([
      'error dns.timeoutMs: must be a number (found a number out of range)',
      'error dns.concurrency: must be at most 256',
    ]);
  });
});

describe('configJson', () => {
  it('serialises the document compactly; reading it back gives the same config', () => {
    const { loaded, document } = readConfigDocument(EXAMPLE_TEXT, 'example.yaml');
    const json = configJson(document);
    expect(json).not.toMatch(/\n|": /);
    expect(JSON.parse(json)).toEqual(readYaml(EXAMPLE_TEXT).value);
    expect(parseConfigJson(json, 'k').config).toEqual(loaded.config);
  });
});

describe('looksLikeJson', () => {
  it('is true for a text whose first character but spaces is {', () => {
    expect(looksLikeJson('{"version":1}')).toBe(true);
    expect(looksLikeJson('\uFEFF \n\t{')).toBe(true);
    expect(looksLikeJson('version: 1\n')).toBe(false);
    expect(looksLikeJson('# {\nversion: 1')).toBe(false);
    expect(looksLikeJson('')).toBe(false);
    // A YAML flow mapping is also JSON-looking: it goes to the JSON reader (YAML written that way is rare).
    expect(looksLikeJson('{ version: 1 }')).toBe(true);
  });
});
