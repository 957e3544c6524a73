import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, MAX_CONFIG_BYTES, resolveConfigPath } from '../../../shared/config/load.ts';
import { ConfigError } from '../../../shared/config/problems.ts';
import { EXAMPLE_PATH, tenant, withTenants } from './helpers.ts';

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relaywatch-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the example and returns its absolute path', async () => {
    const loaded = await loadConfig(relative(process.cwd(), EXAMPLE_PATH));
    expect(loaded.path).toBe(EXAMPLE_PATH);
    expect(loaded.config.tenants).toHaveLength(3);
    expect(loaded.warnings.every((w) => w.severity === 'warning')).toBe(true);
  });

  it('explains a missing file and suggests the example', async () => {
    const err = await configErrorOf(loadConfig('no-such-dir/relaywatch.yaml'));
    expect(err.name).toBe('ConfigError');
    expect(err.problems).toEqual([
      {
        path: '',
        message: `configuration file not found: no-such-dir/relaywatch.yaml (looked for ${join(process.cwd(), 'no-such-dir/relaywatch.yaml')}); to try relaywatch with the example, run: relaywatch check --config examples/relaywatch.yaml`,
        severity: 'error',
      },
    ]);
    expect(err.message).toContain('relaywatch check --config examples/relaywatch.yaml');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('explains a directory', async () => {
    const err = await configErrorOf(loadConfig(dir));
    expect(err.problems[0]?.message).toBe(
      `${dir} is a directory; --config takes a YAML file (e.g. relaywatch check --config examples/relaywatch.yaml)`,
    );
  });

  it('reports problems with the file name in the heading', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, withTenants(tenant('t', 'bad..example')));
    const err = await configErrorOf(loadConfig(path));
    expect(err.message.split('\n')).toEqual([
      `invalid configuration ${path}: 1 error`,
      '  tenants[0].domains[0]: "bad..example" is not a valid domain name (line 10)',
    ]);
  });

  it('refuses files that are not UTF-8', async () => {
    const latin1 = join(dir, 'latin1.yaml');
    await writeFile(latin1, Buffer.from(withTenants(tenant('t')).replace('Northwind IT', 'Nörthwind IT'), 'latin1'));
    expect((await configErrorOf(loadConfig(latin1))).problems[0]?.message).toBe(
      'the file is not valid UTF-8 text; save it as UTF-8',
    );
    const utf16 = join(dir, 'utf16.yaml');
    await writeFile(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(withTenants(tenant('t')), 'utf16le')]),
    );
    expect((await configErrorOf(loadConfig(utf16))).problems[0]?.message).toBe(
      'the file is UTF-16 text; save it as UTF-8',
    );
  });

  it('refuses an oversized file without reading all of it', async () => {
    let asked = 0;
    const err = await configErrorOf(
      loadConfig('/big.yaml', {
        readFile: async (_path, limit) => {
          asked = limit;
          return new Uint8Array(limit + 1);
        },
      }),
    );
    expect(asked).toBe(MAX_CONFIG_BYTES);
    expect(err.problems[0]?.message).toBe(
      'the file is larger than the 5 MiB a configuration may be; is it the right file?',
    );
  });

  it('keeps relative paths as written and resolves them against the config directory on request', async () => {
    const sub = join(dir, 'etc');
    await mkdir(sub, { recursive: true });
    const path = join(sub, 'relaywatch.yaml');
    await writeFile(path, `dns: { caFile: ./ca.pem }\nsecrets: { file: secrets.yaml }\n${withTenants(tenant('t'))}`);
    const loaded = await loadConfig(path);
    expect(loaded.config.dns.caFile).toBe('./ca.pem');
    expect(resolveConfigPath(loaded.path, loaded.config.dns.caFile ?? '')).toBe(join(sub, 'ca.pem'));
  });

  it('turns read errors into ConfigError', async () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const err = await configErrorOf(
      loadConfig('/etc/relaywatch.yaml', {
        readFile: async () => {
          throw denied;
        },
      }),
    );
    expect(err.problems[0]?.message).toBe('cannot read /etc/relaywatch.yaml: permission denied');
    expect(err.cause).toBe(denied);
  });
});
