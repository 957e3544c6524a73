import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { ConfigError } from '../../../shared/config/problems.ts';
import {
  checkSecretRefs,
  describeSecretRef,
  resolveSecret,
  SecretsFile,
  secretRefs,
  secretsFilePath,
} from '../../../shared/config/secrets.ts';
import { loadSecretsFile, parseSecretsFile } from '../../../shared/config/secrets-file.ts';
import { EXAMPLE_TEXT, withTenants } from './helpers.ts';

const SECRET = 'Sup3r-S3cret-Value-7f3a';

describe('resolveSecret', () => {
  const file = new SecretsFile('/etc/relaywatch/secrets.yaml', new Map([['contoso-scanner', SECRET]]));

  it('reads environment variables', () => {
    expect(resolveSecret({ env: 'SCANNER_PW' }, { env: { SCANNER_PW: SECRET } })).toEqual({ ok: true, value: SECRET });
    expect(resolveSecret({ env: 'SCANNER_PW' }, { env: {} })).toEqual({
      ok: false,
      reason: 'environment variable SCANNER_PW is not set',
    });
    expect(resolveSecret({ env: 'SCANNER_PW' }, { env: { SCANNER_PW: '' } })).toEqual({
      ok: false,
      reason: 'environment variable SCANNER_PW is empty',
    });
  });

  it('does not read inherited properties of the environment object', () => {
    expect(resolveSecret({ env: 'toString' }, { env: {} }).ok).toBe(false);
  });

  it('reads secrets-file entries', () => {
    expect(resolveSecret({ secret: 'contoso-scanner' }, { env: {}, secretsFile: file })).toEqual({
      ok: true,
      value: SECRET,
    });
    expect(resolveSecret({ secret: 'fabrikam' }, { env: {}, secretsFile: file })).toEqual({
      ok: false,
      reason: 'secret "fabrikam" is not in the secrets file /etc/relaywatch/secrets.yaml',
    });
    expect(resolveSecret({ secret: 'fabrikam' }, { env: {} })).toEqual({
      ok: false,
      reason:
        'secret "fabrikam" is referenced but there is no secrets file (set secrets.file in the config or RELAYWATCH_SECRETS_FILE)',
    });
  });

  it('describes references without values', () => {
    expect(describeSecretRef({ env: 'A_B' })).toBe('environment variable A_B');
    expect(describeSecretRef({ secret: 'x' })).toBe('secret "x"');
  });
});

describe('SecretsFile', () => {
  it('never shows its values when logged or serialised', () => {
    const file = new SecretsFile('/s.yaml', new Map([['a', SECRET]]));
    expect(JSON.stringify(file)).toBe('{"path":"/s.yaml","names":["a"]}');
    expect(String(file)).toBe('SecretsFile(/s.yaml: a)');
    expect(inspect(file, { showHidden: true, depth: 10 })).not.toContain(SECRET);
    expect(inspect({ nested: file }, { depth: 10 })).not.toContain(SECRET);
    expect(Object.keys(file)).toEqual(['path']);
  });
});

describe('secret references in a config', () => {
  const { config } = parseConfig(EXAMPLE_TEXT, 'example');

  it('lists them with their paths', () => {
    expect(secretRefs(config)).toEqual([
      { path: 'tenants[2].submission.clientSecret', ref: { env: 'RELAYWATCH_TAILSPIN_CLIENT_SECRET' } },
    ]);
  });

  it('reports each one that does not resolve', () => {
    expect(checkSecretRefs(config, { env: {} })).toEqual([
      {
        path: 'tenants[2].submission.clientSecret',
        message: 'environment variable RELAYWATCH_TAILSPIN_CLIENT_SECRET is not set',
        severity: 'error',
      },
    ]);
    expect(checkSecretRefs(config, { env: { RELAYWATCH_TAILSPIN_CLIENT_SECRET: SECRET } })).toEqual([]);
  });

  it('finds the secrets file: the environment variable first, then secrets.file next to the config', () => {
    const withFile = parseConfig(
      withTenants('  - { id: t, name: T, domains: [t.example] }\n').replace(
        'tenants:',
        'secrets: { file: ./secrets.yaml }\ntenants:',
      ),
      'x',
    ).config;
    expect(secretsFilePath(withFile, { env: {}, configPath: '/etc/relaywatch/relaywatch.yaml' })).toBe(
      '/etc/relaywatch/secrets.yaml',
    );
    expect(
      secretsFilePath(withFile, {
        env: { RELAYWATCH_SECRETS_FILE: '/run/secrets/relaywatch.yaml' },
        configPath: '/etc/relaywatch/relaywatch.yaml',
      }),
    ).toBe('/run/secrets/relaywatch.yaml');
    expect(secretsFilePath(config, { env: {}, configPath: '/etc/relaywatch/relaywatch.yaml' })).toBeUndefined();
  });
});

