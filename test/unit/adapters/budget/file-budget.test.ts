import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUDGET_PATH, fileBudget, utcDay } from '../../../../shared/adapters/budget/file-budget.ts';
import { runBlocklists } from '../../../../shared/blocklist/engine.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-budget-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function clock(iso: string): { now: () => Date; set: (iso: string) => void } {
  let t = new Date(iso);
  return { now: () => t, set: (s) => (t = new Date(s)) };
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('fileBudget', () => {
  it('starts empty without a file, enforces limits and leaves zones without a limit unlimited', async () => {
    const path = join(dir, 'b.json');
    const b = await fileBudget({ path, limits: { 'spamhaus-zen': 2 }, now: clock('2026-11-27T10:00:00Z').now });
    expect(b.warnings).toEqual([]);
    expect([b.take('spamhaus-zen'), b.take('spamhaus-zen'), b.take('spamhaus-zen')]).toEqual([true, true, false]);
    expect(b.used('spamhaus-zen')).toBe(2);
    expect(b.remaining('spamhaus-zen')).toBe(0);
    for (let i = 0; i < 1000; i++) expect(b.take('spamcop')).toBe(true);
    expect(b.used('spamcop')).toBe(1000);
    expect(b.remaining('spamcop')).toBe(Number.POSITIVE_INFINITY);
  });

  it('a limit of 0 refuses every query', async () => {
    const b = await fileBudget({ path: join(dir, 'b.json'), limits: { x: 0 }, now: clock('2026-11-27T10:00:00Z').now });
    expect(b.take('x')).toBe(false);
    expect(b.used('x')).toBe(0);
  });

  it('survives across runs on the same UTC day', async () => {
    const path = join(dir, 'b.json');
    const c = clock('2026-11-27T00:00:00Z');
    const first = await fileBudget({ path, limits: { z: 5 }, now: c.now });
    for (let i = 0; i < 3; i++) first.take('z');
    await first.flush();
    expect(await readJson(path)).toEqual({ version: 1, day: '2026-11-27', used: { z: 3 } });

    c.set('2026-11-27T23:59:59.999Z');
    const second = await fileBudget({ path, limits: { z: 5 }, now: c.now });
    expect(second.used('z')).toBe(3);
    expect([second.take('z'), second.take('z'), second.take('z')]).toEqual([true, true, false]);
    await second.flush();
    expect(await readJson(path)).toEqual({ version: 1, day: '2026-11-27', used: { z: 5 } });
  });

  it('starts a new day from zero: in a new run and in the middle of a run', async () => {
    const path = join(dir, 'b.json');
    const c = clock('2026-11-27T23:59:59Z');
    const b = await fileBudget({ path, limits: { z: 2 }, now: c.now });
    b.take('z');
    b.take('z');
    expect(b.take('z')).toBe(false);
    await b.flush();

    c.set('2026-11-28T00:00:00Z');
    expect(b.used('z')).toBe(0);
    expect(b.take('z')).toBe(true);
    await b.flush();
    expect(await readJson(path)).toEqual({ version: 1, day: '2026-11-28', used: { z: 1 } });

    c.set('2026-11-29T08:00:00Z');
    const next = await fileBudget({ path, limits: { z: 2 }, now: c.now });
    expect(next.warnings).toEqual([]);
    expect(next.used('z')).toBe(0);
  });

  it('counts by UTC day, not local time', () => {
    expect(utcDay(new Date('2026-11-27T23:30:00-05:00'))).toBe('2026-11-28');
    expect(utcDay(new Date('2026-11-28T00:30:00+01:00'))).toBe('2026-11-27');
  });

  it.each([
    ['not JSON', '{"version":1,"day":"2026-11-27","used":{"z":', 'is not valid JSON'],
    ['empty', '', 'is not valid JSON'],
    ['another version', '{"version":2,"day":"2026-11-27","used":{}}', 'is not a version 1 budget file'],
    ['a list', '[1,2,3]', 'is not a version 1 budget file'],
    ['a bad day', '{"version":1,"day":"yesterday","used":{}}', 'has no valid day'],
    ['bad counts', '{"version":1,"day":"2026-11-27","used":[]}', 'has no valid counts'],
    ['a negative count', '{"version":1,"day":"2026-11-27","used":{"z":-5}}', 'not a whole number'],
    ['a fractional count', '{"version":1,"day":"2026-11-27","used":{"z":1.5}}', 'not a whole number'],
    ['a string count', '{"version":1,"day":"2026-11-27","used":{"z":"9"}}', 'not a whole number'],
  ])('a corrupt file (%s) starts from zero with a warning and is overwritten by flush', async (_n, text, why) => {
    const path = join(dir, 'b.json');
    await writeFile(path, text);
    const b = await fileBudget({ path, limits: { z: 3 }, now: clock('2026-11-27T12:00:00Z').now });
    expect(b.warnings).toHaveLength(1);
    expect(b.warnings[0]).toContain(why);
    expect(b.warnings[0]).toContain(path);
    expect(b.warnings[0]).toContain('starts from zero');
    expect(b.used('z')).toBe(0);
    expect(b.take('z')).toBe(true);
    await b.flush();
    expect(await readJson(path)).toEqual({ version: 1, day: '2026-11-27', used: { z: 1 } });
  });

  it('an unreadable path (a directory) starts from zero with a warning, without throwing', async () => {
    const path = join(dir, 'b.json');
    await mkdir(path);
    const b = await fileBudget({ path, limits: { z: 1 }, now: clock('2026-11-27T12:00:00Z').now });
    expect(b.warnings).toHaveLength(1);
    expect(b.warnings[0]).toMatch(/cannot read the blocklist budget file .*EISDIR/);
    expect(b.take('z')).toBe(true);
    await expect(b.flush()).rejects.toThrow();
  });

  // Runs as root too (CI): a path below a regular file cannot be read by anyone (ENOTDIR), unlike a chmod 000 file.
  it('a path that cannot be read by anyone starts from zero with a warning', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const b = await fileBudget({
      path: join(blocker, 'b.json'),
      limits: { z: 10 },
      now: clock('2026-11-27T12:00:00Z').now,
    });
    expect(b.warnings[0]).toContain('ENOTDIR');
    expect(b.used('z')).toBe(0);
  });

  it('creates the directory on flush', async () => {
    const path = join(dir, 'deep', 'er', 'b.json');
    const b = await fileBudget({ path, limits: {}, now: clock('2026-11-27T12:00:00Z').now });
    b.take('z');
    await b.flush();
    expect(await readJson(path)).toEqual({ version: 1, day: '2026-11-27', used: { z: 1 } });
  });

  it('defaults to .relaywatch/blocklist-budget.json relative to the working directory', async () => {
    expect(DEFAULT_BUDGET_PATH).toBe('.relaywatch/blocklist-budget.json');
    const b = await fileBudget({ limits: {} });
    expect(b.path).toBe(DEFAULT_BUDGET_PATH);
  });

  it('concurrent takes in one process never exceed the limit (also through the engine)', async () => {
    const path = join(dir, 'b.json');
    const b = await fileBudget({ path, limits: { z: 100 }, now: clock('2026-11-27T12:00:00Z').now });
    const results = await Promise.all(Array.from({ length: 500 }, async () => b.take('z')));
    expect(results.filter(Boolean)).toHaveLength(100);
    expect(b.used('z')).toBe(100);
    // It is a QueryBudget the engine accepts.
    const run = await runBlocklists({ ips: [], plans: [], budget: b });
    expect(run.questions).toBe(0);
  });

  it('flush is atomic: temporary file then rename, nothing left behind, readers never see a partial file', async () => {
    const path = join(dir, 'b.json');
    const c = clock('2026-11-27T12:00:00Z');
    const b = await fileBudget({ path, limits: {}, now: c.now });
    for (let i = 0; i < 200; i++) b.take(`zone-${i}`);
    await b.flush();

    // Many overlapping flushes while a reader keeps reading: every read is a complete, valid file.
    let reading = true;
    const reads: unknown[] = [];
    const reader = (async () => {
      while (reading) {
        reads.push(await readJson(path));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      b.take('zone-0');
      flushes.push(b.flush());
    }
    await Promise.all(flushes);
    reading = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) expect(r).toMatchObject({ version: 1, day: '2026-11-27' });
    expect(await readJson(path)).toMatchObject({ used: { 'zone-0': 51 } });
    expect(await readdir(dir)).toEqual(['b.json']);
  });

  it('a failed write leaves the previous file intact and no temporary file', async () => {
    const path = join(dir, 'sub', 'b.json');
    const c = clock('2026-11-27T12:00:00Z');
    const b = await fileBudget({ path, limits: {}, now: c.now });
    b.take('z');
    await b.flush();
    // Replace the target by a non-empty directory: rename onto it fails.
    await rm(path);
    await mkdir(join(path, 'x'), { recursive: true });
    b.take('z');
    await expect(b.flush()).rejects.toThrow();
    expect((await readdir(join(dir, 'sub'))).sort()).toEqual(['b.json']);
  });
});
