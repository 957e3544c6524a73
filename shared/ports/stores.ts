/**
 * The persistence ports: raw results (runs, checks, events), per-subject state, and incidents. Two adapters implement
 * them (`shared/adapters/store/sqlite-store.ts` for the CLI, `shared/adapters/store/dynamodb-store.ts` for Lambda); one
 * contract suite (`test/contracts/stores.contract.ts`) runs against both.
 *
 * Record rules (both adapters enforce them on write):
 * - Times are ISO 8601 UTC strings exactly as `Date.prototype.toISOString()` prints them (`2026-11-27T18:00:00.000Z`);
 *   anything else is rejected with a `TypeError` (stored times are compared as strings, so the format must be fixed).
 *   Query bounds (`since`, `until`) may be any string `Date` parses; they are normalised.
 * - A `CheckRecord.detail` whose JSON exceeds {@link DETAIL_MAX_BYTES} (UTF-8) is stored as `{ truncated: true, bytes }`;
 *   a `summary` longer than {@link SUMMARY_MAX_CHARS} is cut to that length (ending in `…`). Any other record whose
 *   JSON exceeds 64 KiB (a check after bounding its detail, an event, a state, an incident) is refused with a
 *   `RangeError`: records are small by design, and this keeps every DynamoDB item far below its 400 KB limit.
 * - Nothing stored may hold a secret (passwords, tokens): records carry verdicts and evidence only.
 *
 * Error contract: methods reject with {@link ConflictError} when a conditional write loses (states, incidents), with
 * {@link InvalidCursorError} for a cursor that this adapter and query did not produce, with `TypeError`/`RangeError` for
 * an invalid record, and with the backend's own error for infrastructure failures (disk, network, throttling after the
 * SDK's retries). Idempotent writes (`putChecks`, `putEvents`) never fail because the record already exists.
 *
 * Pagination: `limit` defaults to {@link DEFAULT_PAGE_LIMIT} and is clamped to 1..{@link MAX_PAGE_LIMIT}. `cursor` is
 * opaque (base64url); pass the `cursor` of the previous page to get the next one. `cursor: null` means there is nothing
 * more; a non-null cursor may (rarely) lead to an empty last page.
 */
import type { CheckStatus, JsonValue } from '../domain/outcome.ts';

export type { CheckStatus, JsonValue };

/** Bigger details are replaced by `{ truncated: true, bytes }` (keeps a DynamoDB item far below its 400 KB limit). */
export const DETAIL_MAX_BYTES = 32 * 1024;
export const SUMMARY_MAX_CHARS = 500;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;
/** Default retention of raw results (checks and events); states, incidents and runs are kept. */
export const DEFAULT_RETENTION_DAYS = 90;

export type RunSource = 'cli' | 'lambda' | 'agent';
export type IncidentStatus = 'open' | 'resolved';
export type IncidentSeverity = 'critical' | 'warning' | 'info';

export interface StatusCounts {
  readonly pass: number;
  readonly warn: number;
  readonly fail: number;
  readonly unknown: number;
}

/**
 * One monitoring cycle, or one tenant's part of it (a Lambda job). Identified by `runId`; `startedAt` must not change
 * for a run. Writing it again replaces it. Runs with a `tenantId` are listed per tenant and expire with the raw
 * results; runs without one (the CLI's whole-MSP runs) are listed by `runs()` without a tenant.
 */
export interface RunRecord {
  readonly runId: string;
  /** The tenant this run checked (a worker job); absent for a run over many tenants (the CLI). */
  readonly tenantId?: string | undefined;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly source: RunSource;
  readonly counts: StatusCounts;
}

/** One check's verdict in one run. Identified by (tenantId, runId, check, subject): the first write wins. */
export interface CheckRecord {
  readonly tenantId: string;
  readonly runId: string;
  /**
   * The run's time (its `startedAt`: the job's schedule slot, the agent report's time), the same for every check of
   * the run and every write of one check: the DynamoDB store keys a check by it (`H#<at>#<runId>#…`), so writing an
   * identity again with another `at` would store a second item there.
   */
  readonly at: string;
  /** 'spf' | 'mx' | 'blocklist' | 'probe-relay' | 'probe-submission' | 'submission' | … (an open set). */
  readonly check: string;
  /** A domain, an IP, 'ip@zone', 'relay', …: any printable text, '#' included. */
  readonly subject: string;
  readonly status: CheckStatus;
  /** Finding codes, or the probe's diagnosis id. */
  readonly codes: readonly string[];
  /** At most {@link SUMMARY_MAX_CHARS} characters. */
  readonly summary: string;
  readonly fingerprint: string | null;
  /** At most {@link DETAIL_MAX_BYTES} of JSON, else `{ truncated: true, bytes }`. */
  readonly detail: JsonValue | null;
}

