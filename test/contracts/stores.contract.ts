/**
 * The contract every store adapter must pass (shared/ports/stores.ts). Call it from an adapter's test file:
 *
 * ```ts
 * describeStoreContract('SQLite', async () => { const store = …; return { store, cleanup: async () => … }; });
 * ```
 *
 * `makeStore` must return a fresh, empty store each time (listOpen and runs are global, so tests need isolation).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CheckRecord,
  ConflictError,
  DETAIL_MAX_BYTES,
  type EventRecord,
  type IncidentRecord,
  InvalidCursorError,
  type Page,
  type RunRecord,
  type Store,
  SUMMARY_MAX_CHARS,
  type SubjectState,
} from '../../shared/ports/stores.ts';

export interface StoreUnderTest {
  readonly store: Store;
  readonly cleanup: () => Promise<void>;
}

const T0 = Date.parse('2026-11-27T18:00:00.000Z');
/** T0 plus `minutes`, as a canonical ISO string. */
export const iso = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

export function checkRecord(overrides: Partial<CheckRecord> = {}): CheckRecord {
  return {
    tenantId: 'contoso',
    runId: 'run-1',
    at: iso(0),
    check: 'spf',
    subject: 'contoso.example',
    status: 'pass',
    codes: ['spf-relay-ip-pass'],
    summary: 'SPF authorises every relay IP.',
    fingerprint: 'sha256:abc',
    detail: { record: 'v=spf1 include:spf.protection.outlook.com -all', lookups: 1 },
    ...overrides,
  };
}

export function stateRecord(overrides: Partial<SubjectState> = {}): SubjectState {
  return {
    tenantId: 'contoso',
    check: 'spf',
    subject: 'contoso.example',
    lastStatus: 'pass',
    lastAt: iso(0),
    lastRunId: 'run-1',
    consecutiveFails: 0,
    consecutivePasses: 1,
    fingerprint: 'sha256:abc',
    fingerprintValue: 'v=spf1 include:spf.protection.outlook.com -all',
    version: 0,
    ...overrides,
  };
}

export function incidentRecord(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    tenantId: 'contoso',
    id: 'inc-1',
    check: 'spf',
    subject: 'contoso.example',
    problem: 'spf-relay-ip-fail',
    status: 'open',
    severity: 'critical',
    title: 'Relay IP 203.0.113.10 fails SPF for contoso.example',
    openedAt: iso(0),
    updatedAt: iso(0),
    resolvedAt: null,
    lastDetail: 'SPF result fail for 203.0.113.10',
    deliveries: {
      slack: { opened: iso(1), lastReminder: null, resolved: null, failures: 0, lastError: null },
      psa: { opened: null, lastReminder: null, resolved: null, failures: 2, lastError: 'HTTP 503' },
    },
    flaps: [iso(0)],
    version: 0,
    ...overrides,
  };
}

export function eventRecord(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    tenantId: 'contoso',
    eventId: 'ev-1',
    at: iso(0),
    kind: 'spf-changed',
    subject: 'contoso.example',
    before: 'v=spf1 -all',
    after: 'v=spf1 include:spf.protection.outlook.com -all',
    runId: 'run-1',
    ...overrides,
  };
}

export function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: 'run-1',
    startedAt: iso(0),
    finishedAt: iso(1),
    source: 'cli',
    counts: { pass: 3, warn: 1, fail: 0, unknown: 0 },
    ...overrides,
  };
}

/** Follow cursors to the end; returns every item and the number of pages. */
export async function collect<T>(
  fetch: (cursor: string | null) => Promise<Page<T>>,
  maxPages = 100,
): Promise<{ items: T[]; pages: number[] }> {
  const items: T[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetch(cursor);
    items.push(...page.items);
    pages.push(page.items.length);
    cursor = page.cursor;
    if (pages.length > maxPages) throw new Error('pagination does not end');
  } while (cursor !== null);
  return { items, pages };
}

const key = (c: CheckRecord) => `${c.runId}|${c.check}|${c.subject}`;

