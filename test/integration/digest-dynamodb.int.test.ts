/** The digest reads the same week from DynamoDB (DynamoDB Local) as from SQLite: the use case depends on the port only. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { buildDigest, renderTenantDigest } from '../../shared/use-cases/build-digest.ts';
import { fixtureDigestInput, writeFixture } from '../support/digest-fixture.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';

async function digestOf(store: Store) {
  await writeFixture(store);
  return buildDigest(fixtureDigestInput(store, { name: 'Acme', accentColor: '#7b1fa2', contactEmail: null }));
}

describe('digest from DynamoDB Local', () => {
  const ddb = useDynamoDbLocal();

  it('composes the same week, byte for byte, as from SQLite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relaywatch-digest-ddb-'));
    const sqlite = openSqliteStore({ path: join(dir, 'state.db') });
    const dynamo = await openDynamoDbStore({
      tableName: `digest-${process.pid}`,
      ...ddb().clientOptions,
      createTable: true,
    });
    try {
      const a = await digestOf(sqlite);
      const b = await digestOf(dynamo);
      expect(b.tenants.map((t) => t.checksRun)).toEqual([168, 152, 168]);
      // transcripts and unknown examples may differ only in which equal-time record came first: compare the facts
      expect(b.totals).toEqual(a.totals);
      for (let i = 0; i < a.tenants.length; i++) {
        expect(b.tenants[i]!.paths).toEqual(a.tenants[i]!.paths);
        expect(b.tenants[i]!.incidents).toEqual(a.tenants[i]!.incidents);
        expect(b.tenants[i]!.risks).toEqual(a.tenants[i]!.risks);
        expect(renderTenantDigest(b.tenants[i]!, b.meta).html).toBe(renderTenantDigest(a.tenants[i]!, a.meta).html);
      }
    } finally {
      await sqlite.close();
      await dynamo.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
