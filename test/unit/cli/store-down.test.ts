/**
 * The store-down marker without RELAYWATCH_STATE_DIR: it lives in a directory of this user's own under the temp
 * directory, and nothing another local user plants there (a symlink, a world-writable directory) is followed or read.
 */
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliConfig } from '../../../shared/cli/config-bridge.ts';
import { markerPath, storeDown } from '../../../shared/cli/store-down.ts';

const SPEC = 'sqlite:/var/lib/relaywatch/state.db';
const config = { config: { incidents: undefined } } as unknown as CliConfig;

let base = '';
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'relaywatch-store-down-'));
  vi.stubEnv('TMPDIR', base);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(base, { recursive: true, force: true });
});

function down(sent: string[]) {
  return storeDown({
    spec: SPEC,
    error: 'SQLITE_READONLY',
    config,
    env: {},
    now: new Date('2026-12-02T02:00:00Z'),
    routes: ['noc'],
    send: async (route) => {
      sent.push(route);
      return { ok: true };
    },
  });
}

describe('store-down marker in the temp directory', () => {
  it('keeps the marker in a 0700 directory of its own, not in the shared temp directory', async () => {
    const path = markerPath(SPEC, {});
    expect(dirname(path)).not.toBe(base);
    expect(dirname(dirname(path))).toBe(base);
    await down([]);
    const dir = await stat(dirname(path));
    expect(dir.mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ failures: 1, lastError: 'SQLITE_READONLY' });
  });

  it('replaces a symlink planted at the marker path instead of writing through it', async () => {
    const path = markerPath(SPEC, {});
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const victim = join(base, 'victim.txt');
    await writeFile(victim, 'precious\n');
    await symlink(victim, path);
    await down([]);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
  });

  it('neither reads nor writes a marker in a directory others can write', async () => {
    const path = markerPath(SPEC, {});
    await mkdir(dirname(path), { recursive: true });
    await chmod(dirname(path), 0o777);
    // planted: "99 failures, alerted a minute ago", which would hold the alert back for a day
    const planted = JSON.stringify({
      failures: 99,
      firstAt: '2026-12-01T00:00:00Z',
      lastError: 'x',
      sentAt: '2026-12-02T01:59:00Z',
      routes: ['noc'],
    });
    await writeFile(path, planted);
    const sent: string[] = [];
    expect(await down(sent)).toBeNull();
    expect(await readFile(path, 'utf8')).toBe(planted);
    expect(sent).toEqual([]);
  });
});
