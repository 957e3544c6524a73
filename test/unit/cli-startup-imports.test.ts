/**
 * What the CLI loads before any command runs: every command module is imported at start-up (commander needs their
 * options and help), so a package imported at the top of one command is paid by all of them, `check` included, in
 * start-up time and in the process's memory floor. The packages below are needed by one command each and are
 * imported inside that command's action.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../bin/relaywatch.js', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'relaywatch-startup-'));
const hook = join(dir, 'hook.mjs');
const out = join(dir, 'loaded.txt');
writeFileSync(
  hook,
  `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const urls = new Set();
registerHooks({ load(url, context, next) { urls.add(url); return next(url, context); } });
process.on('exit', () => writeFileSync(${JSON.stringify(out)}, [...urls].join('\\n')));
`,
);

/** Packages (under node_modules) the CLI loaded for `relaywatch <args>`. */
function packagesLoadedBy(args: readonly string[]): Set<string> {
  const r = spawnSync(process.execPath, ['--import', hook, CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: dir,
  });
  expect(r.status, r.stderr).toBe(0);
  const packages = new Set<string>();
  for (const url of readFileSync(out, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m?.[1]) packages.add(m[1]);
  }
  return packages;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the CLI at start-up', () => {
  it('loads commander and the config stack, but not the S3 client, the diff or nodemailer', () => {
    const loaded = packagesLoadedBy(['--help']);
    expect(loaded.has('commander')).toBe(true);
    for (const pkg of ['@aws-sdk/client-s3', '@smithy/core', 'diff', 'nodemailer']) {
      expect(loaded.has(pkg), `${pkg} is loaded by relaywatch --help`).toBe(false);
    }
  });

  it('opens an SQLite store without loading the AWS SDK', () => {
    const config = join(dir, 'relaywatch.yaml');
    writeFileSync(
      config,
      `version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example] }
`,
    );
    const loaded = packagesLoadedBy(['status', '--config', config, '--store', `sqlite:${join(dir, 'state.db')}`]);
    for (const pkg of ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@smithy/core']) {
      expect(loaded.has(pkg), `${pkg} is loaded by relaywatch status --store sqlite:…`).toBe(false);
    }
  });
});
