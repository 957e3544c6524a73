/**
 * Pick and open a store from a `--store` spec. The composition roots (CLI, Lambda handlers) call this; nothing else
 * should know which backend is in use.
 *
 *   sqlite:PATH        an SQLite file (the directory is created); `sqlite:` or `sqlite` alone is `.relaywatch/state.db`;
 *                      `sqlite::memory:` keeps everything in memory (tests)
 *   dynamodb:TABLE     a DynamoDB table (region and credentials from the AWS SDK's usual chain unless given)
 *
 * Each backend is imported when it is opened: parsing a spec, or opening SQLite, does not load the AWS SDK (about
 * 25 MB of a CLI process's memory), and opening DynamoDB does not load the SQLite store.
 */
import type { Store } from '../../ports/stores.ts';

export const DEFAULT_SQLITE_PATH = '.relaywatch/state.db';

export const STORE_SPEC_FORMS = [
  'sqlite:PATH (e.g. sqlite:.relaywatch/state.db; "sqlite" alone uses .relaywatch/state.db)',
  'dynamodb:TABLE (e.g. dynamodb:relaywatch)',
] as const;

export interface OpenStoreOptions {
  /** DynamoDB endpoint override (DynamoDB Local: http://127.0.0.1:8000). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Explicit AWS credentials (DynamoDB Local accepts any); default: the SDK's provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** How long raw results (checks, events) are kept; default 90. */
  readonly retentionDays?: number;
  /** DynamoDB only: create the table (idempotent) before returning. */
  readonly createTable?: boolean;
}

export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'dynamodb'; readonly table: string };

/** A `--store` value that is none of the accepted forms. */
export class StoreSpecError extends Error {
  constructor(spec: string, problem: string) {
    super(`invalid store ${JSON.stringify(spec)}: ${problem}. Accepted forms: ${STORE_SPEC_FORMS.join('; ')}`);
    this.name = 'StoreSpecError';
  }
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** @throws StoreSpecError */
export function parseStoreSpec(spec: string): StoreSpec {
  const trimmed = spec.trim();
  if (trimmed === 'sqlite' || trimmed === 'sqlite:') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (trimmed.startsWith('sqlite:')) return { kind: 'sqlite', path: trimmed.slice('sqlite:'.length) };
  if (trimmed.startsWith('dynamodb:')) {
    const table = trimmed.slice('dynamodb:'.length);
    if (!TABLE_NAME.test(table)) {
      throw new StoreSpecError(spec, 'a DynamoDB table name is 3-255 characters of A-Z, a-z, 0-9, "_", "-" and "."');
    }
    return { kind: 'dynamodb', table };
  }
  throw new StoreSpecError(spec, 'unknown backend');
}

/** @throws StoreSpecError for a bad spec; the backend's error when it cannot be opened. */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseStoreSpec(spec);
  const retentionDays = options.retentionDays;
  if (retentionDays !== undefined && (!Number.isFinite(retentionDays) || retentionDays <= 0)) {
    throw new RangeError(`retentionDays must be a positive number of days, got ${retentionDays}`);
  }
  if (parsed.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite-store.ts');
    return openSqliteStore({ path: parsed.path, ...(retentionDays !== undefined ? { retentionDays } : {}) });
  }
  const { openDynamoDbStore } = await import('./dynamodb-store.ts');
  return openDynamoDbStore({
    tableName: parsed.table,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    ...(retentionDays !== undefined ? { retentionDays } : {}),
    ...(options.createTable !== undefined ? { createTable: options.createTable } : {}),
  });
}
