/**
 * The AWS store: one DynamoDB table (single-table design) through `@aws-sdk/lib-dynamodb`.
 *
 * Key design (every variable key part is escaped with {@link escapeKeyPart}: `%` → `%25`, `#` → `%23`, so a '#'
 * inside a subject or id can never be read as a separator and two different records never share a key):
 *
 * | entity   | PK           | SK                            | GSI1 (sparse, ALL)             | GSI2 (time order, keys + `check`)                 | GSI3 (sparse, ALL)                    | TTL       |
 * |----------|--------------|-------------------------------|--------------------------------|---------------------------------------------------|---------------------------------------|-----------|
 * | check    | `T#<tenant>` | `H#<at>#<runId>#<check>#<subject>` | –                         | – (items written before: `T#<tenant>#C` / `<at>#…`, see below) | –                     | expiresAt |
 * | event    | `T#<tenant>` | `E#<eventId>`                 | –                              | `T#<tenant>#E` / `<at>#<eventId>`                 | –                                     | expiresAt |
 * | state    | `T#<tenant>` | `S#<check>#<subject>`         | –                              | –                                                 | –                                     | –         |
 * | incident | `T#<tenant>` | `I#<id>`                      | `OPEN` / `<openedAt>#<tenant>#<id>` while open | –                                 | `T#<tenant>#A` / `I#<id>` while active (open, or owing a RESOLVED) | expiresAt once resolved |
 * | run      | `R#<runId>`  | `R`                           | –                              | `RUNS` / `<startedAt>#<runId>` (runs without a tenant: the CLI's) | –                     | –         |
 * | tenant run | `T#<tenant>` | `R#<startedAt>#<runId>`     | –                              | – (items written before: `R#<runId>` / `R`, GSI2 `T#<tenant>#R`) | –                      | expiresAt |
 * | delivery | `T#<tenant>` | `D#<key>`                     | –                              | –                                                 | –                                     | expiresAt |
 * | budget   | `B#<zoneId>` | `D#<YYYY-MM-DD>`              | –                              | –                                                 | –                                     | expiresAt (day + 3) |
 * | nonce    | `N#<key>`    | `N`                           | –                              | –                                                 | –                                     | expiresAt (+ `expiresAtMs`, checked on write) |
 *
 * The alert step reads a tenant's active incidents through the sparse GSI3 partition `T#<tenant>#A` (one Query,
 * projection ALL), never every incident the tenant ever had. A decision (state + the incidents it changes) is one
 * TransactWriteItems. The DNSBL budget is an atomic counter per (zone, UTC day): a conditional `ADD` that never passes
 * the limit. The ingest replay guard is a conditional put of the nonce (absent or expired).
 *
 * Delivery claims (`deliveries`): one item per delivery key, taken with an `UpdateItem` whose `ConditionExpression`
 * admits only a new key, or an undelivered one whose lease (`leaseUntil`, an ISO string compared as a string) has
 * expired or is the caller's own. TTL removes a claim `retentionDays` after it was last taken.
 *
 * Why a check's key holds its time: a check is identified by (tenant, run, check, subject), and its `at` is its run's
 * time (the job's schedule slot, the agent report's time, the CLI run's start: fixed for the run, as `startedAt` is),
 * so `H#<at>#<runId>#<check>#<subject>` is the identity with the time in front. The history is then one Query of the
 * tenant's partition in time order, and a result is written and stored once: no GSI2 entry, which used to cost a
 * second write unit and ~270 bytes of index storage per result (docs/deploy.md, "Cost"). A tenant's runs are keyed
 * `R#<startedAt>#<runId>` in its partition for the same reason. A retried Lambda (SQS redelivery) re-runs a job with
 * the same run id and slot, so it writes the same keys again: idempotent without a condition. Events stay keyed by
 * `E#<eventId>` and ordered through GSI2 (few: they follow changes). A table has no 10 GB item-collection limit per
 * partition key without an LSI, so a tenant's partition may grow as it likes.
 *
 * Tables written before this layout (checks `C#<runId>#…` and tenant runs `R#<runId>` with GSI2 entries): those items
 * are still read, after the new ones (they are all older), through GSI2 as before, until TTL removes them
 * (`state.retentionDays` after they were written); nothing needs migrating. A cursor says which of the two it is in.
 *
 * Writes: checks go in unconditional BatchWriteItem requests (25 items each, a few in flight, unprocessed items
 * retried with backoff): writing a check's identity again replaces the one item (a redelivered job), so the write is
 * idempotent without a condition. Events are conditional `Put`s (first write wins; `ConditionalCheckFailedException`
 * means "already stored"). States and incidents are conditional puts on `version` (`attribute_not_exists(PK)` to
 * create); a failed condition is a ConflictError.
 *
 * Items stay far below DynamoDB's 400 KB: a check's detail is bounded to 32 KiB of JSON and stored as the JSON string
 * `detailJson`, or brotli-compressed as the binary `detailZ` when longer than {@link DETAIL_COMPRESS_MIN_BYTES} (which
 * also avoids DynamoDB's 32-level nesting limit), the summary to 500 characters, and states and incidents to 64 KiB.
 * Nothing stored is a secret.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GSI1, GSI2, GSI3, TABLE_INDEXES, TTL_ATTRIBUTE } from '../../deploy/constants.ts';
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

/** Concurrent conditional puts per batch: enough to write a run's checks quickly, few enough not to burst-throttle. */
export const WRITE_CONCURRENCY = 16;
/** BatchWriteItem takes at most 25 puts; BatchGetItem at most 100 keys. */
const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;
/** BatchWriteItem requests in flight at once (each up to 25 items over many partitions: far below any limit). */
const BATCH_WRITE_CONCURRENCY = 8;
/** Retries of a batch's unprocessed items (throttling), with exponential backoff from 50 ms. */
const BATCH_RETRIES = 8;
/** A detail whose JSON is longer than this is stored brotli-compressed (`detailZ`, binary) instead of as `detailJson`. */
export const DETAIL_COMPRESS_MIN_BYTES = 200;
export { GSI1, GSI2, GSI3, TTL_ATTRIBUTE } from '../../deploy/constants.ts';

