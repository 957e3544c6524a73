/** `relaywatch config push` through the AWS SDK against a local S3 stand-in (conditional PutObject included). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3StandIn, startS3StandIn } from '../support/aws-standins.ts';
import { runCliCaptured } from '../support/run-cli.ts';

const EXAMPLE = new URL('../../examples/relaywatch.yaml', import.meta.url);

describe('relaywatch config push', () => {
  let s3: S3StandIn;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    s3 = await startS3StandIn();
    dir = await mkdtemp(join(tmpdir(), 'rw-push-'));
    file = join(dir, 'relaywatch.yaml');
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const push = (...extra: string[]) =>
    runCliCaptured([
      'config',
      'push',
      '--config',
      file,
      '--bucket',
      'cfg',
      '--endpoint',
      s3.endpoint,
      '--region',
      'eu-west-1',
      ...extra,
    ]);
  const deployed = () => s3.objects.get('cfg/relaywatch.yaml')?.body.toString('utf8');

  it('refuses an invalid document with every problem, uploading nothing', async () => {
    await writeFile(file, 'version: 1\nmsp: { name: x }\ntenants: []\n');
    const r = await push('--yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/tenants/);
    expect(s3.requests.filter((q) => q.method === 'PUT')).toEqual([]);
  });

  it('uploads a valid document with --yes, then says it is up to date', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    await writeFile(file, text);
    const r = await push('--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(none yet\)/);
    expect(deployed()).toBe(text);
    const again = await push('--yes');
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/up to date/)]);
  });

  it('shows the diff and uploads nothing without --yes when nobody can confirm', async () => {
    const before = deployed() ?? '';
    await writeFile(file, before.replace(/name: (.*)\n/, 'name: $1 (renamed)\n'));
    const r = await push();
    expect(r.code).toBe(3);
    expect(r.stdout, r.stdout.slice(0, 600)).toMatch(/^\+.*\(renamed\)/m);
    expect(r.stdout).toMatch(/^-/m);
    expect(r.stderr).toMatch(/not uploaded/);
    expect(deployed()).toBe(before);
    expect((await push('--yes')).code).toBe(0);
    expect(deployed()).toMatch(/\(renamed\)/);
  });

  it('refuses to overwrite a document that changed after it was read', async () => {
    const base = deployed() ?? '';
    await writeFile(file, `${base}# local edit\n`);
    // Someone else pushes right after our read: the upload, conditional on the ETag we diffed, is refused.
    s3.afterGet = () => {
      s3.afterGet = null;
      s3.put('cfg', 'relaywatch.yaml', `${base}# their edit\n`);
    };
    const r = await push('--yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/changed since it was read/);
    expect(deployed()).toMatch(/their edit/);
  });
});