describe('parseSecretsFile', () => {
  it('reads a YAML map and a JSON object', () => {
    const yaml = parseSecretsFile(`contoso-scanner: "${SECRET}"\nfabrikam.oauth: 'x y z'\n`, 's.yaml');
    expect(yaml.names()).toEqual(['contoso-scanner', 'fabrikam.oauth']);
    expect(yaml.get('fabrikam.oauth')).toBe('x y z');
    const json = parseSecretsFile(`{\n\t"contoso-scanner": "${SECRET}"\n}\n`, 's.json');
    expect(json.get('contoso-scanner')).toBe(SECRET);
  });

  it('refuses non-string values, bad names, duplicates and nesting, naming the entry and never the value', () => {
    const text = `good: "${SECRET}"
pin: 0123456
flag: true
"bad name": "${SECRET}"
nested: { a: "${SECRET}" }
empty: ""
good: "${SECRET}-2"
`;
    let err: unknown;
    try {
      parseSecretsFile(text, 's.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message.split('\n')).toEqual([
      'invalid secrets file s.yaml: 6 errors',
      '  pin: must be a string; quote the value (a number or true/false loses its exact spelling) (line 2)',
      '  flag: must be a string; quote the value (a number or true/false loses its exact spelling) (line 3)',
      '  ["bad name"]: "bad name" is not a valid secret name (letters, digits, _, . and -, at most 128) (line 4)',
      '  nested: must be a string; quote the value (a number or true/false loses its exact spelling) (line 5)',
      '  empty: is empty (line 6)',
      '  good: duplicate key "good" (first at line 1); each key may appear once (line 7)',
    ]);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain('0123456');
  });

  it('describes syntax errors without quoting the line', () => {
    for (const text of [`a: "${SECRET}\n`, `a: "${SECRET}\\q"\n`, `a: ${SECRET}: b\n`, `a: !vault ${SECRET}\n`]) {
      expect(() => parseSecretsFile(text, 's.yaml')).toThrow(ConfigError);
      try {
        parseSecretsFile(text, 's.yaml');
      } catch (e) {
        expect((e as ConfigError).message).not.toContain(SECRET);
        expect(JSON.stringify((e as ConfigError).problems)).not.toContain(SECRET);
      }
    }
  });

  it('refuses an empty file and a list', () => {
    expect(() => parseSecretsFile('', 's.yaml')).toThrow(/the secrets file is empty/);
    expect(() => parseSecretsFile('- a\n', 's.yaml')).toThrow(/must be a mapping/);
  });
});

describe('loadSecretsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relaywatch-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a private file without warnings', async () => {
    const path = join(dir, 'private.yaml');
    await writeFile(path, `a: "${SECRET}"\n`, { mode: 0o600 });
    await chmod(path, 0o600);
    const { secrets, warnings } = await loadSecretsFile(path);
    expect(secrets.get('a')).toBe(SECRET);
    expect(warnings).toEqual([]);
  });

  it('warns when every user can read the file', async () => {
    const path = join(dir, 'open.yaml');
    await writeFile(path, `a: "${SECRET}"\n`);
    await chmod(path, 0o644);
    const { warnings } = await loadSecretsFile(path, { platform: 'linux' });
    expect(warnings).toEqual([
      {
        path: '',
        message: `the secrets file ${path} is readable by every user on this machine (mode 0644); restrict it to its owner: chmod 600 ${path}`,
        severity: 'warning',
      },
    ]);
  });

  it('warns when its group can read or write the file', async () => {
    const path = join(dir, 'group.yaml');
    await writeFile(path, `a: "${SECRET}"\n`);
    for (const [mode, what] of [
      [0o640, 'readable by the members of its group (mode 0640)'],
      [0o620, 'writable by the members of its group (mode 0620)'],
      [0o604, 'readable by every user on this machine (mode 0604)'],
    ] as const) {
      await chmod(path, mode);
      const { warnings } = await loadSecretsFile(path, { platform: 'linux' });
      expect(warnings.map((w) => w.message)).toEqual([
        `the secrets file ${path} is ${what}; restrict it to its owner: chmod 600 ${path}`,
      ]);
    }
    await chmod(path, 0o400);
    expect((await loadSecretsFile(path, { platform: 'linux' })).warnings).toEqual([]);
  });

  it('says on Windows that the ACLs are not checked, and how to set them', async () => {
    const path = join(dir, 'win.yaml');
    await writeFile(path, `a: "${SECRET}"\n`, { mode: 0o600 });
    const { warnings } = await loadSecretsFile(path, { platform: 'win32' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/are not checked on Windows: .*icacls/);
  });

  it('says clearly when the file is missing', async () => {
    const path = join(dir, 'missing.yaml');
    await expect(loadSecretsFile(path)).rejects.toThrow(
      `secrets file not found: ${path} (from RELAYWATCH_SECRETS_FILE or secrets.file in the config)`,
    );
  });

  it('refuses an oversized file', async () => {
    const huge = new Uint8Array(2 * 1024 * 1024).fill(0x61);
    await expect(loadSecretsFile('/x', { readFile: async () => huge, mode: async () => 0o600 })).rejects.toThrow(
      /larger than/,
    );
  });
});
