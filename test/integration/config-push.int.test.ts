/** `relaywatch config push` through the AWS SDK against a local S3 stand-in (conditional PutObject included). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJson, parseConfigJson } from '../../shared/config/document.ts';
import { parseConfig, readConfigDocument } from '../../shared/config/load.ts';
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

  it('uploads the validated document as compact JSON with --yes, then says it is up to date', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    await writeFile(file, text);
    const r = await push('--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(none yet\)/);
    expect(r.stdout).toMatch(/Uploaded to s3:\/\/cfg\/relaywatch\.yaml \(3 tenant\(s\), \d+ bytes of JSON\)/);
    const body = deployed() ?? '';
    expect(body).toBe(configJson(readConfigDocument(text, 'x').document));
    expect(body).not.toContain('\n');
    expect(s3.putHeaders.get('cfg/relaywatch.yaml')?.['content-type']).toBe('application/json');
    // What the functions read: the same config as the YAML.
    expect(parseConfigJson(body, 'deployed').config).toEqual(parseConfig(text, 'x').config);
    const again = await push('--yes');
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/up to date/)]);
  });

  it('shows the diff as indented JSON of both sides and uploads nothing without --yes when nobody can confirm', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const before = deployed() ?? '';
    await writeFile(file, text.replace(/name: (.*)\n/, 'name: $1 (renamed)\n'));
    const r = await push();
    expect(r.code).toBe(3);
    expect(r.stdout, r.stdout.slice(0, 600)).toMatch(/^\+ {4}"name": ".*\(renamed\)",$/m);
    expect(r.stdout).toMatch(/^- {4}"name": "/m);
    expect(r.stdout).toMatch(/^--- s3:\/\/cfg\/relaywatch\.yaml \(deployed\)/m);
    expect(r.stdout).toMatch(/\(to push, as JSON\)/);
    // Only the changed line differs: both sides are the same indented form.
    expect(r.stdout.split('\n').filter((l) => /^[-+](?![-+])/.test(l))).toHaveLength(2);
    expect(r.stderr).toMatch(/not uploaded/);
    expect(deployed()).toBe(before);
    expect((await push('--yes')).code).toBe(0);
    expect(deployed()).toMatch(/\(renamed\)/);
  });

  it('reads a deployed YAML object (an older push) for the diff and replaces it with JSON', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    await writeFile(file, text);
    s3.put('cfg', 'relaywatch.yaml', text);
    const same = await push();
    expect(same.code).toBe(3);
    expect(same.stdout).toMatch(/\(deployed, YAML\)/);
    expect(same.stdout).toMatch(/The deployed document is YAML with the same content: uploading it as JSON/);
    expect(same.stdout.split('\n').filter((l) => /^[-+](?![-+])/.test(l))).toEqual([]);
    s3.put('cfg', 'relaywatch.yaml', text.replace(/name: (.*)\n/, 'name: $1 (old)\n'));
    const r = await push('--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^- {4}"name": ".*\(old\)",$/m);
    expect(r.stdout).toMatch(/^\+ {4}"name": "/m);
    expect(deployed()).toBe(configJson(readConfigDocument(text, 'x').document));
  });

  it('shows a deployed object that is no document as its text', async () => {
    await writeFile(file, await readFile(EXAMPLE, 'utf8'));
    s3.put('cfg', 'relaywatch.yaml', 'key: [unclosed\n');
    const r = await push();
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/\(deployed, not a document\)/);
    expect(r.stdout).toMatch(/^-key: \[unclosed$/m);
  });

  it('refuses to overwrite a document that changed after it was read', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    await writeFile(file, `${text}# local edit\n`.replace(/name: (.*)\n/, 'name: $1 (local)\n'));
    // Someone else pushes right after our read: the upload, conditional on the ETag we diffed, is refused.
    s3.afterGet = () => {
      s3.afterGet = null;
      s3.put('cfg', 'relaywatch.yaml', '{"their":"edit"}');
    };
    const r = await push('--yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/changed since it was read/);
    expect(deployed()).toBe('{"their":"edit"}');
  });

  it('says in --help that the document is uploaded as JSON', async () => {
    const r = await runCliCaptured(['config', 'push', '--help']);
    expect(r.stdout).toMatch(/uploaded as compact JSON/);
    expect(r.stdout).toMatch(/indented JSON/);
  });
});
