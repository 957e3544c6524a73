import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  checkKey,
  DynamoDbStore,
  escapeKeyPart,
  GSI1,
  GSI2,
  GSI3,
  openDynamoDbStore,
  runKey,
  TTL_ATTRIBUTE,
  tenantPk,
  unescapeKeyPart,
} from '../../shared/adapters/store/dynamodb-store.ts';
import { openStore, StoreSpecError } from '../../shared/adapters/store/open-store.ts';
import {
  checkRecord,
  collect,
  describeStoreContract,
  eventRecord,
  incidentRecord,
  iso,
  runRecord,
  stateRecord,
} from '../contracts/stores.contract.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';

/** Table names unique to this file (and process), so files sharing one DynamoDB Local never collide. */
let tables = 0;
const tableName = (purpose: string) => `store-dynamodb-${purpose}-${process.pid}-${++tables}`;

describe('DynamoDB store (DynamoDB Local)', () => {
  const ddb = useDynamoDbLocal();

  it('started DynamoDB Local', () => {
    console.info(`[dynamodb-local] ready in ${ddb().startupMs} ms at ${ddb().endpoint}`);
    expect(ddb().startupMs).toBeGreaterThan(0);
  });

  describeStoreContract(
    'DynamoDB',
    async () => {
      const store = await openDynamoDbStore({
        tableName: tableName('contract'),
        ...ddb().clientOptions,
        createTable: true,
      });
      return { store, cleanup: () => store.close() };
    },
    { rewrittenCheck: 'last' },
  );

  describe('DynamoDB specifics', () => {
    it('sets the TTL attribute on checks, events and runs only', async () => {
      const store = await openDynamoDbStore({
        tableName: tableName('ttl'),
        ...ddb().clientOptions,
        retentionDays: 10,
        createTable: true,
      });
      await store.results.putChecks([checkRecord()]);
      await store.results.putEvents([eventRecord()]);
      await store.states.put(stateRecord(), null);
      await store.incidents.put(incidentRecord(), null);
      await store.results.putRun(runRecord());
      await store.results.putRun(runRecord({ runId: 'job-1', tenantId: 'contoso', source: 'lambda' }));
      const doc = DynamoDBDocumentClient.from(ddb().client);
      const items =
        (
          await doc.send(
            new QueryCommand({
              TableName: store.tableName,
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': tenantPk('contoso') },
            }),
          )
        ).Items ?? [];
      const bySkPrefix = new Map(items.map((item) => [String(item.SK).slice(0, 2), item]));
      const expected = Math.floor(Date.parse(iso(0)) / 1000) + 10 * 86_400;
      expect(bySkPrefix.get('H#')?.[TTL_ATTRIBUTE]).toBe(expected);
      // A tenant's run lives in the tenant's partition and expires with the results.
      expect(bySkPrefix.get('R#')?.[TTL_ATTRIBUTE]).toBe(expected);
      expect(bySkPrefix.get('E#')?.[TTL_ATTRIBUTE]).toBe(expected);
      expect(bySkPrefix.get('S#')).toBeDefined();
      expect(bySkPrefix.get('S#')?.[TTL_ATTRIBUTE]).toBeUndefined();
      expect(bySkPrefix.get('I#')).toBeDefined();
      expect(bySkPrefix.get('I#')?.[TTL_ATTRIBUTE]).toBeUndefined();
      expect(bySkPrefix.get('I#')?.GSI1PK).toBe('OPEN');
      expect(items).toHaveLength(5);
      // A run without a tenant (the CLI's, the blocklist sweep's) expires too.
      const sweep = await doc.send(
        new QueryCommand({
          TableName: store.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': runKey(runRecord().runId).PK },
        }),
      );
      expect(sweep.Items).toHaveLength(1);
      expect(sweep.Items?.[0]?.[TTL_ATTRIBUTE]).toBe(expected);
      const ttl = await ddb().client.send(new DescribeTimeToLiveCommand({ TableName: store.tableName }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
      expect(await store.prune(new Date())).toEqual({ checks: 0, events: 0 });
      await store.close();
    });

    it('keys checks by time and identity, escaped, without a GSI2 entry, and stores the detail as a JSON string', async () => {
      expect(escapeKeyPart('a#b%c')).toBe('a%23b%25c');
      expect(checkKey({ tenantId: 't#1', at: iso(0), runId: 'r', check: 'spf', subject: 'x#y' })).toEqual({
        PK: 'T#t%231',
        SK: `H#${iso(0)}#r#spf#x%23y`,
      });
      const store = await openDynamoDbStore({
        tableName: tableName('keys'),
        ...ddb().clientOptions,
        createTable: true,
      });
      await store.results.putChecks([checkRecord({ subject: 'x#y' })]);
      const doc = DynamoDBDocumentClient.from(ddb().client);
      const [item] =
        (
          await doc.send(
            new QueryCommand({
              TableName: store.tableName,
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': tenantPk('contoso') },
            }),
          )
        ).Items ?? [];
      expect(item?.SK).toBe(`H#${iso(0)}#run-1#spf#x%23y`);
      // Written once: no index entry (the history reads the tenant's partition in key order).
      expect(item?.GSI2PK).toBeUndefined();
      expect(item?.GSI2SK).toBeUndefined();
      // …and what the key holds is not repeated in the item; the history reads it back from the key, unescaped.
      expect(Object.keys(item ?? {}).filter((k) => ['tenantId', 'at', 'runId', 'subject'].includes(k))).toEqual([]);
      expect(unescapeKeyPart(escapeKeyPart('a#b%c%23'))).toBe('a#b%c%23');
      expect((await store.results.history('contoso')).items).toEqual([checkRecord({ subject: 'x#y' })]);
      expect(typeof item?.detailJson).toBe('string');
      await store.close();
    });

    it('creates the table idempotently, with both indexes, on demand billing', async () => {
      const name = tableName('create');
      const store = new DynamoDbStore({ tableName: name, ...ddb().clientOptions });
      await store.createTable();
      await store.createTable();
      await Promise.all([store.createTable(), store.createTable()]);
      const { Table } = await ddb().client.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual([GSI1, GSI2, GSI3]);
      // GSI2 carries keys and `check` only (the store reads the items from the table); GSI1 and GSI3 every attribute.
      const projections = Object.fromEntries(
        (Table?.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g.Projection]),
      );
      expect(projections[GSI1]).toEqual({ ProjectionType: 'ALL' });
      expect(projections[GSI2]).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['check'] });
      expect(projections[GSI3]).toEqual({ ProjectionType: 'ALL' });
      await store.close();
    });

    it('reads the items of the layout before (checks and tenant runs ordered through GSI2) after the new ones, paging across both', async () => {
      const store = await openDynamoDbStore({
        tableName: tableName('legacy'),
        ...ddb().clientOptions,
        createTable: true,
      });
      const doc = DynamoDBDocumentClient.from(ddb().client);
      // Written as the store wrote them before checks moved to `H#<at>#…` and tenant runs into the tenant's partition.
      const legacy = Array.from({ length: 7 }, (_, i) =>
        checkRecord({ runId: `old-${i}`, at: iso(i), check: i % 2 === 0 ? 'spf' : 'mx', subject: 'a#b' }),
      );
      for (const r of legacy) {
        const { detail, ...rest } = r;
        await doc.send(
          new PutCommand({
            TableName: store.tableName,
            Item: {
              PK: tenantPk(r.tenantId),
              SK: `C#${escapeKeyPart(r.runId)}#${r.check}#${escapeKeyPart(r.subject)}`,
              GSI2PK: `${tenantPk(r.tenantId)}#C`,
              GSI2SK: `${r.at}#${escapeKeyPart(r.runId)}#${r.check}#${escapeKeyPart(r.subject)}`,
              ...rest,
              detailJson: JSON.stringify(detail),
            },
          }),
        );
      }
      const oldRun = runRecord({ runId: 'old-run', tenantId: 'contoso', source: 'lambda', startedAt: iso(3) });
      await doc.send(
        new PutCommand({
          TableName: store.tableName,
          Item: {
            PK: 'R#old-run',
            SK: 'R',
            GSI2PK: `${tenantPk('contoso')}#R`,
            GSI2SK: `${iso(3)}#old-run`,
            ...oldRun,
          },
        }),
      );
      const fresh = Array.from({ length: 6 }, (_, i) =>
        checkRecord({ runId: `new-${i}`, at: iso(100 + i), check: i % 2 === 0 ? 'spf' : 'mx', subject: 'a#b' }),
      );
      await store.results.putChecks(fresh);
      const newRun = runRecord({ runId: 'new-run', tenantId: 'contoso', source: 'lambda', startedAt: iso(100) });
      await store.results.putRun(newRun);

      const newestFirst = [...legacy, ...fresh].map((c) => c.runId).reverse();
      // Page sizes that end inside the new items, exactly at the boundary, and inside the old ones.
      for (const limit of [4, 6, 5, 100]) {
        const { items } = await collect((cursor) => store.results.history('contoso', { limit, cursor }));
        expect(items.map((c) => c.runId)).toEqual(newestFirst);
      }
      expect((await store.results.history('contoso', { limit: 100 })).items.at(-1)).toEqual(legacy[0]);
      const spf = await collect((cursor) => store.results.history('contoso', { check: 'spf', limit: 2, cursor }));
      expect(spf.items.map((c) => c.runId)).toEqual(newestFirst.filter((id) => Number(id.split('-')[1]) % 2 === 0));
      const window = await store.results.history('contoso', { since: iso(4), until: iso(102), limit: 100 });
      expect(window.items.map((c) => c.runId)).toEqual(['new-1', 'new-0', 'old-6', 'old-5', 'old-4']);
      expect((await store.results.runs({ tenantId: 'contoso' })).items).toEqual([newRun, oldRun]);
      const firstRun = await store.results.runs({ tenantId: 'contoso', limit: 1 });
      expect(firstRun.items).toEqual([newRun]);
      expect((await store.results.runs({ tenantId: 'contoso', cursor: firstRun.cursor })).items).toEqual([oldRun]);
      await store.close();
    });

    it('stores a big detail brotli-compressed and reads it back exactly, through the history', async () => {
      const store = await openDynamoDbStore({
        tableName: tableName('compress'),
        ...ddb().clientOptions,
        createTable: true,
      });
      const transcript = Array.from({ length: 40 }, (_, i) => ({
        step: i % 2 === 0 ? 'client' : 'server',
        line: i % 2 === 0 ? 'EHLO probe.relaywatch.example' : '250-contoso-example.mail.protection.outlook.com Hello',
        ms: i * 7,
      }));
      const big = checkRecord({ check: 'probe-submission', subject: 'probe@contoso.example', detail: { transcript } });
      await store.results.putChecks([big, checkRecord()]);
      const doc = DynamoDBDocumentClient.from(ddb().client);
      const items =
        (
          await doc.send(
            new QueryCommand({
              TableName: store.tableName,
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': tenantPk('contoso') },
            }),
          )
        ).Items ?? [];
      const stored = items.find((i) => i.check === 'probe-submission');
      expect(stored?.detailJson).toBeUndefined();
      expect(stored?.detailZ).toBeInstanceOf(Uint8Array);
      const z = stored?.detailZ as Uint8Array;
      expect(z.byteLength).toBeLessThan(JSON.stringify(big.detail).length / 4);
      const { items: history } = await store.results.history('contoso');
      expect(history.find((c) => c.check === 'probe-submission')).toEqual(big);
      expect(history.find((c) => c.check === 'spf')).toEqual(checkRecord());
      expect((await store.results.history('contoso', { check: 'probe-submission' })).items).toEqual([big]);
      await store.close();
    });

    it('opens through openStore with a dynamodb: spec', async () => {
      const store = await openStore(`dynamodb:${tableName('open')}`, { ...ddb().clientOptions, createTable: true });
      expect(store).toBeInstanceOf(DynamoDbStore);
      await store.results.putRun(runRecord());
      expect((await store.results.runs()).items).toEqual([runRecord()]);
      await store.close();
      await expect(openStore('dynamodb:x', ddb().clientOptions)).rejects.toThrow(StoreSpecError);
    });
  });
});
