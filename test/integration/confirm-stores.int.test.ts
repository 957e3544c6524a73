/**
 * Outstanding probes are remembered by the stores that already hold probe results: the same answers from the SQLite
 * and the DynamoDB (Local) adapter, no port change needed.
 */
import { describe, expect, it } from 'vitest';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import type { CheckRecord, Store } from '../../shared/ports/stores.ts';
import { outstandingProbes } from '../../shared/use-cases/confirm-probes.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';

function probeRecord(probeId: string, at: string, diagnosis = 'ok', check = 'probe-submission'): CheckRecord {
  return {
    tenantId: 'contoso',
    runId: `run-${probeId}`,
    at,
    check,
    subject: 'app@contoso.example',
    status: diagnosis === 'ok' ? 'pass' : 'fail',
    codes: [`probe-${diagnosis}`],
    summary: 'probe',
    fingerprint: null,
    detail: {
      diagnosis,
      probeId,
      messageId: `relaywatch.${probeId}@contoso.example`,
      sentAt: at,
      from: 'app@contoso.example',
      to: 'probe@contoso.example',
    },
  };
}

function confirmation(probeId: string, at: string, status: CheckRecord['status']): CheckRecord {
  return {
    tenantId: 'contoso',
    runId: `confirm-${probeId}-${status}`,
    at,
    check: 'probe-confirmation',
    subject: probeId,
    status,
    codes: [status === 'unknown' ? 'confirmation-unknown' : 'delivered'],
    summary: 'confirmation',
    fingerprint: null,
    detail: { probeId },
  };
}

function suite(name: string, open: () => Promise<Store>) {
  it(`${name}: lists accepted probes without a verdict, oldest first, within the lookback`, async () => {
    const store = await open();
    try {
      await store.results.putChecks([
        probeRecord('p-old', '2026-11-20T08:00:00.000Z'),
        probeRecord('p1', '2026-11-27T08:00:00.000Z'),
        probeRecord('p2', '2026-11-27T08:15:00.000Z'),
        probeRecord('p3', '2026-11-27T08:30:00.000Z'),
        probeRecord('p-refused', '2026-11-27T08:30:00.000Z', 'smtp-auth-disabled-tenant'),
        probeRecord('r1', '2026-11-27T08:20:00.000Z', 'ok', 'probe-relay'),
        probeRecord('x1', '2026-11-27T08:20:00.000Z', 'ok', 'spf'),
        {
          ...probeRecord('p-badtime', '2026-11-27T08:25:00.000Z'),
          detail: { diagnosis: 'ok', probeId: 'p-badtime', messageId: 'm@x', sentAt: 'not a time' },
        },
        confirmation('p2', '2026-11-27T08:20:00.000Z', 'pass'),
        confirmation('p3', '2026-11-27T08:40:00.000Z', 'unknown'),
      ]);
      const out = await outstandingProbes(store.results, 'contoso', new Date('2026-11-26T00:00:00Z'));
      expect(out.map((p) => [p.probeId, p.kind])).toEqual([
        ['p1', 'submission'],
        ['r1', 'relay'],
        ['p3', 'submission'],
      ]);
      expect(out[0]).toEqual({
        tenantId: 'contoso',
        probeId: 'p1',
        messageId: 'relaywatch.p1@contoso.example',
        sentAt: '2026-11-27T08:00:00.000Z',
        kind: 'submission',
        from: 'app@contoso.example',
        to: 'probe@contoso.example',
      });
    } finally {
      await store.close();
    }
  });
}

describe('outstanding probes in the stores', () => {
  suite('SQLite', async () => openSqliteStore({ path: ':memory:' }));

  describe('DynamoDB Local', () => {
    const ddb = useDynamoDbLocal();
    suite('DynamoDB', async () =>
      openDynamoDbStore({
        tableName: `confirm-stores-${process.pid}`,
        ...ddb().clientOptions,
        createTable: true,
      }));
  });
});
