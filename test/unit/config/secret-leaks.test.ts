/**
 * A secret typed where a reference belongs must not be echoed anywhere: not in the ConfigError message, not in its
 * problems, not in warnings, not in the parsed config.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { ConfigError } from '../../../shared/config/problems.ts';
import { withTenants } from './helpers.ts';

const SECRET = 'Pa55-w0rd-9c1e4b7a';
const NUMERIC = '86420975318642';

function submission(lines: string): string {
  return withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@t.example
${lines}`);
}

const OAUTH = `      auth: oauth
      entraTenantId: t.onmicrosoft.com
      clientId: 00000000-0000-4000-8000-000000000002
`;

const CASES: Record<string, string> = {
  'plain string as clientSecret': submission(`${OAUTH}      clientSecret: ${SECRET}\n`),
  'quoted string as clientSecret': submission(`${OAUTH}      clientSecret: "${SECRET}"\n`),
  'block scalar as clientSecret': submission(`${OAUTH}      clientSecret: |\n        ${SECRET}\n`),
  'number as password': submission(`      auth: basic\n      password: ${NUMERIC}\n`),
  'list as password': submission(`      auth: basic\n      password: [${SECRET}]\n`),
  'plain string as password': submission(`      auth: basic\n      password: ${SECRET}\n`),
  'secret as env name': submission(`      auth: basic\n      password: { env: "${SECRET}!" }\n`),
  'secret as secret name': submission(`      auth: basic\n      password: { secret: "${SECRET}!" }\n`),
  'secret under an unknown key': submission(`      auth: basic\n      password: { value: ${SECRET} }\n`),
  'secret as a flow-mapping key': submission(`      auth: basic\n      password: {${SECRET}}\n`),
  'secret as a key with a value': submission(`      auth: basic\n      password: { ${SECRET}: x }\n`),
  'secret as a duplicated key': submission(`      auth: basic\n      password: { ${SECRET}: 1, ${SECRET}: 2 }\n`),
  'secret as a nested key': submission(`      auth: basic\n      password:\n        ${SECRET}:\n          x: 1\n`),
  'secret beside env': submission(`      auth: basic\n      password: { env: PW, secret: "${SECRET}!" }\n`),
  'password with oauth': submission(`${OAUTH}      clientSecret: { env: X }\n      password: ${SECRET}\n`),
  'password with no auth': submission(`      password: ${SECRET}\n`),
  'duplicated password': submission(`      auth: basic\n      password: ${SECRET}\n      password: ${SECRET}\n`),
  'secret with a YAML tag': submission(`      auth: basic\n      password: !vault ${SECRET}\n`),
  'unclosed quote': submission(`      auth: basic\n      password: "${SECRET}\n`),
  'bad escape': submission(`      auth: basic\n      password: "${SECRET}\\q"\n`),
  'colon in plain scalar': submission(`      auth: basic\n      password: ${SECRET}: x\n`),
  'trailing text after a flow mapping': submission(`      auth: basic\n      password: { env: PW } ${SECRET}\n`),
  'secret as the mailbox password in the wrong place': submission(
    `      auth: basic\n      password: { env: PW }\n      pass: ${SECRET}\n`,
  ),
};

describe('secret values never appear in errors', () => {
  it.each(Object.entries(CASES))('%s', (_name, text) => {
    let err: unknown;
    try {
      parseConfig(text, 'leak.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    const everything = [e.message, e.stack ?? '', JSON.stringify(e.problems), String(e)].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(NUMERIC);
    expect(everything).not.toContain('Pa55');
  });

  it('says to use env or the secrets file when a plain value is given', () => {
    try {
      parseConfig(CASES['plain string as clientSecret'] ?? '', 'leak.yaml');
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigError).problems;
      expect(problems).toEqual([
        {
          path: 'tenants[0].submission.clientSecret',
          message:
            'must be a reference to a secret, not the secret itself: use { env: NAME } (an environment variable) or { secret: name } (an entry of the secrets file)',
          line: 16,
          column: 21,
          severity: 'error',
        },
      ]);
    }
  });

  it('keeps only the reference in a valid config', () => {
    const { config, warnings } = parseConfig(
      submission(`      auth: basic\n      password: { env: SCANNER_PASSWORD }\n`),
      'ok.yaml',
    );
    expect(JSON.stringify(config)).toContain('"password":{"env":"SCANNER_PASSWORD"}');
    expect(warnings).toEqual([]);
  });
});
