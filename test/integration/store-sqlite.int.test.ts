import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SQLITE_PATH,
  openStore,
  parseStoreSpec,
  StoreSpecError,
} from '../../shared/adapters/store/open-store.ts';
import {
  MIGRATIONS,
  openSqliteStore,
  SqliteStore,
  StoreDirectoryError,
  StoreSchemaError,
} from '../../shared/adapters/store/sqlite-store.ts';
import { ConflictError } from '../../shared/ports/stores.ts';
import {
  checkRecord,
  describeStoreContract,
  eventRecord,
  incidentRecord,
  iso,
  runRecord,
  stateRecord,
} from '../contracts/stores.contract.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-sqlite-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
const freshPath = () => join(dir, `store-${process.pid}-${++counter}`, 'state.db');

describeStoreContract('SQLite (file)', async () => {
  const store = openSqliteStore({ path: freshPath() });
  return { store, cleanup: () => store.close() };
});

describe('SQLite store', () => {
  it('applies the migrations once and keeps the data when the file is reopened', async () => {
    const path = freshPath();
    const first = openSqliteStore({ path });
    expect(first.appliedMigrations).toEqual(MIGRATIONS.map((m) => m.version));
    await first.results.putChecks([checkRecord()]);
    await first.states.put(stateRecord(), null);
    await first.incidents.put(incidentRecord(), null);
    await first.close();

    const second = openSqliteStore({ path });
    expect(second.appliedMigrations).toEqual([]);
    expect((await second.results.history('contoso')).items).toEqual([checkRecord()]);
    expect((await second.states.list('contoso')).map((s) => s.version)).toEqual([1]);
    expect((await second.incidents.get('contoso', 'inc-1'))?.version).toBe(1);
    await second.close();

    const db = new DatabaseSync(path);
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    db.close();
  });

  it('applies a later migration step to an existing file', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const next = [...MIGRATIONS, { version: 99, description: 'test step', sql: 'CREATE TABLE extra (x TEXT) STRICT;' }];
    const upgraded = openSqliteStore({ path, migrations: next });
    expect(upgraded.appliedMigrations).toEqual([99]);
    await upgraded.close();
  });

  it('refuses a database written by a newer relaywatch, with a clear message, and leaves it untouched', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
      999,
      'from the future',
      iso(0),
    );
    db.close();
    expect(() => openSqliteStore({ path })).toThrow(StoreSchemaError);
    expect(() => openSqliteStore({ path })).toThrow(
      new RegExp(`schema version 999.*knows only up to version ${MIGRATIONS.length}.*newer relaywatch`),
    );
    const check = new DatabaseSync(path);
    expect(check.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()?.v).toBe(999);
    check.close();
  });

  it('prunes checks, events, runs and resolved incidents older than the retention period, and nothing else', async () => {
    const store = openSqliteStore({ path: freshPath(), retentionDays: 30 });
    const now = new Date(Date.parse(iso(0)) + 30 * 86_400_000);
    await store.results.putChecks([
      checkRecord({ subject: 'old', at: iso(-1) }),
      checkRecord({ subject: 'edge', at: iso(0) }),
      checkRecord({ subject: 'new', at: iso(60) }),
    ]);
    await store.results.putEvents([eventRecord({ eventId: 'old', at: iso(-1) }), eventRecord({ eventId: 'new' })]);
    await store.states.put(stateRecord({ lastAt: iso(-100_000) }), null);
    await store.incidents.put(
      incidentRecord({ openedAt: iso(-100_000), status: 'resolved', resolvedAt: iso(-99_000) }),
      null,
    );
    await store.incidents.put(incidentRecord({ id: 'inc-open', openedAt: iso(-100_000) }), null);
    // Runs with and without a tenant expire with the results (an hourly sweep writes ~9,000 tenant-less runs a year).
    await store.results.putRun(runRecord({ runId: 'sweep-old', startedAt: iso(-1) }));
    await store.results.putRun(runRecord({ runId: 'sweep-new', startedAt: iso(60) }));
    await store.results.putRun(runRecord({ runId: 'job-old', tenantId: 'contoso', startedAt: iso(-1) }));
    await store.incidents.put(
      incidentRecord({ id: 'inc-recent', openedAt: iso(-100_000), status: 'resolved', resolvedAt: iso(10) }),
      null,
    );
    expect(await store.prune(now)).toEqual({ checks: 1, events: 1 });
    expect((await store.results.history('contoso')).items.map((c) => c.subject)).toEqual(['new', 'edge']);
    expect((await store.results.events('contoso')).items.map((e) => e.eventId)).toEqual(['new']);
    expect(await store.states.list('contoso')).toHaveLength(1);
    expect(await store.incidents.get('contoso', 'inc-1')).toBeNull();
    expect(await store.incidents.get('contoso', 'inc-open')).not.toBeNull();
    expect(await store.incidents.get('contoso', 'inc-recent')).not.toBeNull();
    expect((await store.results.runs()).items.map((r) => r.runId)).toEqual(['sweep-new']);
    expect((await store.results.runs({ tenantId: 'contoso' })).items).toEqual([]);
    expect(await store.prune(now)).toEqual({ checks: 0, events: 0 });
    await store.close();
  });

  it('lets exactly one of two connections to the same file win a conditional update', async () => {
    const path = freshPath();
    const a = openSqliteStore({ path });
    const b = openSqliteStore({ path });
    await a.states.put(stateRecord(), null);
    const results = await Promise.allSettled([
      a.states.put(stateRecord({ lastRunId: 'a' }), 1),
      b.states.put(stateRecord({ lastRunId: 'b' }), 1),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(ConflictError);
    expect((await b.states.list('contoso'))[0]?.version).toBe(2);
    await a.close();
    await b.close();
  });

  it('gives a delivery claim to exactly one of two connections to the same file', async () => {
    const path = freshPath();
    const a = openSqliteStore({ path });
    const b = openSqliteStore({ path });
    const now = new Date(iso(0));
    const results = await Promise.all([
      a.deliveries.claim('contoso', 'inc-1-x-opened/psa', 'run-a', now, 300_000),
      b.deliveries.claim('contoso', 'inc-1-x-opened/psa', 'run-b', now, 300_000),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['claimed', 'held']);
    await a.close();
    await b.close();
  });

  it('prunes delivery claims last taken before the retention period', async () => {
    const store = openSqliteStore({ path: freshPath(), retentionDays: 1 });
    await store.deliveries.claim('contoso', 'old', 'run-a', new Date(iso(-3000)), 300_000);
    await store.deliveries.claim('contoso', 'new', 'run-a', new Date(iso(0)), 300_000);
    await store.prune(new Date(iso(60)));
    expect(await store.deliveries.get('contoso', 'old')).toBeNull();
    expect(await store.deliveries.get('contoso', 'new')).not.toBeNull();
    await store.close();
  });
});

describe('openStore', () => {
  it('parses sqlite and dynamodb specs', () => {
    expect(parseStoreSpec('sqlite')).toEqual({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
    expect(parseStoreSpec('sqlite:')).toEqual({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
    expect(parseStoreSpec('sqlite:/var/lib/relaywatch/state.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/relaywatch/state.db',
    });
    expect(parseStoreSpec('dynamodb:relaywatch-prod')).toEqual({ kind: 'dynamodb', table: 'relaywatch-prod' });
  });

  it('refuses a bad spec with a message that lists the accepted forms', () => {
    for (const bad of ['postgres://db', 'dynamodb:', 'dynamodb:a b', '', 'state.db']) {
      expect(() => parseStoreSpec(bad)).toThrow(StoreSpecError);
      expect(() => parseStoreSpec(bad)).toThrow(/Accepted forms: sqlite:PATH .*; dynamodb:TABLE/);
    }
  });

  it('opens an SQLite store, creating its directory', async () => {
    const path = join(dir, 'nested', 'deeper', 'state.db');
    const store = await openStore(`sqlite:${path}`, { retentionDays: 10 });
    expect(store).toBeInstanceOf(SqliteStore);
    await store.results.putChecks([checkRecord()]);
    expect((await store.results.history('contoso')).items).toHaveLength(1);
    await store.close();
    await expect(openStore('sqlite:x', { retentionDays: 0 })).rejects.toThrow(RangeError);
  });

  it('fails fast with a clear error for a store under /proc', { timeout: 5000 }, async () => {
    const started = performance.now();
    await expect(openStore('sqlite:/proc/nope/state.db')).rejects.toThrow(StoreDirectoryError);
    await expect(openStore('sqlite:/proc/nope/deeper/state.db')).rejects.toThrow(
      'cannot create the SQLite store /proc/nope/deeper/state.db: /proc does not accept new directories',
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a store whose directory is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(openStore(`sqlite:${join(file, 'state.db')}`)).rejects.toThrow(/a-file exists and is not a directory/);
  });
});