const DAY_SECONDS = 86_400;

type Item = Record<string, unknown>;
type Key = Record<string, string>;

/** Escape a variable key part so it cannot contain the '#' separator. */
export function escapeKeyPart(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
}

const e = escapeKeyPart;
/** Sort-key prefixes of a tenant's check results and runs (`H#<at>#…`, `R#<startedAt>#…`). */
export const CHECK_PREFIX = 'H#';
export const TENANT_RUN_PREFIX = 'R#';
export const tenantPk = (tenantId: string): string => `T#${e(tenantId)}`;

/** A check result: its time first (the history's order), then its identity (tenant, run, check, subject). */
export function checkKey(r: Pick<CheckRecord, 'tenantId' | 'at' | 'runId' | 'check' | 'subject'>): Key {
  return { PK: tenantPk(r.tenantId), SK: `${CHECK_PREFIX}${r.at}#${e(r.runId)}#${e(r.check)}#${e(r.subject)}` };
}
/** A run of one tenant (a Lambda job, an agent report), in the tenant's partition in time order. */
export function tenantRunKey(tenantId: string, startedAt: string, runId: string): Key {
  return { PK: tenantPk(tenantId), SK: `${TENANT_RUN_PREFIX}${startedAt}#${e(runId)}` };
}

/** The inverse of {@link escapeKeyPart}. */
export function unescapeKeyPart(part: string): string {
  return part.replace(/%2[35]/g, (m) => (m === '%23' ? '#' : '%'));
}

/**
 * What a check result's or tenant run's key already holds, read back from it: the store does not repeat these
 * attributes in the item (about 90 bytes of every result, stored for `retentionDays`). Items written before carry
 * them as attributes, which win.
 */
function fromKey(item: Item): Item {
  const pk = String(item.PK);
  const sk = String(item.SK);
  if (!pk.startsWith('T#')) return item;
  const tenantId = unescapeKeyPart(pk.slice(2));
  const parts = sk.split('#');
  if (sk.startsWith(CHECK_PREFIX) && parts.length === 5) {
    const [, at, runId, check, subject] = parts as [string, string, string, string, string];
    return {
      tenantId,
      at,
      runId: unescapeKeyPart(runId),
      check: unescapeKeyPart(check),
      subject: unescapeKeyPart(subject),
      ...item,
    };
  }
  if (sk.startsWith(TENANT_RUN_PREFIX) && parts.length === 3) {
    const [, startedAt, runId] = parts as [string, string, string];
    return { tenantId, startedAt, runId: unescapeKeyPart(runId), ...item };
  }
  return item;
}
export function eventKey(r: Pick<EventRecord, 'tenantId' | 'eventId'>): Key {
  return { PK: tenantPk(r.tenantId), SK: `E#${e(r.eventId)}` };
}
export function stateKey(r: Pick<SubjectState, 'tenantId' | 'check' | 'subject'>): Key {
  return { PK: tenantPk(r.tenantId), SK: `S#${e(r.check)}#${e(r.subject)}` };
}
export function incidentKey(tenantId: string, id: string): Key {
  return { PK: tenantPk(tenantId), SK: `I#${e(id)}` };
}
export function deliveryKey(tenantId: string, key: string): Key {
  return { PK: tenantPk(tenantId), SK: `D#${e(key)}` };
}
export function runKey(runId: string): Key {
  return { PK: `R#${e(runId)}`, SK: 'R' };
}
export function budgetKey(zoneId: string, day: string): Key {
  return { PK: `B#${e(zoneId)}`, SK: `D#${day}` };
}
export function nonceKey(key: string): Key {
  return { PK: `N#${e(key)}`, SK: 'N' };
}
/** GSI2 partition of a tenant's runs written before runs moved into the tenant's partition (read until they expire). */
export const tenantRunsPk = (tenantId: string): string => `${tenantPk(tenantId)}#R`;
/** GSI3 partition of a tenant's active incidents (open, or owing a RESOLVED): sparse, sorted by `I#<id>`. */
export const activeIncidentsPk = (tenantId: string): string => `${tenantPk(tenantId)}#A`;

