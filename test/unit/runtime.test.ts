import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('runs on Node.js 24 or later (the pinned devDependency "node" when run through npm)', () => {
    console.log(`node ${process.version} (${process.execPath})`);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('has node:sqlite without flags (the embedded store needs it)', async () => {
    const sqlite = await import('node:sqlite');
    const db = new sqlite.DatabaseSync(':memory:');
    expect(db.prepare('select 1 as one').get()).toEqual({ one: 1 });
    db.close();
  });
});