/** Read until `ok` (DynamoDB's GSIs are eventually consistent; SQLite passes at once). */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ContractOptions {
  /**
   * Which copy of a check stands when its key is written again in a later call (a redelivered job): SQLite keeps the
   * first (INSERT OR IGNORE), DynamoDB the last (unconditional BatchWriteItem). Either way there is one copy.
   */
  readonly rewrittenCheck: 'first' | 'last';
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ContractOptions = { rewrittenCheck: 'first' },
): void {
  describe(`${name} store contract`, () => {
    let current: StoreUnderTest | undefined;
    const store = (): Store => {
      if (current === undefined) throw new Error('no store');
      return current.store;
    };
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    describe('checks', () => {
      it('stores one copy when the same batch is written twice (and duplicates inside a batch)', async () => {
        const batch = [
          checkRecord({ subject: 'a.example' }),
          checkRecord({ subject: 'b.example' }),
          checkRecord({ subject: 'b.example', summary: 'a duplicate key in the same batch' }),
          checkRecord({ check: 'mx', subject: 'a.example' }),
        ];
        await store().results.putChecks(batch);
        await store().results.putChecks(batch);
        // A check's `at` is its run's time (ports/stores.ts): a redelivered job writes the same identity at the same time.
        await store().results.putChecks([checkRecord({ subject: 'a.example', summary: 'rewritten' })]);
        const { items } = await store().results.history('contoso');
        expect(items.map(key).sort()).toEqual(['run-1|mx|a.example', 'run-1|spf|a.example', 'run-1|spf|b.example']);
        expect(items.find((c) => c.subject === 'a.example' && c.check === 'spf')?.summary).toBe(
          options.rewrittenCheck === 'first' ? 'SPF authorises every relay IP.' : 'rewritten',
        );
        // A duplicate key inside one batch keeps the batch's first record on every backend.
        expect(items.find((c) => c.subject === 'b.example')?.summary).toBe('SPF authorises every relay IP.');
      });

      it('accepts an empty batch', async () => {
        await store().results.putChecks([]);
        expect((await store().results.history('contoso')).items).toEqual([]);
      });

      it('stores a run given with the checks exactly as putRun does, and replaces it when written again', async () => {
        const job = runRecord({ runId: 'job-1', tenantId: 'contoso', source: 'lambda' });
        await store().results.putChecks([checkRecord({ runId: 'job-1' })], job);
        expect((await store().results.runs({ tenantId: 'contoso' })).items).toEqual([job]);
        expect((await store().results.history('contoso')).items.map((c) => c.runId)).toEqual(['job-1']);
        // A redelivery: the same checks and the run again (a later finishedAt), one copy of each.
        const again = { ...job, finishedAt: iso(5) };
        await store().results.putChecks([checkRecord({ runId: 'job-1' })], again);
        expect((await store().results.runs({ tenantId: 'contoso' })).items).toEqual([again]);
        expect((await store().results.history('contoso')).items).toHaveLength(1);
        // A run without a tenant (the sweep's), and a run with no checks at all.
        const sweep = runRecord({ runId: 'sweep-1', source: 'lambda' });
        await store().results.putChecks([], sweep);
        expect((await store().results.runs()).items).toEqual([sweep]);
      });

      it('round-trips a record exactly', async () => {
        const record = checkRecord({
          codes: [],
          fingerprint: null,
          detail: { nested: { list: [1, 2.5, 'x', null, true, { deep: [[]] }] }, empty: {}, text: '' },
        });
        await store().results.putChecks([record, checkRecord({ subject: 'no-detail.example', detail: null })]);
        const { items } = await store().results.history('contoso');
        expect(items.find((c) => c.subject === record.subject)).toEqual(record);
        expect(items.find((c) => c.subject === 'no-detail.example')?.detail).toBeNull();
      });

      it('pages through history newest first, over more than two pages', async () => {
        const records = Array.from({ length: 120 }, (_, i) =>
          checkRecord({ runId: `run-${i}`, at: iso(i), check: i % 2 === 0 ? 'spf' : 'mx', subject: `d${i}.example` }),
        );
        await store().results.putChecks(records);
        await store().results.putChecks([checkRecord({ tenantId: 'fabrikam', at: iso(500) })]);
        const { items, pages } = await collect((cursor) => store().results.history('contoso', { limit: 50, cursor }));
        expect(pages.filter((n) => n > 0)).toEqual([50, 50, 20]);
        expect(items.map((c) => c.at)).toEqual(records.map((r) => r.at).reverse());
        expect(new Set(items.map(key)).size).toBe(120);
      });

      it('filters history by check, since (inclusive) and until (exclusive), with pagination', async () => {
        const records = Array.from({ length: 120 }, (_, i) =>
          checkRecord({ runId: `run-${i}`, at: iso(i), check: i % 2 === 0 ? 'spf' : 'mx', subject: `d${i}.example` }),
        );
        await store().results.putChecks(records);
        const spf = await collect((cursor) => store().results.history('contoso', { check: 'spf', limit: 25, cursor }));
        expect(spf.items).toHaveLength(60);
        expect(spf.items.every((c) => c.check === 'spf')).toBe(true);
        expect(spf.pages.filter((n) => n > 0)).toEqual([25, 25, 10]);
        expect(spf.items.map((c) => c.at)).toEqual(
          records
            .filter((r) => r.check === 'spf')
            .map((r) => r.at)
            .reverse(),
        );

        const window = await collect((cursor) =>
          store().results.history('contoso', { since: iso(10), until: iso(20), limit: 4, cursor }),
        );
        expect(window.items.map((c) => c.at)).toEqual(Array.from({ length: 10 }, (_, i) => iso(19 - i)));

        const sinceOnly = await store().results.history('contoso', { since: iso(115) });
        expect(sinceOnly.items.map((c) => c.at)).toEqual([iso(119), iso(118), iso(117), iso(116), iso(115)]);
        const untilOnly = await store().results.history('contoso', { until: iso(2), limit: 10 });
        expect(untilOnly.items.map((c) => c.at)).toEqual([iso(1), iso(0)]);
        expect(untilOnly.cursor).toBeNull();

        const combined = await store().results.history('contoso', { since: iso(10), until: iso(20), check: 'mx' });
        expect(combined.items.map((c) => c.at)).toEqual([iso(19), iso(17), iso(15), iso(13), iso(11)]);
        expect((await store().results.history('nobody')).items).toEqual([]);
      });

      it('keeps subjects with #, :, % and unicode apart', async () => {
        const tricky: ReadonlyArray<readonly [string, string]> = [
          ['spf', 'a#b'],
          ['spf#a', 'b'],
          ['spf', '#'],
          ['spf', '%23'],
          ['spf', '%'],
          ['blocklist', '203.0.113.10@zen.spamhaus.org'],
          ['blocklist', '2001:db8::1@bl.spamcop.net'],
          ['mx', 'bücher.example'],
          ['mx', '例え.jp'],
          ['mx', 'mail 📮 relay'],
          ['probe-relay', 'relay#1:25'],
          ['probe-relay', 'relay'],
        ];
        await store().results.putChecks(tricky.map(([check, subject]) => checkRecord({ check, subject })));
        const { items } = await store().results.history('contoso', { limit: 100 });
        expect(items.map((c) => `${c.check} ${c.subject}`).sort()).toEqual(tricky.map(([c, s]) => `${c} ${s}`).sort());
        for (const [check, subject] of tricky) {
          const created = await store().states.put(stateRecord({ check, subject }), null);
          expect(created.version).toBe(1);
        }
        const states = await store().states.list('contoso');
        expect(states.map((s) => `${s.check} ${s.subject}`).sort()).toEqual(tricky.map(([c, s]) => `${c} ${s}`).sort());
        await store().results.putChecks([checkRecord({ tenantId: 'a#b', subject: 'x' })]);
        await store().results.putChecks([checkRecord({ tenantId: 'a', subject: 'b#x' })]);
        expect((await store().results.history('a#b')).items.map((c) => c.subject)).toEqual(['x']);
        expect((await store().results.history('a')).items.map((c) => c.subject)).toEqual(['b#x']);
      });

      it('replaces a detail over 32 KiB by { truncated, bytes } and cuts a long summary', async () => {
        const big = { blob: 'x'.repeat(DETAIL_MAX_BYTES) };
        const bigBytes = Buffer.byteLength(JSON.stringify(big));
        const fits = { blob: 'y'.repeat(DETAIL_MAX_BYTES - 20) };
        expect(Buffer.byteLength(JSON.stringify(fits))).toBeLessThanOrEqual(DETAIL_MAX_BYTES);
        const multibyte = { blob: 'é'.repeat(DETAIL_MAX_BYTES / 2) };
        await store().results.putChecks([
          checkRecord({ subject: 'big', detail: big }),
          checkRecord({ subject: 'fits', detail: fits }),
          checkRecord({ subject: 'multibyte', detail: multibyte, summary: 's'.repeat(2000) }),
        ]);
        const { items } = await store().results.history('contoso');
        const bySubject = new Map(items.map((c) => [c.subject, c]));
        expect(bySubject.get('big')?.detail).toEqual({ truncated: true, bytes: bigBytes });
        expect(bySubject.get('fits')?.detail).toEqual(fits);
        expect(bySubject.get('multibyte')?.detail).toEqual({
          truncated: true,
          bytes: Buffer.byteLength(JSON.stringify(multibyte)),
        });
        expect(Array.from(bySubject.get('multibyte')?.summary ?? '')).toHaveLength(SUMMARY_MAX_CHARS);
      });

      it('rejects a time that is not a canonical ISO string, and a foreign cursor', async () => {
        await expect(store().results.putChecks([checkRecord({ at: '2026-11-27T18:00:00Z' })])).rejects.toThrow(
          TypeError,
        );
        await expect(store().results.putEvents([eventRecord({ after: 'v=spf1 '.repeat(10_000) })])).rejects.toThrow(
          RangeError,
        );
        await expect(store().results.history('contoso', { cursor: 'not-a-cursor' })).rejects.toThrow(
          InvalidCursorError,
        );
        await store().results.putEvents([eventRecord({ eventId: 'a' }), eventRecord({ eventId: 'b', at: iso(1) })]);
        const eventsPage = await store().results.events('contoso', { limit: 1 });
        expect(eventsPage.cursor).not.toBeNull();
        await expect(store().results.history('contoso', { cursor: eventsPage.cursor ?? undefined })).rejects.toThrow(
          InvalidCursorError,
        );
      });
    });

    describe('events', () => {
      it('stores events once by eventId and lists them newest first, with since and pagination', async () => {
        const events = Array.from({ length: 12 }, (_, i) =>
          eventRecord({ eventId: `ev-${i}#x`, at: iso(i), kind: i % 3 === 0 ? 'mx-changed' : 'spf-changed' }),
        );
        await store().results.putEvents(events);
        await store().results.putEvents(events.map((e) => ({ ...e, after: 'rewritten' })));
        await store().results.putEvents([eventRecord({ tenantId: 'fabrikam', eventId: 'ev-0#x' })]);
        const all = await collect((cursor) => store().results.events('contoso', { limit: 5, cursor }));
        expect(all.items).toEqual([...events].reverse());
        expect(all.pages.filter((n) => n > 0)).toEqual([5, 5, 2]);
        const recent = await store().results.events('contoso', { since: iso(10) });
        expect(recent.items.map((e) => e.eventId)).toEqual(['ev-11#x', 'ev-10#x']);
        expect((await store().results.events('fabrikam')).items).toHaveLength(1);
      });
    });

    describe('runs', () => {
      it('lists runs newest first and replaces a run written again', async () => {
        const runs = Array.from({ length: 7 }, (_, i) =>
          runRecord({ runId: `run-${i}`, startedAt: iso(i * 15), finishedAt: iso(i * 15 + 1) }),
        );
        await Promise.all(runs.map((r) => store().results.putRun(r)));
        const finished = runRecord({
          runId: 'run-3',
          startedAt: iso(45),
          finishedAt: iso(50),
          source: 'lambda',
          counts: { pass: 1, warn: 2, fail: 3, unknown: 4 },
        });
        await store().results.putRun(finished);
        const all = await collect((cursor) => store().results.runs({ limit: 3, cursor }));
        expect(all.items.map((r) => r.runId)).toEqual(['run-6', 'run-5', 'run-4', 'run-3', 'run-2', 'run-1', 'run-0']);
        expect(all.items.find((r) => r.runId === 'run-3')).toEqual(finished);
      });
    });

    describe('states', () => {
      it('creates, updates with the right version, and refuses stale versions and double creation', async () => {
        const created = await store().states.put(stateRecord({ version: 42 }), null);
        expect(created.version).toBe(1);
        await expect(store().states.put(stateRecord(), null)).rejects.toThrow(ConflictError);

        const updated = await store().states.put(
          stateRecord({ lastStatus: 'fail', consecutiveFails: 1, consecutivePasses: 0, lastRunId: 'run-2' }),
          1,
        );
        expect(updated.version).toBe(2);
        const stale = store().states.put(stateRecord({ lastStatus: 'pass' }), 1);
        await expect(stale).rejects.toThrow(ConflictError);
        await expect(stale).rejects.toMatchObject({ name: 'ConflictError', entity: 'state', expectedVersion: 1 });
        await expect(store().states.put(stateRecord({ subject: 'absent.example' }), 3)).rejects.toThrow(ConflictError);

        const [only] = await store().states.list('contoso');
        expect(only).toEqual({
          ...stateRecord({ lastStatus: 'fail', consecutiveFails: 1, consecutivePasses: 0, lastRunId: 'run-2' }),
          version: 2,
        });
        expect(await store().states.list('fabrikam')).toEqual([]);
      });

      it('lists every state of a tenant and only that tenant', async () => {
        for (let i = 0; i < 30; i++) {
          await store().states.put(
            stateRecord({ check: i % 2 ? 'mx' : 'spf', subject: `d${i}.example`, fingerprintValue: 'x'.repeat(2000) }),
            null,
          );
        }
        await store().states.put(stateRecord({ tenantId: 'fabrikam' }), null);
        const states = await store().states.list('contoso');
        expect(states).toHaveLength(30);
        expect(states.every((s) => s.tenantId === 'contoso' && s.version === 1)).toBe(true);
      });

      it('lets exactly one of two concurrent writers with the same expected version win', async () => {
        await store().states.put(stateRecord(), null);
        for (let round = 1; round <= 5; round++) {
          const results = await Promise.allSettled([
            store().states.put(stateRecord({ lastRunId: `a-${round}` }), round),
            store().states.put(stateRecord({ lastRunId: `b-${round}` }), round),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r) => r.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]?.status === 'rejected' && lost[0].reason).toBeInstanceOf(ConflictError);
          const [stored] = await store().states.list('contoso');
          expect(stored?.version).toBe(round + 1);
          expect(won[0]?.status === 'fulfilled' && won[0].value.lastRunId).toBe(stored?.lastRunId);
        }
        const creators = await Promise.allSettled([
          store().states.put(stateRecord({ subject: 'new.example' }), null),
          store().states.put(stateRecord({ subject: 'new.example' }), null),
        ]);
        expect(creators.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      });
    });

    describe('incidents', () => {
      it('puts and gets an incident, with versions', async () => {
        expect(await store().incidents.get('contoso', 'inc-1')).toBeNull();
        const created = await store().incidents.put(incidentRecord(), null);
        expect(created.version).toBe(1);
        expect(await store().incidents.get('contoso', 'inc-1')).toEqual({ ...incidentRecord(), version: 1 });
        await expect(store().incidents.put(incidentRecord(), null)).rejects.toThrow(ConflictError);
        const updated = await store().incidents.put(
          incidentRecord({ lastDetail: 'still failing', updatedAt: iso(5) }),
          1,
        );
        expect(updated.version).toBe(2);
        await expect(store().incidents.put(incidentRecord(), 1)).rejects.toThrow(ConflictError);
        expect((await store().incidents.get('contoso', 'inc-1'))?.lastDetail).toBe('still failing');
        expect(await store().incidents.get('fabrikam', 'inc-1')).toBeNull();
      });

      it('keeps an acknowledgement and a resolution kind, and clears them when rewritten with null', async () => {
        const acked = incidentRecord({ ack: { by: 'jane (NOC)', at: iso(2), note: 'ticket #4711 ünïcode' } });
        await store().incidents.put(acked, null);
        expect(await store().incidents.get('contoso', 'inc-1')).toEqual({ ...acked, version: 1 });
        const closed = incidentRecord({
          status: 'resolved',
          resolvedAt: iso(3),
          updatedAt: iso(3),
          ack: acked.ack,
          resolution: { kind: 'closed', by: 'jane', note: 'fixed by the customer' },
        });
        await store().incidents.put(closed, 1);
        expect(await store().incidents.get('contoso', 'inc-1')).toEqual({ ...closed, version: 2 });
        expect((await store().incidents.listOpen()).items.map((i) => i.id)).not.toContain('inc-1');
        const reopened = incidentRecord({ openedAt: iso(4), updatedAt: iso(4), ack: null, resolution: null });
        await store().incidents.put(reopened, 2);
        const back = await store().incidents.get('contoso', 'inc-1');
        expect(back?.ack ?? null).toBeNull();
        expect(back?.resolution ?? null).toBeNull();
        expect((await store().incidents.list('contoso', { status: 'open' })).items[0]?.id).toBe('inc-1');
        await expect(
          store().incidents.put(incidentRecord({ ack: { by: 'x', at: 'yesterday', note: null } }), 3),
        ).rejects.toThrow(TypeError);
      });

      it('lists open incidents of every tenant, oldest first, paginated; resolving removes one', async () => {
        const open = [
          incidentRecord({ tenantId: 'contoso', id: 'c1', openedAt: iso(3) }),
          incidentRecord({ tenantId: 'fabrikam', id: 'f1', openedAt: iso(1) }),
          incidentRecord({ tenantId: 'fabrikam', id: 'f#2', openedAt: iso(5) }),
          incidentRecord({ tenantId: 'northwind', id: 'n1', openedAt: iso(2) }),
          incidentRecord({ tenantId: 'contoso', id: 'c2', openedAt: iso(4) }),
          incidentRecord({ tenantId: 'tailspin', id: 't1', openedAt: iso(0) }),
          incidentRecord({ tenantId: 'tailspin', id: 't2', openedAt: iso(6) }),
        ];
        for (const incident of open) await store().incidents.put(incident, null);
        await store().incidents.put(
          incidentRecord({
            tenantId: 'contoso',
            id: 'old',
            status: 'resolved',
            resolvedAt: iso(-1),
            openedAt: iso(-9),
          }),
          null,
        );
        const all = await collect((cursor) => store().incidents.listOpen({ limit: 3, cursor }));
        expect(all.items.map((i) => `${i.tenantId}/${i.id}`)).toEqual([
          'tailspin/t1',
          'fabrikam/f1',
          'northwind/n1',
          'contoso/c1',
          'contoso/c2',
          'fabrikam/f#2',
          'tailspin/t2',
        ]);
        expect(all.pages.filter((n) => n > 0)).toEqual([3, 3, 1]);

        await store().incidents.put(
          incidentRecord({ tenantId: 'northwind', id: 'n1', openedAt: iso(2), status: 'resolved', resolvedAt: iso(9) }),
          1,
        );
        const after = await collect((cursor) => store().incidents.listOpen({ cursor }));
        expect(after.items.map((i) => i.id)).toEqual(['t1', 'f1', 'c1', 'c2', 'f#2', 't2']);
        expect(after.items.every((i) => i.status === 'open')).toBe(true);

        await store().incidents.put(
          incidentRecord({
            tenantId: 'northwind',
            id: 'n1',
            openedAt: iso(10),
            status: 'open',
            flaps: [iso(2), iso(9)],
          }),
          2,
        );
        const reopened = await store().incidents.listOpen({ limit: 100 });
        expect(reopened.items.map((i) => i.id).at(-1)).toBe('n1');
      });

      it('lists a tenant’s incidents by status, paginated', async () => {
        for (let i = 0; i < 9; i++) {
          const resolved = i % 3 === 0;
          await store().incidents.put(
            incidentRecord({
              id: `inc-${i}`,
              status: resolved ? 'resolved' : 'open',
              resolvedAt: resolved ? iso(30) : null,
            }),
            null,
          );
        }
        await store().incidents.put(incidentRecord({ tenantId: 'fabrikam', id: 'inc-0' }), null);
        const all = await collect((cursor) => store().incidents.list('contoso', { limit: 4, cursor }));
        expect(all.items.map((i) => i.id)).toEqual(Array.from({ length: 9 }, (_, i) => `inc-${i}`));
        const open = await collect((cursor) => store().incidents.list('contoso', { status: 'open', limit: 4, cursor }));
        expect(open.items.map((i) => i.id)).toEqual(['inc-1', 'inc-2', 'inc-4', 'inc-5', 'inc-7', 'inc-8']);
        expect(open.pages.filter((n) => n > 0)).toEqual([4, 2]);
        const resolved = await store().incidents.list('contoso', { status: 'resolved' });
        expect(resolved.items.map((i) => i.id)).toEqual(['inc-0', 'inc-3', 'inc-6']);
        expect(resolved.cursor).toBeNull();
      });

      it('lets exactly one of two concurrent incident updates win', async () => {
        await store().incidents.put(incidentRecord(), null);
        const results = await Promise.allSettled([
          store().incidents.put(incidentRecord({ lastDetail: 'a' }), 1),
          store().incidents.put(incidentRecord({ lastDetail: 'b' }), 1),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect((await store().incidents.get('contoso', 'inc-1'))?.version).toBe(2);
      });
    });

    describe('decisions (state and incidents together)', () => {
      it('writes the state and every incident of a decision', async () => {
        const w = await store().writeDecision({
          state: stateRecord({ lastStatus: 'fail', consecutiveFails: 2, consecutivePasses: 0 }),
          stateExpectedVersion: null,
          incidents: [{ incident: incidentRecord(), expectedVersion: null }],
        });
        expect(w.state.version).toBe(1);
        expect(w.incidents.map((i) => i.version)).toEqual([1]);
        expect((await store().states.list('contoso'))[0]?.consecutiveFails).toBe(2);
        expect((await store().incidents.get('contoso', 'inc-1'))?.status).toBe('open');
      });

      it('writes nothing when one incident condition fails, and says which record lost', async () => {
        await store().incidents.put(incidentRecord(), null);
        const attempt = store().writeDecision({
          state: stateRecord({ lastStatus: 'fail', consecutiveFails: 2 }),
          stateExpectedVersion: null,
          incidents: [{ incident: incidentRecord({ lastDetail: 'second writer' }), expectedVersion: null }],
        });
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        await expect(attempt).rejects.toMatchObject({ entity: 'incident' });
        expect(await store().states.list('contoso')).toEqual([]);
        expect((await store().incidents.get('contoso', 'inc-1'))?.lastDetail).toBe(incidentRecord().lastDetail);
      });

      it('writes nothing when the state condition fails', async () => {
        await store().states.put(stateRecord(), null);
        const attempt = store().writeDecision({
          state: stateRecord({ consecutiveFails: 5 }),
          stateExpectedVersion: 7,
          incidents: [{ incident: incidentRecord(), expectedVersion: null }],
        });
        await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', entity: 'state' });
        expect(await store().incidents.get('contoso', 'inc-1')).toBeNull();
      });
    });

    describe('active incidents', () => {
      it('lists the open incidents and the resolved ones owing a RESOLVED, not the settled ones', async () => {
        const told = { opened: iso(1), lastReminder: null, resolved: null, failures: 0, lastError: null };
        await store().incidents.put(incidentRecord({ id: 'a-open' }), null);
        const resolved = { status: 'resolved' as const, resolvedAt: iso(5) };
        await store().incidents.put(incidentRecord({ id: 'b-owed', ...resolved, deliveries: { slack: told } }), null);
        await store().incidents.put(
          incidentRecord({ id: 'c-settled', ...resolved, deliveries: { slack: { ...told, resolved: iso(6) } } }),
          null,
        );
        await store().incidents.put(incidentRecord({ id: 'd-never-told', ...resolved, deliveries: {} }), null);
        await store().incidents.put(incidentRecord({ id: 'e-other', tenantId: 'fabrikam' }), null);
        const ids = async () =>
          (
            await eventually(
              () => store().incidents.listActive('contoso'),
              (l) => l.length === 2,
            )
          ).map((i) => i.id);
        expect(await ids()).toEqual(['a-open', 'b-owed']);
        // Telling the route RESOLVED settles it: it leaves the active set.
        const owed = await store().incidents.get('contoso', 'b-owed');
        if (!owed) throw new Error('missing');
        await store().incidents.put({ ...owed, deliveries: { slack: { ...told, resolved: iso(7) } } }, owed.version);
        expect(
          (
            await eventually(
              () => store().incidents.listActive('contoso'),
              (l) => l.length === 1,
            )
          ).map((i) => i.id),
        ).toEqual(['a-open']);
      });
    });

    describe('runs per tenant', () => {
      it("lists a tenant's runs apart from the runs without a tenant", async () => {
        await store().results.putRun(runRecord({ runId: 'cli-1' }));
        await store().results.putRun(runRecord({ runId: 'job-a', tenantId: 'contoso', startedAt: iso(1) }));
        await store().results.putRun(runRecord({ runId: 'job-b', tenantId: 'fabrikam', startedAt: iso(1) }));
        await store().results.putRun(runRecord({ runId: 'job-c', tenantId: 'contoso', startedAt: iso(2) }));
        const of = async (tenantId?: string) =>
          (
            await eventually(
              () => store().results.runs(tenantId === undefined ? {} : { tenantId }),
              (p) => p.items.length >= (tenantId === 'contoso' ? 2 : 1),
            )
          ).items.map((r) => r.runId);
        expect(await of('contoso')).toEqual(['job-c', 'job-a']);
        expect(await of('fabrikam')).toEqual(['job-b']);
        expect(await of()).toEqual(['cli-1']);
      });
    });

    describe('DNSBL budget', () => {
      it('grants what is left and never more than the limit, even to many reservations at once', async () => {
        expect(await store().budget.reserve('spamhaus-zen', '2026-11-27', 30, 100)).toBe(30);
        const grants = await Promise.all(
          Array.from({ length: 12 }, () => store().budget.reserve('spamhaus-zen', '2026-11-27', 10, 100)),
        );
        expect(grants.reduce((a, b) => a + b, 0)).toBe(70);
        expect(await store().budget.used('spamhaus-zen', '2026-11-27')).toBe(100);
        expect(await store().budget.reserve('spamhaus-zen', '2026-11-27', 1, 100)).toBe(0);
        // Another day and another zone count apart.
        expect(await store().budget.reserve('spamhaus-zen', '2026-11-28', 5, 100)).toBe(5);
        expect(await store().budget.reserve('spamcop', '2026-11-27', 500, 100)).toBe(100);
      });

      it('refuses a day that is not YYYY-MM-DD and a negative request', async () => {
        await expect(store().budget.reserve('z', '27.11.2026', 1, 1)).rejects.toBeInstanceOf(TypeError);
        await expect(store().budget.reserve('z', '2026-11-27', -1, 1)).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('ingest nonces', () => {
      it('sees a key first exactly once while it lives, also when asked at once', async () => {
        const until = Date.now() + 60_000;
        const firsts = await Promise.all(
          Array.from({ length: 8 }, () => store().nonces.firstSeen('agent:sig-1', until)),
        );
        expect(firsts.filter(Boolean)).toHaveLength(1);
        expect(await store().nonces.firstSeen('agent:sig-2', until)).toBe(true);
      });

      it('accepts a key again once it has expired', async () => {
        expect(await store().nonces.firstSeen('agent:old', Date.now() - 1)).toBe(true);
        expect(await store().nonces.firstSeen('agent:old', Date.now() + 60_000)).toBe(true);
        expect(await store().nonces.firstSeen('agent:old', Date.now() + 60_000)).toBe(false);
      });
    });

    describe('delivery claims', () => {
      const KEY = 'inc-1-mh2x1-opened/noc-slack';
      const LEASE = 5 * 60_000;
      const at = (minutes: number) => new Date(iso(minutes));

      it('gives a free key to the first claimant and holds it against others until the lease expires', async () => {
        const first = await store().deliveries.claim('contoso', KEY, 'run-a', at(0), LEASE);
        expect(first.status).toBe('claimed');
        expect(first.claim).toEqual({
          tenantId: 'contoso',
          key: KEY,
          owner: 'run-a',
          leaseUntil: iso(5),
          attempts: 1,
          deliveredAt: null,
        });
        const other = await store().deliveries.claim('contoso', KEY, 'run-b', at(4), LEASE);
        expect(other.status).toBe('held');
        expect(other.claim.owner).toBe('run-a');
        // The same owner may claim again (a retry of the same worker) and extends its lease.
        expect((await store().deliveries.claim('contoso', KEY, 'run-a', at(1), LEASE)).claim.leaseUntil).toBe(iso(6));
        // Other tenants and keys are independent.
        expect((await store().deliveries.claim('fabrikam', KEY, 'run-b', at(1), LEASE)).status).toBe('claimed');
        expect((await store().deliveries.claim('contoso', `${KEY}x`, 'run-b', at(1), LEASE)).status).toBe('claimed');
      });

      it('lets another owner take over an expired claim a dead process left behind', async () => {
        await store().deliveries.claim('contoso', KEY, 'dead-run', at(0), LEASE);
        expect((await store().deliveries.claim('contoso', KEY, 'run-b', at(4.99), LEASE)).status).toBe('held');
        const taken = await store().deliveries.claim('contoso', KEY, 'run-b', at(5), LEASE);
        expect(taken.status).toBe('claimed');
        expect(taken.claim).toMatchObject({ owner: 'run-b', leaseUntil: iso(10), attempts: 2, deliveredAt: null });
        // The dead owner coming back cannot take it back while run-b's lease runs.
        expect((await store().deliveries.claim('contoso', KEY, 'dead-run', at(6), LEASE)).status).toBe('held');
      });

      it('answers delivered once completed, for every owner and after any lease, and keeps the first completion', async () => {
        await store().deliveries.claim('contoso', KEY, 'run-a', at(0), LEASE);
        await store().deliveries.complete('contoso', KEY, 'run-a', at(1));
        await store().deliveries.complete('contoso', KEY, 'run-a', at(2));
        for (const [owner, minutes] of [
          ['run-b', 1],
          ['run-a', 2],
          ['run-c', 600],
        ] as const) {
          const again = await store().deliveries.claim('contoso', KEY, owner, at(minutes), LEASE);
          expect(again.status).toBe('delivered');
          expect(again.claim.deliveredAt).toBe(iso(1));
        }
        // Releasing a delivered claim changes nothing.
        await store().deliveries.release('contoso', KEY, 'run-a');
        expect((await store().deliveries.get('contoso', KEY))?.deliveredAt).toBe(iso(1));
      });

      it('frees a released claim at once for any owner, but only its owner can release it', async () => {
        await store().deliveries.claim('contoso', KEY, 'run-a', at(0), LEASE);
        await store().deliveries.release('contoso', KEY, 'run-b');
        expect((await store().deliveries.claim('contoso', KEY, 'run-c', at(1), LEASE)).status).toBe('held');
        await store().deliveries.release('contoso', KEY, 'run-a');
        const next = await store().deliveries.claim('contoso', KEY, 'run-c', at(1), LEASE);
        expect(next.status).toBe('claimed');
        expect(next.claim.attempts).toBe(2);
      });

      it('keeps keys with #, /, % and unicode apart and returns null for an unknown key', async () => {
        for (const k of ['a#b/c', 'a%23b/c', 'ä#/ü']) {
          expect((await store().deliveries.claim('contoso', k, 'run-a', at(0), LEASE)).status).toBe('claimed');
        }
        expect((await store().deliveries.get('contoso', 'a#b/c'))?.key).toBe('a#b/c');
        expect(await store().deliveries.get('contoso', 'nope')).toBeNull();
      });

      it('refuses an empty key or owner, an invalid time and a lease that is not positive', async () => {
        await expect(store().deliveries.claim('contoso', '', 'run-a', at(0), LEASE)).rejects.toThrow(TypeError);
        await expect(store().deliveries.claim('contoso', KEY, '', at(0), LEASE)).rejects.toThrow(TypeError);
        await expect(store().deliveries.claim('contoso', KEY, 'run-a', new Date(Number.NaN), LEASE)).rejects.toThrow(
          TypeError,
        );
        await expect(store().deliveries.claim('contoso', KEY, 'run-a', at(0), 0)).rejects.toThrow(TypeError);
        expect(await store().deliveries.get('contoso', KEY)).toBeNull();
      });

      it('gives a free key to exactly one of ten concurrent claimants', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store().deliveries.claim('contoso', KEY, `run-${i}`, at(0), LEASE)),
        );
        expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'held')).toHaveLength(9);
      });
    });
  });
}