export interface DynamoDbStoreOptions {
  readonly tableName: string;
  /** A client to use (not destroyed by close()); else one is built from endpoint/region/credentials. */
  readonly client?: DynamoDBClient;
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly retentionDays?: number;
}

/**
 * The DynamoDB client a store builds when given none (5 attempts). A composition root that keeps one client for
 * several stores (a Lambda container: one store per retention period of the deployed document) builds it here.
 */
export function dynamoDbClient(
  options: Pick<DynamoDbStoreOptions, 'endpoint' | 'region' | 'credentials'> = {},
): DynamoDBClient {
  return new DynamoDBClient({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: 5,
  });
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** At most `limit` at a time; after a failure nothing new starts, and it rejects once the work in flight settled. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { readonly error: unknown }).error;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** zlib's smallest output chunk. */
const MIN_CHUNK = zlibConstants.Z_MIN_CHUNK;

/** The stored form of a check's detail: small JSON as a string, bigger JSON brotli-compressed (lossless). */
export function encodeDetail(detail: unknown): { detailJson: string | null } | { detailZ: Uint8Array } {
  if (detail === null) return { detailJson: null };
  const json = JSON.stringify(detail);
  if (json.length <= DETAIL_COMPRESS_MIN_BYTES) return { detailJson: json };
  const input = Buffer.from(json, 'utf8');
  // The stream's output buffer sized to the input (the default is 64 KiB per call: a run compresses one detail per
  // domain, and those buffers outlive a scavenge often enough to pile up as old-generation garbage), and the result
  // copied to exactly its length: a one-chunk result is a view of that buffer, which it would keep alive.
  const z = brotliCompressSync(input, {
    chunkSize: Math.max(MIN_CHUNK, input.length + 64),
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: input.length },
  });
  return { detailZ: new Uint8Array(z) };
}

/** The detail of a stored check item (`detailZ` or `detailJson`; items written before compression have only the latter). */
export function decodeDetail(item: Item): unknown {
  const z = item.detailZ;
  if (z instanceof Uint8Array) return JSON.parse(brotliDecompressSync(z).toString('utf8'));
  return typeof item.detailJson === 'string' ? JSON.parse(item.detailJson) : null;
}

function cursorKey(position: unknown): Key {
  if (typeof position !== 'object' || position === null || Array.isArray(position)) throw new InvalidCursorError();
  const entries = Object.entries(position);
  if (entries.length === 0 || entries.length > 6 || !entries.every(([, v]) => typeof v === 'string')) {
    throw new InvalidCursorError();
  }
  return Object.fromEntries(entries) as Key;
}

/** The cursor's mark of the query it stopped in (see `#chainedPage`); not a table attribute name. */
const QUERY_MARK = '@q';
/** Sorts after every `H#<at>#…` key (`$` follows `#`). */
const CHECK_PREFIX_END = 'H$';

/**
 * The query of items written before the current layout (checks and tenant runs ordered through GSI2 `<pk>` by
 * `<at>#…`), read after the tenant partition's (they are all older) until TTL has removed them.
 */
function legacyByTime(
  pk: string,
  since: string | undefined,
  until: string | undefined,
  filter: Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeNames'>,
  values: Record<string, string>,
): Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'> {
  // GSI2SK is `<at>#…`: since ≤ at ⇔ GSI2SK ≥ since, and at < until ⇔ GSI2SK ≤ until (`<until>#…` sorts after `<until>`).
  const range =
    since !== undefined && until !== undefined
      ? ' AND GSI2SK BETWEEN :since AND :until'
      : since !== undefined
        ? ' AND GSI2SK >= :since'
        : until !== undefined
          ? ' AND GSI2SK < :until'
          : '';
  return {
    IndexName: GSI2,
    KeyConditionExpression: `GSI2PK = :pk${range}`,
    ExpressionAttributeValues: {
      ':pk': pk,
      ...(since !== undefined ? { ':since': since } : {}),
      ...(until !== undefined ? { ':until': until } : {}),
      ...values,
    },
    ScanIndexForward: false,
    ...filter,
  };
}

function claimOf(item: Item | undefined): DeliveryClaim {
  return parseStored(deliveryClaimSchema, { ...item, deliveredAt: item?.deliveredAt ?? null }, 'delivery claim');
}

export class DynamoDbStore implements Store {
  readonly results: ResultStore;
  readonly states: StateStore;
  readonly incidents: IncidentStore;
  readonly budget: BudgetStore;
  readonly nonces: NonceStore;
  readonly deliveries: DeliveryStore;
  readonly tableName: string;
  readonly #client: DynamoDBClient;
  readonly #ownsClient: boolean;
  readonly #doc: DynamoDBDocumentClient;
  readonly #retentionSeconds: number;