/** The latest known state of one (tenant, check, subject); written with optimistic concurrency on `version`. */
export interface SubjectState {
  readonly tenantId: string;
  readonly check: string;
  readonly subject: string;
  readonly lastStatus: CheckStatus;
  readonly lastAt: string;
  readonly lastRunId: string;
  readonly consecutiveFails: number;
  readonly consecutivePasses: number;
  readonly fingerprint: string | null;
  /** What the fingerprint stands for (the SPF record text, the sorted MX list), to show drift before/after. */
  readonly fingerprintValue: string | null;
  /** Set by the store: 1 on creation, +1 on every successful put. The value passed in is ignored. */
  readonly version: number;
}

/** What one notification route has done for an incident. */
export interface DeliveryState {
  readonly opened: string | null;
  readonly lastReminder: string | null;
  readonly resolved: string | null;
  readonly failures: number;
  readonly lastError: string | null;
}

/** How an incident ended: its subject passed again, it is no longer configured, or somebody closed it. */
export type IncidentResolutionKind = 'passed' | 'retired' | 'closed';

/** Who did something to an incident by hand (`relaywatch incidents ack|close`), when, and why. */
export interface IncidentNote {
  /** `--by`, else the OS user. */
  readonly by: string;
  readonly at: string;
  readonly note: string | null;
}

export interface IncidentResolution {
  readonly kind: IncidentResolutionKind;
  /** Set for `closed` (who closed it and the note); null otherwise. */
  readonly by: string | null;
  readonly note: string | null;
}

export interface IncidentRecord {
  readonly tenantId: string;
  /** Short, given by the caller; unique within the tenant. */
  readonly id: string;
  readonly check: string;
  readonly subject: string;
  readonly problem: string;
  readonly status: IncidentStatus;
  readonly severity: IncidentSeverity;
  readonly title: string;
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly resolvedAt: string | null;
  readonly lastDetail: string;
  /** By route id. */
  readonly deliveries: { readonly [routeId: string]: DeliveryState };
  /** Recent open/resolve times, bounded by the caller. */
  readonly flaps: readonly string[];
  /**
   * How the current episode ended, while resolved; absent or null on open incidents and on records written before
   * resolutions were recorded (read as `passed`).
   */
  readonly resolution?: IncidentResolution | null | undefined;
  /** The acknowledgement of the current episode (stops reminders and escalation); absent or null when none. */
  readonly ack?: IncidentNote | null | undefined;
  /** Set by the store, as for {@link SubjectState.version}. */
  readonly version: number;
}

/** Something that changed (SPF text, MX set, an incident opened…). Identified by (tenantId, eventId): first write wins. */
export interface EventRecord {
  readonly tenantId: string;
  /** Deterministic, given by the caller (so a retried run writes the same id). */
  readonly eventId: string;
  readonly at: string;
  /** 'spf-changed' | 'mx-changed' | 'incident-opened' | … (an open set). */
  readonly kind: string;
  readonly subject: string;
  readonly before: string | null;
  readonly after: string | null;
  readonly runId: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque (base64url); null when there is nothing more. */
  readonly cursor: string | null;
}

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string | null;
}

export interface HistoryQuery extends PageRequest {
  /** Inclusive lower bound on `at`. */
  readonly since?: string;
  /** Exclusive upper bound on `at`. */
  readonly until?: string;
  /** Only this check kind. */
  readonly check?: string;
}

export interface EventQuery extends PageRequest {
  /** Inclusive lower bound on `at`. */
  readonly since?: string;
}

export interface RunQuery extends PageRequest {
  readonly tenantId?: string;
}

export interface IncidentQuery extends PageRequest {
  readonly status?: IncidentStatus;
}

