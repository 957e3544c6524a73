/**
 * What both store adapters share: the write-side rules (canonical times, bounded detail and summary), the read-side
 * schemas (stored data is untrusted input: every item read back is parsed), the opaque cursor codec and page limits.
 */
import * as z from 'zod';
import {
  type CheckRecord,
  DEFAULT_PAGE_LIMIT,
  DETAIL_MAX_BYTES,
  type EventRecord,
  type IncidentRecord,
  InvalidCursorError,
  type JsonValue,
  MAX_PAGE_LIMIT,
  type RunRecord,
  SUMMARY_MAX_CHARS,
  type SubjectState,
} from '../../ports/stores.ts';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** @throws TypeError unless `value` is exactly what `toISOString()` prints. */
export function requireIsoTime(value: string, field: string): string {
  if (typeof value !== 'string' || !ISO_UTC.test(value) || new Date(value).toISOString() !== value) {
    throw new TypeError(
      `${field} must be an ISO 8601 UTC time as Date.prototype.toISOString() prints it (2026-11-27T18:00:00.000Z), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A query bound: anything `Date` parses, normalised. @throws RangeError */
export function normaliseBound(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${field} is not a time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

function requireText(value: string, field: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${field} must be a non-empty string`);
}

function requireCount(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${field} must be a non-negative integer`);
}

/**
 * Records (a check once its detail is bounded, events, states, incidents) are small by design: anything bigger is a bug
 * upstream, and refusing it keeps every DynamoDB item far below 400 KB.
 */
const RECORD_MAX_BYTES = 64 * 1024;

function requireSmall(value: unknown, what: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > RECORD_MAX_BYTES) {
    throw new RangeError(`${what} is ${bytes} bytes of JSON; the limit is ${RECORD_MAX_BYTES}`);
  }
}

export function boundDetail(detail: JsonValue | null): JsonValue | null {
  if (detail === null) return null;
  const json = JSON.stringify(detail);
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes > DETAIL_MAX_BYTES ? { truncated: true, bytes } : detail;
}

export function boundSummary(summary: string): string {
  const chars = Array.from(summary);
  return chars.length <= SUMMARY_MAX_CHARS ? summary : `${chars.slice(0, SUMMARY_MAX_CHARS - 1).join('')}…`;
}

/** Validate and bound a check record for writing. */
export function prepareCheck(record: CheckRecord): CheckRecord {
  requireText(record.tenantId, 'check.tenantId');
  requireText(record.runId, 'check.runId');
  requireText(record.check, 'check.check');
  requireText(record.subject, 'check.subject');
  requireIsoTime(record.at, 'check.at');
  const prepared: CheckRecord = {
    tenantId: record.tenantId,
    runId: record.runId,
    at: record.at,
    check: record.check,
    subject: record.subject,
    status: record.status,
    codes: [...record.codes],
    summary: boundSummary(record.summary),
    fingerprint: record.fingerprint,
    detail: boundDetail(record.detail),
  };
  requireSmall(prepared, 'check');
  return prepared;
}

export function prepareEvent(event: EventRecord): EventRecord {
  requireText(event.tenantId, 'event.tenantId');
  requireText(event.eventId, 'event.eventId');
  requireText(event.kind, 'event.kind');
  requireIsoTime(event.at, 'event.at');
  const prepared = { ...event };
  requireSmall(prepared, 'event');
  return prepared;
}

export function prepareRun(run: RunRecord): RunRecord {
  requireText(run.runId, 'run.runId');
  if (run.tenantId !== undefined) requireText(run.tenantId, 'run.tenantId');
  requireIsoTime(run.startedAt, 'run.startedAt');
  requireIsoTime(run.finishedAt, 'run.finishedAt');
  return { ...run, counts: { ...run.counts } };
}

export function prepareState(state: SubjectState, version: number): SubjectState {
  requireText(state.tenantId, 'state.tenantId');
  requireText(state.check, 'state.check');
  requireText(state.subject, 'state.subject');
  requireIsoTime(state.lastAt, 'state.lastAt');
  requireCount(state.consecutiveFails, 'state.consecutiveFails');
  requireCount(state.consecutivePasses, 'state.consecutivePasses');
  const prepared = { ...state, version };
  requireSmall(prepared, 'state');
  return prepared;
}

export function prepareIncident(incident: IncidentRecord, version: number): IncidentRecord {
  requireText(incident.tenantId, 'incident.tenantId');
  requireText(incident.id, 'incident.id');
  requireIsoTime(incident.openedAt, 'incident.openedAt');
  requireIsoTime(incident.updatedAt, 'incident.updatedAt');
  if (incident.resolvedAt !== null) requireIsoTime(incident.resolvedAt, 'incident.resolvedAt');
  if (incident.ack) {
    requireText(incident.ack.by, 'incident.ack.by');
    requireIsoTime(incident.ack.at, 'incident.ack.at');
  }
  const prepared = { ...incident, deliveries: { ...incident.deliveries }, flaps: [...incident.flaps], version };
  requireSmall(prepared, 'incident');
  return prepared;
}

export function requireExpectedVersion(expectedVersion: number | null): void {
  if (expectedVersion !== null && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
    throw new RangeError(`expectedVersion must be null or a positive integer, got ${expectedVersion}`);
  }
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit)));
}

// ---- read side: stored data is parsed, never trusted ----

const status = z.enum(['pass', 'warn', 'fail', 'unknown']);
const nullableString = z.string().nullable();

export const runSchema: z.ZodType<RunRecord> = z.object({
  runId: z.string(),
  tenantId: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  source: z.enum(['cli', 'lambda', 'agent']),
  counts: z.object({ pass: z.number(), warn: z.number(), fail: z.number(), unknown: z.number() }),
});

export const checkSchema: z.ZodType<CheckRecord> = z.object({
  tenantId: z.string(),
  runId: z.string(),
  at: z.string(),
  check: z.string(),
  subject: z.string(),
  status,
  codes: z.array(z.string()),
  summary: z.string(),
  fingerprint: nullableString,
  detail: z.json().nullable(),
});

export const stateSchema: z.ZodType<SubjectState> = z.object({
  tenantId: z.string(),
  check: z.string(),
  subject: z.string(),
  lastStatus: status,
  lastAt: z.string(),
  lastRunId: z.string(),
  consecutiveFails: z.number().int(),
  consecutivePasses: z.number().int(),
  fingerprint: nullableString,
  fingerprintValue: nullableString,
  version: z.number().int(),
});

const delivery = z.object({
  opened: nullableString,
  lastReminder: nullableString,
  resolved: nullableString,
  failures: z.number().int(),
  lastError: nullableString,
});

export const incidentSchema: z.ZodType<IncidentRecord> = z.object({
  tenantId: z.string(),
  id: z.string(),
  check: z.string(),
  subject: z.string(),
  problem: z.string(),
  status: z.enum(['open', 'resolved']),
  severity: z.enum(['critical', 'warning', 'info']),
  title: z.string(),
  openedAt: z.string(),
  updatedAt: z.string(),
  resolvedAt: nullableString,
  lastDetail: z.string(),
  deliveries: z.record(z.string(), delivery),
  flaps: z.array(z.string()),
  resolution: z
    .object({ kind: z.enum(['passed', 'retired', 'closed']), by: nullableString, note: nullableString })
    .nullable()
    .optional(),
  ack: z.object({ by: z.string(), at: z.string(), note: nullableString }).nullable().optional(),
  version: z.number().int(),
});

export const eventSchema: z.ZodType<EventRecord> = z.object({
  tenantId: z.string(),
  eventId: z.string(),
  at: z.string(),
  kind: z.string(),
  subject: z.string(),
  before: nullableString,
  after: nullableString,
  runId: z.string(),
});

/** Parse a stored record; a malformed one is a corrupt store, reported with the entity and the zod paths. */
export function parseStored<T>(schema: z.ZodType<T>, value: unknown, entity: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`stored ${entity} is malformed: ${issues}`);
  }
  return result.data;
}

// ---- check records, fast path (the digest reads a week of every tenant: 168,000 records for 1,000 tenants) ----

const CHECK_STATUSES: ReadonlySet<unknown> = new Set(['pass', 'warn', 'fail', 'unknown']);

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'string') return false;
  return true;
}

/**
 * Parse a stored check record whose `detail` came from `JSON.parse` (so it is JSON by construction): the same checks
 * as {@link checkSchema}, written out by hand, several times cheaper per row than zod (whose `z.json()` walks every
 * detail tree). A record it refuses goes through `checkSchema` for the error, so a malformed row is still refused
 * with the same message naming the path. Returns a fresh object with the schema's keys only (as zod strips others).
 */
export function parseStoredCheck(value: unknown): CheckRecord {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (
      typeof v.tenantId === 'string' &&
      typeof v.runId === 'string' &&
      typeof v.at === 'string' &&
      typeof v.check === 'string' &&
      typeof v.subject === 'string' &&
      CHECK_STATUSES.has(v.status) &&
      isStringArray(v.codes) &&
      typeof v.summary === 'string' &&
      (v.fingerprint === null || typeof v.fingerprint === 'string') &&
      v.detail !== undefined
    ) {
      return {
        tenantId: v.tenantId,
        runId: v.runId,
        at: v.at,
        check: v.check,
        subject: v.subject,
        status: v.status as CheckRecord['status'],
        codes: v.codes,
        summary: v.summary,
        fingerprint: v.fingerprint,
        detail: v.detail as JsonValue | null,
      };
    }
  }
  return parseStored(checkSchema, value, 'check');
}

// ---- cursors ----

/** Encode a cursor: a query tag (so a cursor of another query is refused) and the adapter's position. */
export function encodeCursor(tag: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ q: tag, p: position }), 'utf8').toString('base64url');
}

/** @throws InvalidCursorError */
export function decodeCursor(tag: string, cursor: string): unknown {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new InvalidCursorError('invalid page cursor (not one this store produced)', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || !('q' in parsed) || !('p' in parsed) || parsed.q !== tag) {
    throw new InvalidCursorError(`invalid page cursor (not a ${tag} cursor)`);
  }
  return parsed.p;
}

/** @throws TypeError/RangeError for a budget reservation that makes no sense. */
export function requireBudgetArgs(zoneId: string, day: string, wanted: number, limit: number): void {
  requireText(zoneId, 'zoneId');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new TypeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  if (!Number.isSafeInteger(wanted) || wanted < 0)
    throw new RangeError(`wanted must be a whole number >= 0, got ${wanted}`);
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
}

/** @throws TypeError for an empty or oversized nonce key or an expiry that is not a time. */
export function requireNonceArgs(key: string, expiresAtMs: number): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new TypeError('a nonce key is 1-512 characters');
  }
  if (!Number.isFinite(expiresAtMs)) throw new TypeError(`expiresAtMs must be a time in ms, got ${expiresAtMs}`);
}
/** The claim arguments both adapters check the same way (see `DeliveryStore` in `shared/ports/stores.ts`). */
export function prepareClaim(
  tenantId: string,
  key: string,
  owner: string,
  now: Date,
  leaseMs?: number,
): { readonly at: string; readonly leaseUntil: string } {
  for (const [name, v] of [
    ['tenantId', tenantId],
    ['key', key],
    ['owner', owner],
  ] as const) {
    if (typeof v !== 'string' || v === '' || v.length > 512)
      throw new TypeError(`delivery ${name} must be 1..512 characters`);
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new TypeError('delivery claim: now is not a valid date');
  if (leaseMs !== undefined && (!Number.isFinite(leaseMs) || leaseMs <= 0)) {
    throw new TypeError(`delivery claim: leaseMs must be a positive number, got ${leaseMs}`);
  }
  return { at: now.toISOString(), leaseUntil: new Date(now.getTime() + (leaseMs ?? 0)).toISOString() };
}

export const deliveryClaimSchema = z.object({
  tenantId: z.string(),
  key: z.string(),
  owner: z.string(),
  leaseUntil: z.string(),
  attempts: z.number().int(),
  deliveredAt: z.string().nullable(),
});

/** Long past: what `release` sets `leaseUntil` to, so any owner may claim again at once. */
export const RELEASED_LEASE = '1970-01-01T00:00:00.000Z';
