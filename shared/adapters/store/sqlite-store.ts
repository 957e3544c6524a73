/**
 * The embedded store for the CLI: one SQLite file through `node:sqlite` (`DatabaseSync`, no native addon).
 *
 * - WAL journal and a busy timeout, so a second process (a report while a check runs) waits instead of failing.
 * - Versioned migrations ({@link MIGRATIONS}) recorded in `schema_migrations`, applied in one `BEGIN IMMEDIATE`
 *   transaction at open; a file written by a newer relaywatch is refused with {@link StoreSchemaError}.
 * - Each table keeps the key and ordering columns plus the whole record as JSON (`record`), parsed on read.
 * - Batches are written in one transaction; checks and events use `INSERT OR IGNORE` (first write wins, idempotent).
 * - States and incidents are conditional: insert-if-absent or `UPDATE … WHERE version = ?`; no row changed → conflict.
 * - Keyset pagination (the cursor holds the last row's ordering key), so pages stay stable under concurrent inserts.
 * - Raw results are pruned by {@link SqliteStore.prune}: checks and events older than the retention period.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import {
  type BudgetStore,
  type CheckRecord,
  type ClaimOutcome,
  ConflictError,
  DEFAULT_RETENTION_DAYS,
  type DecisionWrite,
  type DecisionWritten,
  type DeliveryClaim,
  type DeliveryStore,
  type EventQuery,
  type EventRecord,
  type HistoryQuery,
  type IncidentQuery,
  type IncidentRecord,
  type IncidentStore,
  InvalidCursorError,
  type NonceStore,
  owesResolved,
  type Page,
  type PageRequest,
  type PruneResult,
  type ResultStore,
  type RunQuery,
  type RunRecord,
  type StateStore,
  type Store,
  type SubjectState,
} from '../../ports/stores.ts';
import {
  decodeCursor,
  deliveryClaimSchema,
  encodeCursor,
  eventSchema,
  incidentSchema,
  normaliseBound,
  pageLimit,
  parseStored,
  parseStoredCheck,
  prepareCheck,
  prepareClaim,
  prepareEvent,
  prepareIncident,
  prepareRun,
  prepareState,
  RELEASED_LEASE,
  requireBudgetArgs,
  requireExpectedVersion,
  requireNonceArgs,
  runSchema,
  stateSchema,
} from './records.ts';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** Append only: never edit a released step, add the next number. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, checks, events, states, incidents',
    sql: `
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        record TEXT NOT NULL
      ) STRICT;
      CREATE INDEX runs_by_start ON runs (started_at, run_id);

      CREATE TABLE checks (
        tenant_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant_id, run_id, kind, subject)
      ) STRICT;
      CREATE INDEX checks_by_time ON checks (tenant_id, at, run_id, kind, subject);
      CREATE INDEX checks_by_at ON checks (at);

      CREATE TABLE events (
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      ) STRICT;
      CREATE INDEX events_by_time ON events (tenant_id, at, event_id);
      CREATE INDEX events_by_at ON events (at);

      CREATE TABLE states (
        tenant_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant_id, kind, subject)
      ) STRICT;

      CREATE TABLE incidents (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;
      CREATE INDEX incidents_open ON incidents (opened_at, tenant_id, id) WHERE status = 'open';
      CREATE INDEX incidents_by_status ON incidents (tenant_id, status, id);
    `,
  },
  {
    version: 2,
    description: 'delivery claims (one send per incident transition and route)',
    sql: `
      CREATE TABLE deliveries (
        tenant_id TEXT NOT NULL,
        key TEXT NOT NULL,
        owner TEXT NOT NULL,
        lease_until TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        delivered_at TEXT,
        claimed_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, key)
      ) STRICT;
      CREATE INDEX deliveries_by_claim ON deliveries (claimed_at);
    `,
  },
  {
    version: 3,
    description: 'runs per tenant, active incidents, shared DNSBL budget, ingest nonces',
    sql: `
      ALTER TABLE runs ADD COLUMN tenant_id TEXT;
      CREATE INDEX runs_by_tenant ON runs (tenant_id, started_at, run_id) WHERE tenant_id IS NOT NULL;
      -- 1 while open or owing a RESOLVED; rows from before this step are 1 (listActive filters them exactly).
      ALTER TABLE incidents ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE incidents ADD COLUMN resolved_at TEXT;
      CREATE INDEX incidents_active ON incidents (tenant_id, id) WHERE active = 1;
      CREATE INDEX incidents_resolved_at ON incidents (resolved_at) WHERE status = 'resolved';
      CREATE TABLE budget (
        zone_id TEXT NOT NULL,
        day TEXT NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (zone_id, day)
      ) STRICT;
      CREATE TABLE nonces (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX nonces_by_expiry ON nonces (expires_at);
    `,
  },
];

/** The database was written by a newer relaywatch (or is not a relaywatch store). */
export class StoreSchemaError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreSchemaError';
  }
}

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. The directory must exist (`openStore` creates it). */
  readonly path: string;
  readonly retentionDays?: number;
  /** How long a writer waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** The migrations to apply (tests only; default {@link MIGRATIONS}). */
  readonly migrations?: readonly Migration[];
}