  constructor(options: DynamoDbStoreOptions) {
    this.tableName = options.tableName;
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? dynamoDbClient(options);
    this.#doc = DynamoDBDocumentClient.from(this.#client, { marshallOptions: { removeUndefinedValues: true } });
    this.#retentionSeconds = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_SECONDS;
    this.results = {
      putRun: (run) => this.#putRun(run),
      putChecks: (records, run) => this.#putChecks(records, run),
      history: (tenantId, query) => this.#history(tenantId, query ?? {}),
      putEvents: (events) => this.#putEvents(events),
      events: (tenantId, query) => this.#events(tenantId, query ?? {}),
      runs: (query) => this.#runs(query ?? {}),
    };
    this.states = {
      list: (tenantId) => this.#listStates(tenantId),
      put: (state, expectedVersion) => this.#putState(state, expectedVersion),
    };
    this.incidents = {
      get: (tenantId, id) => this.#getIncident(tenantId, id),
      put: (incident, expectedVersion) => this.#putIncident(incident, expectedVersion),
      listOpen: (query) => this.#listOpen(query ?? {}),
      list: (tenantId, query) => this.#listIncidents(tenantId, query ?? {}),
      listActive: (tenantId) => this.#listActive(tenantId),
    };
    this.budget = {
      reserve: (zoneId, day, wanted, limit) => this.#reserve(zoneId, day, wanted, limit),
      used: (zoneId, day) => this.#used(zoneId, day),
    };
    this.nonces = { firstSeen: (key, expiresAtMs, nowMs) => this.#firstSeen(key, expiresAtMs, nowMs ?? Date.now()) };
    this.deliveries = {
      claim: (tenantId, key, owner, now, leaseMs) => this.#claim(tenantId, key, owner, now, leaseMs),
      complete: (tenantId, key, owner, now) => this.#complete(tenantId, key, owner, now),
      release: (tenantId, key, owner) => this.#release(tenantId, key, owner),
      get: (tenantId, key) => this.#getClaim(tenantId, key),
    };
  }

  /**
   * Create the table (PAY_PER_REQUEST, GSI1, GSI2) if it does not exist, wait until it is ACTIVE, and enable TTL on
   * `expiresAt`. Idempotent. For tests and local use; production tables come from the CDK data stack.
   */
  async createTable(): Promise<void> {
    const keys = (pk: string, sk: string) => [
      { AttributeName: pk, KeyType: 'HASH' as const },
      { AttributeName: sk, KeyType: 'RANGE' as const },
    ];
    try {
      await this.#client.send(
        new CreateTableCommand({
          TableName: this.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['PK', 'SK', ...TABLE_INDEXES.flatMap((ix) => [ix.partitionKey, ix.sortKey])].map(
            (name) => ({
              AttributeName: name,
              AttributeType: 'S' as const,
            }),
          ),
          KeySchema: keys('PK', 'SK'),
          GlobalSecondaryIndexes: TABLE_INDEXES.map((ix) => ({
            IndexName: ix.indexName,
            KeySchema: keys(ix.partitionKey, ix.sortKey),
            Projection:
              ix.projection === 'ALL'
                ? { ProjectionType: 'ALL' as const }
                : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...ix.projection] },
          })),
        }),
      );
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
    }
    await waitUntilTableExists({ client: this.#client, maxWaitTime: 120 }, { TableName: this.tableName });
    const ttl = await this.#client.send(new DescribeTimeToLiveCommand({ TableName: this.tableName }));
    const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
      await this.#client.send(
        new UpdateTimeToLiveCommand({
          TableName: this.tableName,
          TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        }),
      );
    }
  }

  /** DynamoDB expires checks and events itself (TTL on `expiresAt`); nothing to do here. */
  async prune(_now: Date): Promise<PruneResult> {
    return { checks: 0, events: 0 };
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }

  #expiresAt(at: string): number {
    return Math.floor(Date.parse(at) / 1000) + this.#retentionSeconds;
  }

  async #putIfAbsent(item: Item): Promise<void> {
    try {
      await this.#doc.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** Conditional put on `version`; returns false when the condition failed. */
  async #putVersioned(item: Item, expectedVersion: number | null): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand(
          expectedVersion === null
            ? { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }
            : {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              },
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * One page of a query. With a filter, DynamoDB applies `Limit` before filtering, so this keeps querying (asking
   * each time for no more than the items still missing) until the page is full or the partition is exhausted; the
   * cursor is then exactly where the last query stopped.
   */
  async #page<T>(
    tag: string,
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    request: PageRequest,
    parse: (item: Item) => T,
  ): Promise<Page<T>> {
    return this.#chainedPage(tag, [input], request, parse);
  }

  /**
   * One page over queries read one after the other (the newest first: the tenant's partition, then the items of the
   * layout before, through GSI2). The cursor names the query it stopped in (`@q`, absent for the first), so paging
   * goes on where it was; a query on GSI2 (keys and `check` only) has its items fetched from the table.
   */
  async #chainedPage<T>(
    tag: string,
    inputs: readonly Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>[],
    request: PageRequest,
    parse: (item: Item) => T,
  ): Promise<Page<T>> {
    const limit = pageLimit(request.limit);
    let q = 0;
    let startKey: Key | undefined;
    if (request.cursor) {
      const { [QUERY_MARK]: mark, ...key } = cursorKey(decodeCursor(tag, request.cursor));
      q = mark === undefined ? 0 : Number(mark);
      if (!Number.isInteger(q) || q < 0 || q >= inputs.length) throw new InvalidCursorError();
      startKey = Object.keys(key).length > 0 ? key : undefined;
    }
    const out: Item[] = [];
    for (;;) {
      const input = inputs[q] as (typeof inputs)[number];
      let items: Item[] = [];
      do {
        const output = await this.#doc.send(
          new QueryCommand({
            ...input,
            TableName: this.tableName,
            Limit: limit - out.length - items.length,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        items.push(...(output.Items ?? []));
        startKey = output.LastEvaluatedKey === undefined ? undefined : cursorKey(output.LastEvaluatedKey);
      } while (startKey !== undefined && out.length + items.length < limit);
      // GSI2 projects keys (and `check`) only: the items themselves come from the table.
      if (input.IndexName === GSI2) items = await this.#fetch(items);
      out.push(...items);
      if (startKey !== undefined) {
        return {
          items: out.map(parse),
          cursor: encodeCursor(tag, q === 0 ? startKey : { ...startKey, [QUERY_MARK]: String(q) }),
        };
      }
      if (q + 1 >= inputs.length) return { items: out.map(parse), cursor: null };
      q += 1;
      // The page is full exactly where a query ended: the next page starts with the next query.
      if (out.length >= limit) return { items: out.map(parse), cursor: encodeCursor(tag, { [QUERY_MARK]: String(q) }) };
    }
  }

  /**
   * The table's items for index entries, in the entries' order (BatchGetItem, 100 keys a request, strongly
   * consistent). An entry whose item is gone meanwhile (expired by TTL, or replaced without the index key) is left out.
   */
  async #fetch(entries: readonly Item[]): Promise<Item[]> {
    if (entries.length === 0) return [];
    const id = (k: Item) => `${String(k.PK)}\0${String(k.SK)}`;
    const found = new Map<string, Item>();
    const keys = entries.map((x) => ({ PK: String(x.PK), SK: String(x.SK) }));
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Key[] = keys.slice(i, i + BATCH_GET_MAX);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > BATCH_RETRIES)
          throw new Error(`BatchGetItem left ${pending.length} keys unprocessed (throttled)`);
        if (attempt > 0) await sleep(50 * 2 ** (attempt - 1));
        const output = await this.#doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of output.Responses?.[this.tableName] ?? []) found.set(id(item), item);
        pending = (output.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Key[];
      }
    }
    // Only items still carrying the entry's index key belong (one replaced meanwhile under another key is left out).
    return entries.flatMap((x) => {
      const item = found.get(id(x));
      return item !== undefined && item.GSI2PK === x.GSI2PK ? [item] : [];
    });
  }

  /** BatchWriteItem in requests of 25 (a few at once), retrying unprocessed items with backoff. */
  async #batchPut(items: readonly Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) chunks.push(items.slice(i, i + BATCH_WRITE_MAX));
    await forEachLimited(chunks, BATCH_WRITE_CONCURRENCY, async (chunk) => {
      let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > BATCH_RETRIES)
          throw new Error(`BatchWriteItem left ${pending.length} items unprocessed (throttled)`);
        if (attempt > 0) await sleep(50 * 2 ** (attempt - 1));
        const output = await this.#doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (output.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    });
  }

  async #putRun(run: RunRecord): Promise<void> {
    await this.#doc.send(new PutCommand({ TableName: this.tableName, Item: this.#runItem(run) }));
  }

  #runItem(run: RunRecord): Item {
    const r = prepareRun(run);
    const { runId: _r, tenantId: _t, startedAt: _s, ...unkeyed } = r;
    return r.tenantId === undefined
      ? // Runs without a tenant (the CLI's whole-MSP runs, the blocklist sweep's: one an hour in Lambda), listed
        // through GSI2's `RUNS` partition, expiring with the raw results like a tenant's run.
        {
          ...runKey(r.runId),
          GSI2PK: 'RUNS',
          GSI2SK: `${r.startedAt}#${e(r.runId)}`,
          [TTL_ATTRIBUTE]: this.#expiresAt(r.startedAt),
          ...r,
        }
      : // A tenant's run (one per job and report): in the tenant's partition, expiring with the raw results; the
        // key holds tenant, start and run id (read back by fromKey).
        {
          ...tenantRunKey(r.tenantId, r.startedAt, r.runId),
          [TTL_ATTRIBUTE]: this.#expiresAt(r.startedAt),
          ...unkeyed,
        };
  }

  /**
   * Unconditional BatchWriteItem: a check's key is its identity (tenant, run, check, subject), so writing it again
   * (a redelivered job) replaces the one item; a duplicate key inside one call keeps its first record. A run given
   * along is one more item of the same requests (its key, `R#…`, is never a check's): as unconditional as `putRun`'s
   * own PutItem, so written again it replaces itself too; a worker job's results and run then take one request.
   */
  async #putChecks(records: readonly CheckRecord[], run?: RunRecord): Promise<void> {
    const seen = new Set<string>();
    const items: Item[] = run === undefined ? [] : [this.#runItem(run)];
    for (const r of records.map(prepareCheck)) {
      const key = checkKey(r);
      const id = `${key.PK}\0${key.SK}`;
      if (seen.has(id)) continue;
      seen.add(id);
      // The key holds tenant, time, run and subject (read back by fromKey); `check` stays: the history filters by it.
      const { detail, tenantId: _t, at: _a, runId: _r, subject: _s, ...rest } = r;
      items.push({
        ...key,
        [TTL_ATTRIBUTE]: this.#expiresAt(r.at),
        ...rest,
        ...encodeDetail(detail),
      });
    }
    await this.#batchPut(items);
  }

  async #history(tenantId: string, query: HistoryQuery): Promise<Page<CheckRecord>> {
    const since = query.since === undefined ? undefined : normaliseBound(query.since, 'since');
    const until = query.until === undefined ? undefined : normaliseBound(query.until, 'until');
    if (since !== undefined && until !== undefined && since > until) return { items: [], cursor: null };
    const filter =
      query.check !== undefined
        ? { FilterExpression: '#check = :check', ExpressionAttributeNames: { '#check': 'check' } }
        : {};
    const values: Record<string, string> = query.check !== undefined ? { ':check': query.check } : {};
    return this.#chainedPage(
      'history',
      [
        {
          // The sort key is `H#<at>#…`: since ≤ at ⇔ SK ≥ `H#<since>`, and at < until ⇔ SK ≤ `H#<until>` (`H#<until>#…`
          // sorts after it). Strongly consistent: a redelivered probe job asks whether its result is stored already.
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': tenantPk(tenantId),
            ':from': `${CHECK_PREFIX}${since ?? ''}`,
            ':to': until !== undefined ? `${CHECK_PREFIX}${until}` : CHECK_PREFIX_END,
            ...values,
          },
          ConsistentRead: true,
          ScanIndexForward: false,
          ...filter,
        },
        legacyByTime(`${tenantPk(tenantId)}#C`, since, until, filter, values),
      ],
      query,
      (item) => parseStoredCheck({ ...fromKey(item), detail: decodeDetail(item) }),
    );
  }

  async #putEvents(events: readonly EventRecord[]): Promise<void> {
    const prepared = events.map(prepareEvent);
    await forEachLimited(prepared, WRITE_CONCURRENCY, (ev) =>
      this.#putIfAbsent({
        ...eventKey(ev),
        GSI2PK: `${tenantPk(ev.tenantId)}#E`,
        GSI2SK: `${ev.at}#${e(ev.eventId)}`,
        [TTL_ATTRIBUTE]: this.#expiresAt(ev.at),
        ...ev,
      }),
    );
  }

  async #events(tenantId: string, query: EventQuery): Promise<Page<EventRecord>> {
    const since = query.since === undefined ? undefined : normaliseBound(query.since, 'since');
    return this.#page(
      'events',
      {
        IndexName: GSI2,
        KeyConditionExpression: `GSI2PK = :pk${since !== undefined ? ' AND GSI2SK >= :since' : ''}`,
        ExpressionAttributeValues: {
          ':pk': `${tenantPk(tenantId)}#E`,
          ...(since !== undefined ? { ':since': since } : {}),
        },
        ScanIndexForward: false,
      },
      query,
      (item) => parseStored(eventSchema, item, 'event'),
    );
  }

  async #runs(query: RunQuery): Promise<Page<RunRecord>> {
    const parse = (item: Item) => parseStored(runSchema, fromKey(item), 'run');
    if (query.tenantId === undefined) {
      return this.#page(
        'runs',
        {
          IndexName: GSI2,
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': 'RUNS' },
          ScanIndexForward: false,
        },
        query,
        parse,
      );
    }
    return this.#chainedPage(
      'tenant-runs',
      [
        {
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': tenantPk(query.tenantId), ':prefix': TENANT_RUN_PREFIX },
          ScanIndexForward: false,
        },
        legacyByTime(tenantRunsPk(query.tenantId), undefined, undefined, {}, {}),
      ],
      query,
      parse,
    );
  }

  async #listStates(tenantId: string): Promise<readonly SubjectState[]> {
    const states: SubjectState[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'S#' },
          ConsistentRead: true,
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) states.push(parseStored(stateSchema, item, 'state'));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return states;
  }

  #stateItem(state: SubjectState, expectedVersion: number | null): { item: Item; record: SubjectState } {
    requireExpectedVersion(expectedVersion);
    const record = prepareState(state, expectedVersion === null ? 1 : expectedVersion + 1);
    return { item: { ...stateKey(record), ...record }, record };
  }

  #incidentItem(incident: IncidentRecord, expectedVersion: number | null): { item: Item; record: IncidentRecord } {
    requireExpectedVersion(expectedVersion);
    const record = prepareIncident(incident, expectedVersion === null ? 1 : expectedVersion + 1);
    const item: Item = { ...incidentKey(record.tenantId, record.id), ...record };
    // Sparse indexes: only open incidents carry GSI1 keys, so resolving one (a full Put without them) drops it from
    // GSI1; only active ones (open, or owing a RESOLVED) carry GSI2 keys, which is what the alert step reads.
    if (record.status === 'open') {
      item.GSI1PK = 'OPEN';
      item.GSI1SK = `${record.openedAt}#${e(record.tenantId)}#${e(record.id)}`;
    }
    if (record.status === 'open' || owesResolved(record)) {
      item.GSI3PK = activeIncidentsPk(record.tenantId);
      item.GSI3SK = `I#${e(record.id)}`;
    }
    // Resolved incidents are history: they expire like raw results.
    if (record.status === 'resolved' && record.resolvedAt !== null)
      item[TTL_ATTRIBUTE] = this.#expiresAt(record.resolvedAt);
    return { item, record };
  }

  async #putState(state: SubjectState, expectedVersion: number | null): Promise<SubjectState> {
    const { item, record } = this.#stateItem(state, expectedVersion);
    if (!(await this.#putVersioned(item, expectedVersion))) {
      throw new ConflictError('state', `${record.tenantId}/${record.check}/${record.subject}`, expectedVersion);
    }
    return record;
  }

  async #claim(tenantId: string, key: string, owner: string, now: Date, leaseMs: number): Promise<ClaimOutcome> {
    const { at, leaseUntil } = prepareClaim(tenantId, key, owner, now, leaseMs);
    try {
      const output = await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deliveryKey(tenantId, key),
          UpdateExpression:
            'SET tenantId = :tenant, #key = :key, #owner = :owner, leaseUntil = :lease, claimedAt = :at, #ttl = :ttl ADD attempts :one',
          ConditionExpression:
            'attribute_not_exists(PK) OR (attribute_not_exists(deliveredAt) AND (leaseUntil <= :at OR #owner = :owner))',
          ExpressionAttributeNames: { '#key': 'key', '#owner': 'owner', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':tenant': tenantId,
            ':key': key,
            ':owner': owner,
            ':lease': leaseUntil,
            ':at': at,
            ':ttl': this.#expiresAt(at),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { status: 'claimed', claim: claimOf(output.Attributes) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const claim = await this.#getClaim(tenantId, key);
    if (claim === null) throw new Error(`delivery claim ${key} vanished while being claimed`);
    return { status: claim.deliveredAt !== null ? 'delivered' : 'held', claim };
  }

  async #complete(tenantId: string, key: string, owner: string, now: Date): Promise<void> {
    const { at } = prepareClaim(tenantId, key, owner, now);
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deliveryKey(tenantId, key),
        UpdateExpression:
          'SET deliveredAt = if_not_exists(deliveredAt, :at), tenantId = :tenant, #key = :key, #owner = if_not_exists(#owner, :owner), leaseUntil = if_not_exists(leaseUntil, :at), attempts = if_not_exists(attempts, :one), #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#key': 'key', '#owner': 'owner', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':at': at,
          ':tenant': tenantId,
          ':key': key,
          ':owner': owner,
          ':one': 1,
          ':ttl': this.#expiresAt(at),
        },
      }),
    );
  }

  async #release(tenantId: string, key: string, owner: string): Promise<void> {
    prepareClaim(tenantId, key, owner, new Date(0));
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deliveryKey(tenantId, key),
          UpdateExpression: 'SET leaseUntil = :released',
          ConditionExpression: 'attribute_exists(PK) AND #owner = :owner AND attribute_not_exists(deliveredAt)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':released': RELEASED_LEASE, ':owner': owner },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async #getClaim(tenantId: string, key: string): Promise<DeliveryClaim | null> {
    const output = await this.#doc.send(
      new GetCommand({ TableName: this.tableName, Key: deliveryKey(tenantId, key), ConsistentRead: true }),
    );
    return output.Item === undefined ? null : claimOf(output.Item);
  }

  async #getIncident(tenantId: string, id: string): Promise<IncidentRecord | null> {
    const output = await this.#doc.send(
      new GetCommand({ TableName: this.tableName, Key: incidentKey(tenantId, id), ConsistentRead: true }),
    );
    return output.Item === undefined ? null : parseStored(incidentSchema, output.Item, 'incident');
  }

  async #putIncident(incident: IncidentRecord, expectedVersion: number | null): Promise<IncidentRecord> {
    const { item, record } = this.#incidentItem(incident, expectedVersion);
    if (!(await this.#putVersioned(item, expectedVersion))) {
      throw new ConflictError('incident', `${record.tenantId}/${record.id}`, expectedVersion);
    }
    return record;
  }

  #condition(expectedVersion: number | null) {
    return expectedVersion === null
      ? { ConditionExpression: 'attribute_not_exists(PK)' }
      : {
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        };
  }

  /** One TransactWriteItems: the state and its incidents, each conditional on its version; all or nothing. */
  async writeDecision(write: DecisionWrite): Promise<DecisionWritten> {
    const state = this.#stateItem(write.state, write.stateExpectedVersion);
    const incidents = write.incidents.map((c) => ({ ...this.#incidentItem(c.incident, c.expectedVersion), c }));
    if (incidents.length === 0) {
      return { state: await this.#putState(write.state, write.stateExpectedVersion), incidents: [] };
    }
    try {
      await this.#doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: state.item, ...this.#condition(write.stateExpectedVersion) } },
            ...incidents.map((i) => ({
              Put: { TableName: this.tableName, Item: i.item, ...this.#condition(i.c.expectedVersion) },
            })),
          ],
        }),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'TransactionCanceledException') {
        const reasons = (err as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed > 0) {
          const i = incidents[failed - 1];
          if (i)
            throw new ConflictError('incident', `${i.record.tenantId}/${i.record.id}`, i.c.expectedVersion, {
              cause: err,
            });
        }
        if (failed === 0) {
          const r = state.record;
          throw new ConflictError('state', `${r.tenantId}/${r.check}/${r.subject}`, write.stateExpectedVersion, {
            cause: err,
          });
        }
      }
      throw err;
    }
    return { state: state.record, incidents: incidents.map((i) => i.record) };
  }

  /** One Query of the sparse GSI3 partition (projection ALL: the incidents themselves, no second read). */
  async #listActive(tenantId: string): Promise<readonly IncidentRecord[]> {
    const out: IncidentRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI3,
          KeyConditionExpression: 'GSI3PK = :pk',
          ExpressionAttributeValues: { ':pk': activeIncidentsPk(tenantId) },
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) out.push(parseStored(incidentSchema, item, 'incident'));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return out;
  }

  /**
   * Reserve queries: one conditional `ADD` when the whole request fits, else read the counter and take what is left
   * with a conditional `SET` on the value read (retried when another process moved it meanwhile).
   */
  async #reserve(zoneId: string, day: string, wanted: number, limit: number): Promise<number> {
    requireBudgetArgs(zoneId, day, wanted, limit);
    if (wanted === 0 || limit === 0) return 0;
    const Key = budgetKey(zoneId, day);
    // The counter outlives its day by two, then DynamoDB expires it.
    const expiresAt = Math.floor(Date.parse(`${day}T00:00:00.000Z`) / 1000) + 3 * DAY_SECONDS;
    if (wanted <= limit) {
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'ADD used :n SET expiresAt = :exp',
            ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
            ExpressionAttributeValues: { ':n': wanted, ':max': limit - wanted, ':exp': expiresAt },
          }),
        );
        return wanted;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const used = await this.#used(zoneId, day);
      const granted = Math.min(wanted, limit - used);
      if (granted <= 0) return 0;
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'SET used = :next, expiresAt = :exp',
            ConditionExpression: used === 0 ? 'attribute_not_exists(used) OR used = :cur' : 'used = :cur',
            ExpressionAttributeValues: { ':next': used + granted, ':cur': used, ':exp': expiresAt },
          }),
        );
        return granted;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    // Contended beyond reason: grant nothing rather than risk the operator's limit.
    return 0;
  }

  async #used(zoneId: string, day: string): Promise<number> {
    const output = await this.#doc.send(
      new GetCommand({ TableName: this.tableName, Key: budgetKey(zoneId, day), ConsistentRead: true }),
    );
    const used = output.Item?.used;
    return typeof used === 'number' ? used : 0;
  }

  /** A conditional put of the nonce: absent, or present but expired (TTL deletes lazily, so expiry is checked too). */
  async #firstSeen(key: string, expiresAtMs: number, now: number): Promise<boolean> {
    requireNonceArgs(key, expiresAtMs);
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...nonceKey(key),
            expiresAtMs: Math.floor(expiresAtMs),
            [TTL_ATTRIBUTE]: Math.ceil(expiresAtMs / 1000),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAtMs <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async #listOpen(query: PageRequest): Promise<Page<IncidentRecord>> {
    return this.#page(
      'open-incidents',
      {
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :open',
        ExpressionAttributeValues: { ':open': 'OPEN' },
        ScanIndexForward: true,
      },
      query,
      (item) => parseStored(incidentSchema, item, 'incident'),
    );
  }

  async #listIncidents(tenantId: string, query: IncidentQuery): Promise<Page<IncidentRecord>> {
    return this.#page(
      'incidents',
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ...(query.status !== undefined
          ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
          : {}),
        ExpressionAttributeValues: {
          ':pk': tenantPk(tenantId),
          ':prefix': 'I#',
          ...(query.status !== undefined ? { ':status': query.status } : {}),
        },
        ConsistentRead: true,
      },
      query,
      (item) => parseStored(incidentSchema, item, 'incident'),
    );
  }
}

/** Build a DynamoDB store; with `createTable` the table is created (idempotently) first. */
export async function openDynamoDbStore(
  options: DynamoDbStoreOptions & { readonly createTable?: boolean },
): Promise<DynamoDbStore> {
  const store = new DynamoDbStore(options);
  if (options.createTable) {
    try {
      await store.createTable();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