/** Raw results: append-only, idempotent, pruned after the retention period. */
export interface ResultStore {
  /** Insert or replace the run (keyed by `runId`). */
  putRun(run: RunRecord): Promise<void>;
  /**
   * Idempotent batch insert: a record whose (tenantId, runId, check, subject) exists already is skipped. With `run`,
   * the run is stored as well, exactly as {@link putRun} stores it, in the same write (DynamoDB: the same
   * BatchWriteItem requests, so a worker job's run costs no request of its own; SQLite: the same transaction).
   */
  putChecks(records: readonly CheckRecord[], run?: RunRecord): Promise<void>;
  /** A tenant's check records, newest `at` first (ties in a stable, adapter-defined order). */
  history(tenantId: string, query?: HistoryQuery): Promise<Page<CheckRecord>>;
  /** Idempotent batch insert keyed by (tenantId, eventId). */
  putEvents(events: readonly EventRecord[]): Promise<void>;
  /** A tenant's events, newest `at` first. */
  events(tenantId: string, query?: EventQuery): Promise<Page<EventRecord>>;
  /** Runs newest `startedAt` first: a tenant's runs with `tenantId`, else the runs recorded without a tenant. */
  runs(query?: RunQuery): Promise<Page<RunRecord>>;
}

export interface StateStore {
  /** Every state of the tenant (the store paginates internally), ordered by (check, subject). */
  list(tenantId: string): Promise<readonly SubjectState[]>;
  /**
   * Conditional write: `expectedVersion` null means "must not exist yet", a number means "the stored version must
   * equal it". Returns the state as stored (version = expectedVersion + 1, or 1).
   * @throws ConflictError when the condition does not hold.
   */
  put(state: SubjectState, expectedVersion: number | null): Promise<SubjectState>;
}

export interface IncidentStore {
  get(tenantId: string, id: string): Promise<IncidentRecord | null>;
  /** Conditional write, same rule as {@link StateStore.put}. @throws ConflictError */
  put(incident: IncidentRecord, expectedVersion: number | null): Promise<IncidentRecord>;
  /** Open incidents of every tenant, oldest `openedAt` first. May lag a write by up to a second on DynamoDB (GSI). */
  listOpen(query?: PageRequest): Promise<Page<IncidentRecord>>;
  /** A tenant's incidents, optionally of one status, ordered by id. */
  list(tenantId: string, query?: IncidentQuery): Promise<Page<IncidentRecord>>;
  /**
   * What the alert step needs of a tenant, read through an index (not every incident the tenant ever had): the open
   * incidents and the resolved ones that still owe a route its RESOLVED ({@link owesResolved}), ordered by id.
   */
  listActive(tenantId: string): Promise<readonly IncidentRecord[]>;
}

// --- Shared by every process: the decision write, the DNSBL query budget, the ingest replay guard ---------------

/** A resolved incident still owes a RESOLVED to a route that was told it opened and not yet that it resolved. */
export function owesResolved(incident: IncidentRecord): boolean {
  if (incident.status !== 'resolved') return false;
  return Object.values(incident.deliveries).some((d) => d.opened !== null && d.resolved === null);
}

/** The records one incident decision changes: the subject's state and the incidents it opens, updates or resolves. */
export interface DecisionWrite {
  readonly state: SubjectState;
  readonly stateExpectedVersion: number | null;
  readonly incidents: readonly { readonly incident: IncidentRecord; readonly expectedVersion: number | null }[];
}

export interface DecisionWritten {
  readonly state: SubjectState;
  readonly incidents: readonly IncidentRecord[];
}

/**
 * Per (zone, UTC day) DNSBL query counters shared by every process (CLI runs and Lambda workers at once): queries
 * are reserved before they are sent, so no two processes together exceed a zone's daily budget.
 */
export interface BudgetStore {
  /**
   * Atomically reserve up to `wanted` queries of a zone's `limit` for `day` (`2026-11-27`); resolves to how many were
   * granted (0..wanted). Never grants past the limit, whatever runs at the same time.
   */
  reserve(zoneId: string, day: string, wanted: number, limit: number): Promise<number>;
  /** Queries reserved so far for the zone on that day. */
  used(zoneId: string, day: string): Promise<number>;
}

/** The ingest's replay guard, shared by every instance (same shape as `ReplayGuard` in shared/ingest/signature.ts). */
export interface NonceStore {
  /**
   * Resolves true exactly once per key until `expiresAtMs` (a conditional put); false for a key seen and live.
   * `nowMs` is the verifier's clock (default `Date.now()`): a key whose expiry is not after it counts as unseen.
   */
  firstSeen(key: string, expiresAtMs: number, nowMs?: number): Promise<boolean>;
}

/**
 * The claim on one notification's delivery (see {@link DeliveryStore}). Identified by (tenantId, key), where `key` is the
 * delivery key of (incident, episode, transition, route) from `shared/incidents/deliveries.ts`.
 */