type Row = Record<string, SQLOutputValue>;

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`stored column ${column} is not text`);
  return value;
}

function recordJson(row: Row, entity: string): unknown {
  try {
    return JSON.parse(text(row, 'record'));
  } catch (err) {
    throw new Error(`stored ${entity} is not JSON`, { cause: err });
  }
}

function parseRecord<T>(row: Row, schema: Parameters<typeof parseStored<T>>[0], entity: string): T {
  return parseStored(schema, recordJson(row, entity), entity);
}

function stringTuple(position: unknown, length: number): readonly string[] {
  if (!Array.isArray(position) || position.length !== length || !position.every((p) => typeof p === 'string')) {
    throw new InvalidCursorError();
  }
  return position as readonly string[];
}

const DAY_MS = 86_400_000;

/** Apply pending migrations; refuse a database newer than `migrations`. Exported for tests. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): readonly number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
  );
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const applied: number[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get();
    const current = typeof row?.v === 'number' ? row.v : 0;
    if (current > latest) {
      throw new StoreSchemaError(
        `the state database has schema version ${current}, but this relaywatch knows only up to version ${latest}: ` +
          'it was written by a newer relaywatch. Upgrade relaywatch, or point --store at another file.',
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
    for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
      if (step.version <= current) continue;
      db.exec(step.sql);
      record.run(step.version, step.description, new Date().toISOString());
      applied.push(step.version);
    }
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  return applied;
}

export class SqliteStore implements Store {
  readonly results: ResultStore;
  readonly states: StateStore;
  readonly incidents: IncidentStore;
  readonly budget: BudgetStore;
  readonly nonces: NonceStore;
  readonly deliveries: DeliveryStore;
  /** The migration versions applied by this open (empty when the file was up to date). */
  readonly appliedMigrations: readonly number[];
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #retentionDays: number;

  constructor(options: SqliteStoreOptions) {
    this.#retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.#db = new DatabaseSync(options.path);
    try {
      this.#db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL');
      this.appliedMigrations = migrate(this.#db, options.migrations);
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.results = {
      putRun: async (run) => this.#putRun(run),
      putChecks: async (records, run) => this.#putChecks(records, run),
      history: async (tenantId, query) => this.#history(tenantId, query ?? {}),
      putEvents: async (events) => this.#putEvents(events),
      events: async (tenantId, query) => this.#events(tenantId, query ?? {}),
      runs: async (query) => this.#runs(query ?? {}),
    };
    this.states = {
      list: async (tenantId) => this.#listStates(tenantId),
      put: async (state, expectedVersion) => this.#putState(state, expectedVersion),
    };
    this.incidents = {
      get: async (tenantId, id) => this.#getIncident(tenantId, id),
      put: async (incident, expectedVersion) => this.#putIncident(incident, expectedVersion),
      listOpen: async (query) => this.#listOpen(query ?? {}),
      list: async (tenantId, query) => this.#listIncidents(tenantId, query ?? {}),
      listActive: async (tenantId) => this.#listActive(tenantId),
    };
    this.budget = {
      reserve: async (zoneId, day, wanted, limit) => this.#reserve(zoneId, day, wanted, limit),
      used: async (zoneId, day) => this.#used(zoneId, day),
    };
    this.nonces = {
      firstSeen: async (key, expiresAtMs, nowMs) => this.#firstSeen(key, expiresAtMs, nowMs ?? Date.now()),
    };
    this.deliveries = {
      claim: async (tenantId, key, owner, now, leaseMs) => this.#claim(tenantId, key, owner, now, leaseMs),
      complete: async (tenantId, key, owner, now) => this.#complete(tenantId, key, owner, now),
      release: async (tenantId, key, owner) => this.#release(tenantId, key, owner),
      get: async (tenantId, key) => this.#getClaim(tenantId, key),
    };
  }

  async prune(now: Date): Promise<PruneResult> {
    const cutoff = new Date(now.getTime() - this.#retentionDays * DAY_MS).toISOString();
    return this.#transaction(() => {
      // A claim outlives its incident's notification by far; one older than the retention period is history.
      this.#stmt('DELETE FROM deliveries WHERE claimed_at < ?').run(cutoff);
      return {
        checks: Number(this.#stmt('DELETE FROM checks WHERE at < ?').run(cutoff).changes),
        events: Number(this.#stmt('DELETE FROM events WHERE at < ?').run(cutoff).changes),
        ...this.#pruneOther(cutoff, now),
      };
    });
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  async writeDecision(write: DecisionWrite): Promise<DecisionWritten> {
    return this.#writeDecision(write);
  }

  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Run a keyset-paginated query: fetch one row more than the limit to know whether a next page exists. */
  #page<T>(
    tag: string,
    baseSql: string,
    params: readonly SQLInputValue[],
    keyColumns: readonly string[],
    direction: 'ASC' | 'DESC',
    request: PageRequest,
    parse: (row: Row) => T,
  ): Page<T> {
    const limit = pageLimit(request.limit);
    const where: string[] = [];
    const args: SQLInputValue[] = [...params];
    if (request.cursor) {
      const position = stringTuple(decodeCursor(tag, request.cursor), keyColumns.length);
      where.push(
        `(${keyColumns.join(', ')}) ${direction === 'DESC' ? '<' : '>'} (${keyColumns.map(() => '?').join(', ')})`,
      );
      args.push(...position);
    }
    const sql = `${baseSql}${where.length > 0 ? ` AND ${where.join(' AND ')}` : ''} ORDER BY ${keyColumns
      .map((c) => `${c} ${direction}`)
      .join(', ')} LIMIT ?`;
    const rows = this.#stmt(sql).all(...args, limit + 1);
    const more = rows.length > limit;
    const pageRows = more ? rows.slice(0, limit) : rows;
    const last = pageRows.at(-1);
    return {
      items: pageRows.map(parse),
      cursor:
        more && last !== undefined
          ? encodeCursor(
              tag,
              keyColumns.map((c) => text(last, c)),
            )
          : null,
    };
  }

  #putRun(run: RunRecord): void {
    const prepared = prepareRun(run);
    this.#stmt('INSERT OR REPLACE INTO runs (run_id, started_at, tenant_id, record) VALUES (?, ?, ?, ?)').run(
      prepared.runId,
      prepared.startedAt,
      prepared.tenantId ?? null,
      JSON.stringify(prepared),
    );
  }

  /** Tenant runs, resolved incidents and expired nonces past the retention (counted in no result field). */
  #pruneOther(cutoff: string, now: Date): Record<string, never> {
    this.#stmt('DELETE FROM runs WHERE started_at < ?').run(cutoff);
    this.#stmt("DELETE FROM incidents WHERE status = 'resolved' AND resolved_at < ?").run(cutoff);
    this.#stmt('DELETE FROM nonces WHERE expires_at < ?').run(now.getTime());
    this.#stmt('DELETE FROM budget WHERE day < ?').run(cutoff.slice(0, 10));
    return {};
  }

  /** The checks (and the run, when given) in one transaction: both or neither. */
  #putChecks(records: readonly CheckRecord[], run?: RunRecord): void {
    const prepared = records.map(prepareCheck);
    if (run !== undefined) prepareRun(run);
    if (prepared.length === 0 && run === undefined) return;
    const insert = this.#stmt(
      'INSERT OR IGNORE INTO checks (tenant_id, run_id, kind, subject, at, record) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#transaction(() => {
      for (const r of prepared) insert.run(r.tenantId, r.runId, r.check, r.subject, r.at, JSON.stringify(r));
      if (run !== undefined) this.#putRun(run);
    });
  }

  #history(tenantId: string, query: HistoryQuery): Page<CheckRecord> {
    let sql = 'SELECT at, run_id, kind, subject, record FROM checks WHERE tenant_id = ?';
    const params: SQLInputValue[] = [tenantId];
    if (query.since !== undefined) {
      sql += ' AND at >= ?';
      params.push(normaliseBound(query.since, 'since'));
    }
    if (query.until !== undefined) {
      sql += ' AND at < ?';
      params.push(normaliseBound(query.until, 'until'));
    }
    if (query.check !== undefined) {
      sql += ' AND kind = ?';
      params.push(query.check);
    }
    return this.#page('history', sql, params, ['at', 'run_id', 'kind', 'subject'], 'DESC', query, (row) =>
      parseStoredCheck(recordJson(row, 'check')),
    );
  }

  #putEvents(events: readonly EventRecord[]): void {
    const prepared = events.map(prepareEvent);
    if (prepared.length === 0) return;
    const insert = this.#stmt('INSERT OR IGNORE INTO events (tenant_id, event_id, at, record) VALUES (?, ?, ?, ?)');
    this.#transaction(() => {
      for (const e of prepared) insert.run(e.tenantId, e.eventId, e.at, JSON.stringify(e));
    });
  }

  #events(tenantId: string, query: EventQuery): Page<EventRecord> {
    let sql = 'SELECT at, event_id, record FROM events WHERE tenant_id = ?';
    const params: SQLInputValue[] = [tenantId];
    if (query.since !== undefined) {
      sql += ' AND at >= ?';
      params.push(normaliseBound(query.since, 'since'));
    }
    return this.#page('events', sql, params, ['at', 'event_id'], 'DESC', query, (row) =>
      parseRecord(row, eventSchema, 'event'),
    );
  }

  #runs(query: RunQuery): Page<RunRecord> {
    const tenant = query.tenantId;
    return this.#page(
      tenant === undefined ? 'runs' : 'tenant-runs',
      tenant === undefined
        ? 'SELECT started_at, run_id, record FROM runs WHERE tenant_id IS NULL'
        : 'SELECT started_at, run_id, record FROM runs WHERE tenant_id = ?',
      tenant === undefined ? [] : [tenant],
      ['started_at', 'run_id'],
      'DESC',
      query,
      (row) => parseRecord(row, runSchema, 'run'),
    );
  }

  #listStates(tenantId: string): readonly SubjectState[] {
    return this.#stmt('SELECT record FROM states WHERE tenant_id = ? ORDER BY kind, subject')
      .all(tenantId)
      .map((row) => parseRecord(row, stateSchema, 'state'));
  }

  #putState(state: SubjectState, expectedVersion: number | null): SubjectState {
    requireExpectedVersion(expectedVersion);
    const prepared = prepareState(state, expectedVersion === null ? 1 : expectedVersion + 1);
    const json = JSON.stringify(prepared);
    const changes =
      expectedVersion === null
        ? this.#stmt(
            'INSERT INTO states (tenant_id, kind, subject, version, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
          ).run(prepared.tenantId, prepared.check, prepared.subject, prepared.version, json).changes
        : this.#stmt(
            'UPDATE states SET version = ?, record = ? WHERE tenant_id = ? AND kind = ? AND subject = ? AND version = ?',
          ).run(prepared.version, json, prepared.tenantId, prepared.check, prepared.subject, expectedVersion).changes;
    if (Number(changes) !== 1) {
      throw new ConflictError('state', `${prepared.tenantId}/${prepared.check}/${prepared.subject}`, expectedVersion);
    }
    return prepared;
  }

  #getIncident(tenantId: string, id: string): IncidentRecord | null {
    const row = this.#stmt('SELECT record FROM incidents WHERE tenant_id = ? AND id = ?').get(tenantId, id);
    return row === undefined ? null : parseRecord(row, incidentSchema, 'incident');
  }

  #putIncident(incident: IncidentRecord, expectedVersion: number | null): IncidentRecord {
    requireExpectedVersion(expectedVersion);
    const prepared = prepareIncident(incident, expectedVersion === null ? 1 : expectedVersion + 1);
    const json = JSON.stringify(prepared);
    const active = prepared.status === 'open' || owesResolved(prepared) ? 1 : 0;
    const changes =
      expectedVersion === null
        ? this.#stmt(
            'INSERT INTO incidents (tenant_id, id, status, opened_at, version, record, active, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
          ).run(
            prepared.tenantId,
            prepared.id,
            prepared.status,
            prepared.openedAt,
            prepared.version,
            json,
            active,
            prepared.resolvedAt,
          ).changes
        : this.#stmt(
            'UPDATE incidents SET status = ?, opened_at = ?, version = ?, record = ?, active = ?, resolved_at = ? WHERE tenant_id = ? AND id = ? AND version = ?',
          ).run(
            prepared.status,
            prepared.openedAt,
            prepared.version,
            json,
            active,
            prepared.resolvedAt,
            prepared.tenantId,
            prepared.id,
            expectedVersion,
          ).changes;
    if (Number(changes) !== 1) {
      throw new ConflictError('incident', `${prepared.tenantId}/${prepared.id}`, expectedVersion);
    }
    return prepared;
  }

  #writeDecision(write: DecisionWrite): DecisionWritten {
    return this.#transaction(() => ({
      state: this.#putState(write.state, write.stateExpectedVersion),
      incidents: write.incidents.map((c) => this.#putIncident(c.incident, c.expectedVersion)),
    }));
  }

  #listActive(tenantId: string): readonly IncidentRecord[] {
    return this.#stmt('SELECT record FROM incidents WHERE tenant_id = ? AND active = 1 ORDER BY id')
      .all(tenantId)
      .map((row) => parseRecord(row, incidentSchema, 'incident'))
      .filter((i) => i.status === 'open' || owesResolved(i));
  }

  #reserve(zoneId: string, day: string, wanted: number, limit: number): number {
    requireBudgetArgs(zoneId, day, wanted, limit);
    if (wanted === 0) return 0;
    // BEGIN IMMEDIATE takes the write lock first: another process's reservation waits (busy_timeout), never interleaves.
    return this.#transaction(() => {
      const row = this.#stmt('SELECT used FROM budget WHERE zone_id = ? AND day = ?').get(zoneId, day);
      const used = row === undefined ? 0 : Number(row.used);
      const granted = Math.max(0, Math.min(wanted, limit - used));
      if (granted > 0) {
        this.#stmt(
          'INSERT INTO budget (zone_id, day, used) VALUES (?, ?, ?) ON CONFLICT (zone_id, day) DO UPDATE SET used = used + excluded.used',
        ).run(zoneId, day, granted);
      }
      return granted;
    });
  }

  #used(zoneId: string, day: string): number {
    const row = this.#stmt('SELECT used FROM budget WHERE zone_id = ? AND day = ?').get(zoneId, day);
    return row === undefined ? 0 : Number(row.used);
  }

  #firstSeen(key: string, expiresAtMs: number, now: number): boolean {
    requireNonceArgs(key, expiresAtMs);
    // Insert, or take over a row whose key has expired; a live key changes nothing.
    const changes = this.#stmt(
      'INSERT INTO nonces (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?',
    ).run(key, Math.floor(expiresAtMs), now).changes;
    return Number(changes) === 1;
  }

  #listOpen(query: PageRequest): Page<IncidentRecord> {
    return this.#page(
      'open-incidents',
      "SELECT opened_at, tenant_id, id, record FROM incidents WHERE status = 'open'",
      [],
      ['opened_at', 'tenant_id', 'id'],
      'ASC',
      query,
      (row) => parseRecord(row, incidentSchema, 'incident'),
    );
  }

  /**
   * One statement, so atomic without a transaction: insert the claim, or take an existing one over when it is not
   * delivered and its lease expired or is ours. `changes` says whether we got it; otherwise the row says why not.
   */
  #claim(tenantId: string, key: string, owner: string, now: Date, leaseMs: number): ClaimOutcome {
    const { at, leaseUntil } = prepareClaim(tenantId, key, owner, now, leaseMs);
    const won = this.#stmt(
      `INSERT INTO deliveries (tenant_id, key, owner, lease_until, attempts, delivered_at, claimed_at)
       VALUES (?, ?, ?, ?, 1, NULL, ?)
       ON CONFLICT (tenant_id, key) DO UPDATE SET
         owner = excluded.owner, lease_until = excluded.lease_until, attempts = attempts + 1, claimed_at = excluded.claimed_at
       WHERE delivered_at IS NULL AND (lease_until <= excluded.claimed_at OR owner = excluded.owner)`,
    ).run(tenantId, key, owner, leaseUntil, at);
    const claim = this.#getClaim(tenantId, key);
    if (claim === null) throw new Error(`delivery claim ${key} vanished while being claimed`);
    if (Number(won.changes) > 0) return { status: 'claimed', claim };
    return { status: claim.deliveredAt !== null ? 'delivered' : 'held', claim };
  }

  #complete(tenantId: string, key: string, owner: string, now: Date): void {
    const { at } = prepareClaim(tenantId, key, owner, now);
    this.#stmt(
      `INSERT INTO deliveries (tenant_id, key, owner, lease_until, attempts, delivered_at, claimed_at)
       VALUES (?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (tenant_id, key) DO UPDATE SET delivered_at = COALESCE(delivered_at, excluded.delivered_at)`,
    ).run(tenantId, key, owner, at, at, at);
  }

  #release(tenantId: string, key: string, owner: string): void {
    prepareClaim(tenantId, key, owner, new Date(0));
    this.#stmt(
      'UPDATE deliveries SET lease_until = ? WHERE tenant_id = ? AND key = ? AND owner = ? AND delivered_at IS NULL',
    ).run(RELEASED_LEASE, tenantId, key, owner);
  }

  #getClaim(tenantId: string, key: string): DeliveryClaim | null {
    const row = this.#stmt(
      'SELECT tenant_id, key, owner, lease_until, attempts, delivered_at FROM deliveries WHERE tenant_id = ? AND key = ?',
    ).get(tenantId, key);
    if (row === undefined) return null;
    return parseStored(
      deliveryClaimSchema,
      {
        tenantId: row.tenant_id,
        key: row.key,
        owner: row.owner,
        leaseUntil: row.lease_until,
        attempts: row.attempts,
        deliveredAt: row.delivered_at,
      },
      'delivery claim',
    );
  }

  #listIncidents(tenantId: string, query: IncidentQuery): Page<IncidentRecord> {
    let sql = 'SELECT id, record FROM incidents WHERE tenant_id = ?';
    const params: SQLInputValue[] = [tenantId];
    if (query.status !== undefined) {
      sql += ' AND status = ?';
      params.push(query.status);
    }
    return this.#page('incidents', sql, params, ['id'], 'ASC', query, (row) =>
      parseRecord(row, incidentSchema, 'incident'),
    );
  }
}

