/**
 * The Lambda container's store follows the deployed document's `state.retentionDays` (shared/adapters/lambda.ts,
 * `documentStore`): each config load makes the store the one of that document's period, built once per period, and
 * closing releases every store and the shared client. The stores here are real SQLite stores in memory (their prune
 * applies the period, so the test sees the retention actually used).
 */
import { describe, expect, it } from 'vitest';
import { documentStore } from '../../../shared/adapters/lambda.ts';
import { openSqliteStore, type SqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import type { ConfigSnapshot, ConfigSource } from '../../../shared/ports/config-source.ts';
import { DEFAULT_RETENTION_DAYS } from '../../../shared/ports/stores.ts';
import { checkRecord } from '../../contracts/stores.contract.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-12-02T06:00:00.000Z');

function documentWith(retentionDays: number | undefined): ConfigSnapshot {
  const state = retentionDays === undefined ? '' : `state: { retentionDays: ${retentionDays} }\n`;
  const loaded = parseConfig(
    `version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
${state}tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example] }
`,
    'relaywatch.yaml',
  );
  return { loaded, etag: `"${retentionDays ?? 'default'}"` };
}

/** A config source serving whichever document the test pushed last. */
function pushedSource(first: ConfigSnapshot): ConfigSource & { push(s: ConfigSnapshot): void } {
  let current = first;
  return {
    load: async () => current,
    push: (s) => {
      current = s;
    },
  };
}

function recordingStores() {
  const built: { days: number; store: SqliteStore; closed: boolean }[] = [];
  const storeFor = (days: number) => {
    const store = openSqliteStore({ path: ':memory:', retentionDays: days });
    const entry = { days, store, closed: false };
    const close = store.close.bind(store);
    store.close = async () => {
      entry.closed = true;
      await close();
    };
    built.push(entry);
    return store;
  };
  return { built, storeFor };
}

/** A check stored `ageDays` before NOW. */
const aged = (ageDays: number, runId: string) =>
  checkRecord({ runId, at: new Date(NOW.getTime() - ageDays * DAY).toISOString() });

describe('documentStore (the Lambda container store of the deployed document)', () => {
  it('writes with the default period until a document is loaded', async () => {
    const { built, storeFor } = recordingStores();
    const { store } = documentStore(pushedSource(documentWith(30)), storeFor);
    expect(built.map((b) => b.days)).toEqual([DEFAULT_RETENTION_DAYS]);
    await store.results.putChecks([checkRecord({ runId: 'before-load' })]);
    expect((await built[0]?.store.results.history('contoso'))?.items.map((c) => c.runId)).toEqual(['before-load']);
  });

  it("gives an invocation the store of its document's state.retentionDays", async () => {
    const { built, storeFor } = recordingStores();
    const { config, store } = documentStore(pushedSource(documentWith(30)), storeFor);
    const snapshot = await config.load();
    expect(snapshot.loaded.config.state.retentionDays).toBe(30);
    await store.results.putChecks([aged(31, 'old'), aged(29, 'recent')]);
    const thirty = built.find((b) => b.days === 30);
    expect(thirty).toBeDefined();
    // The 30-day store prunes what is older than 30 days: the period the document set is the one in use.
    expect(await store.prune(NOW)).toMatchObject({ checks: 1 });
    expect((await thirty?.store.results.history('contoso'))?.items.map((c) => c.runId)).toEqual(['recent']);
    const defaultStore = built.find((b) => b.days === DEFAULT_RETENTION_DAYS);
    expect((await defaultStore?.store.results.history('contoso'))?.items).toEqual([]);
  });

  it('follows a new document and builds one store per period', async () => {
    const { built, storeFor } = recordingStores();
    const source = pushedSource(documentWith(30));
    const { config, store } = documentStore(source, storeFor);
    await config.load();
    await config.load();
    source.push(documentWith(365));
    await config.load();
    await store.results.putChecks([aged(200, 'kept-a-year')]);
    expect(await store.prune(NOW)).toMatchObject({ checks: 0 });
    source.push(documentWith(undefined));
    await config.load();
    source.push(documentWith(30));
    await config.load();
    expect(built.map((b) => b.days)).toEqual([DEFAULT_RETENTION_DAYS, 30, 365]);
    const year = built.find((b) => b.days === 365);
    expect((await year?.store.results.history('contoso'))?.items.map((c) => c.runId)).toEqual(['kept-a-year']);
  });

  it("hands out every Store member of the current period's store, and nothing else", async () => {
    const { built, storeFor } = recordingStores();
    const source = pushedSource(documentWith(30));
    const { config, store } = documentStore(source, storeFor);
    // Its own members: the Store interface's, all forwarded (a member added to Store must be added here and there).
    const members = (s: object) =>
      Object.keys(s)
        .filter((k) => !k.startsWith('#'))
        .sort();
    const sub = ['budget', 'deliveries', 'incidents', 'nonces', 'results', 'states'] as const;
    expect(members(store)).toEqual([...sub, 'close', 'prune', 'writeDecision'].sort());
    for (const days of [30, 365]) {
      source.push(documentWith(days));
      await config.load();
      const current = built.find((b) => b.days === days)?.store;
      expect(current).toBeDefined();
      // Each sub-store getter returns that period's own object (not another member, not another period's).
      for (const k of sub) expect(store[k], k).toBe(current?.[k]);
    }
  });

  it('closes every store it built, then releases the shared client', async () => {
    const { built, storeFor } = recordingStores();
    const source = pushedSource(documentWith(30));
    let released = 0;
    const { config, store } = documentStore(source, storeFor, () => {
      expect(built.every((b) => b.closed)).toBe(true);
      released++;
    });
    await config.load();
    await store.close();
    expect(built.map((b) => [b.days, b.closed])).toEqual([
      [DEFAULT_RETENTION_DAYS, true],
      [30, true],
    ]);
    expect(released).toBe(1);
  });
});