export interface DeliveryClaim {
  readonly tenantId: string;
  readonly key: string;
  /** Who holds (or last held) the claim: a run id, a Lambda request id. */
  readonly owner: string;
  /** ISO time until which `owner` may send; after it, another owner may take the claim over. */
  readonly leaseUntil: string;
  /** How many times the claim was taken (1 on the first send; more after failures, releases and take-overs). */
  readonly attempts: number;
  /** ISO time the send was recorded as done, or null while it is not. */
  readonly deliveredAt: string | null;
}

/**
 * - `claimed`: the caller holds the lease and may send now (then {@link DeliveryStore.complete} or `release`).
 * - `delivered`: somebody sent it already: do not send; just record it on the incident.
 * - `held`: another owner holds an unexpired lease (it is sending right now): do not send; leave it to that owner.
 */
export type ClaimOutcome =
  | { readonly status: 'claimed'; readonly claim: DeliveryClaim }
  | { readonly status: 'delivered'; readonly claim: DeliveryClaim }
  | { readonly status: 'held'; readonly claim: DeliveryClaim };

/**
 * Exactly-once sending per delivery key across concurrent runs (two overlapping `check` runs, many Lambda workers, an
 * SQS redelivery): claim before sending, complete (or release) after.
 *
 * `claim` is one conditional write (SQLite: one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement; DynamoDB: an
 * `UpdateItem` with a `ConditionExpression`). It succeeds when the key has no claim yet, or its claim is not delivered
 * and either its lease has expired (`leaseUntil <= now`: a process died holding it) or it is held by the same `owner`
 * (a retry of the same worker). Of any number of concurrent claims on a free key exactly one gets `claimed`.
 *
 * Error contract: `TypeError` for an empty tenant, key or owner, a `now` that is not a valid date, or a `leaseMs` that is
 * not a positive finite number; the backend's own error for infrastructure failures (the caller must not send then).
 * `complete` and `release` never fail because of the claim's state: completing twice keeps the first time; releasing a
 * claim that is delivered or held by another owner does nothing.
 */
export interface DeliveryStore {
  claim(tenantId: string, key: string, owner: string, now: Date, leaseMs: number): Promise<ClaimOutcome>;
  /** Record that the send succeeded (whoever holds the claim now): later claims answer `delivered`. */
  complete(tenantId: string, key: string, owner: string, now: Date): Promise<void>;
  /** Give the lease up after a failed send, so the next cycle (any owner) may claim it at once. */
  release(tenantId: string, key: string, owner: string): Promise<void>;
  get(tenantId: string, key: string): Promise<DeliveryClaim | null>;
}

export interface PruneResult {
  readonly checks: number;
  readonly events: number;
}

export interface Store {
  readonly results: ResultStore;
  readonly states: StateStore;
  readonly incidents: IncidentStore;
  readonly budget: BudgetStore;
  readonly nonces: NonceStore;
  /**
   * Write a decision atomically (one SQLite transaction; DynamoDB `TransactWriteItems`): the state and every incident
   * change, or nothing. Each record is conditional on its version as in `put`.
   * @throws ConflictError naming the first record whose condition failed; nothing is written then.
   */
  writeDecision(write: DecisionWrite): Promise<DecisionWritten>;
  readonly deliveries: DeliveryStore;
  /**
   * Delete checks and events whose `at` is older than `now` minus the retention period (and delivery claims last taken
   * before it). SQLite deletes here (call it once per run); DynamoDB expires them by TTL (`expiresAt`) and returns zeros.
   */
  prune(now: Date): Promise<PruneResult>;
  /** Release the connection. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** A conditional write lost: the item exists (create) or its stored version is not the expected one (update). */
export class ConflictError extends Error {
  readonly entity: 'state' | 'incident';
  readonly key: string;
  readonly expectedVersion: number | null;
  constructor(entity: 'state' | 'incident', key: string, expectedVersion: number | null, options?: ErrorOptions) {
    super(
      expectedVersion === null
        ? `${entity} ${key} already exists (expected to create it)`
        : `${entity} ${key} is not at version ${expectedVersion} (changed by another writer, or gone)`,
      options,
    );
    this.name = 'ConflictError';
    this.entity = entity;
    this.key = key;
    this.expectedVersion = expectedVersion;
  }
}

/** A cursor that this store and query did not produce (tampered, truncated, or from another query or backend). */
export class InvalidCursorError extends Error {
  constructor(message = 'invalid page cursor', options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCursorError';
  }
}