/** The store's directory cannot be made (a path under /proc, a file where a directory belongs, no permission). */
export class StoreDirectoryError extends Error {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreDirectoryError';
    this.path = path;
  }
}

/**
 * Create `dir` and its missing parents one level at a time. Node's `mkdirSync(…, { recursive: true })` loops without
 * end on some pseudo file systems (under /proc it spins at full CPU for minutes); this walk stops at the first
 * directory that cannot be made and says why.
 */
function makeDirectory(dir: string, storePath: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      const st = statSync(at);
      if (!st.isDirectory()) {
        throw new StoreDirectoryError(
          storePath,
          `cannot create the SQLite store ${storePath}: ${at} exists and is not a directory`,
        );
      }
      break;
    } catch (err) {
      if (err instanceof StoreDirectoryError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        throw new StoreDirectoryError(storePath, `cannot create the SQLite store ${storePath}: ${at}: ${code}`, {
          cause: err,
        });
      }
      missing.unshift(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      const why =
        code === 'ENOENT'
          ? `${dirname(d)} does not accept new directories (a pseudo file system such as /proc?)`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied creating ${d}`
            : code === 'EROFS'
              ? `${d} is on a read-only file system`
              : `${d}: ${code ?? String(err)}`;
      throw new StoreDirectoryError(storePath, `cannot create the SQLite store ${storePath}: ${why}`, { cause: err });
    }
  }
}

/** Open (creating the directory and file when needed) and migrate a SQLite store. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options.path !== ':memory:') makeDirectory(dirname(options.path), options.path);
  return new SqliteStore(options);
}
