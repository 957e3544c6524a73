/**
 * Request signing for site agent → ingest (verified by the ingest Lambda), scheme v2.
 *
 * Wire format (three headers, names case-insensitive):
 *
 *   x-relaywatch-agent: <agentId>
 *   x-relaywatch-timestamp: <unix seconds, decimal>
 *   x-relaywatch-signature: v2=<hex HMAC-SHA256(secret, canonical)>[ v2=<hex> …]
 *
 * The canonical string binds the request's context, as SigV4 and Standard Webhooks do: seven lines joined by LF,
 *
 *   relaywatch-signature-v2
 *   <agentId>
 *   <timestamp>
 *   <METHOD, upper case>
 *   <host, lower case, without :443>
 *   <path and query exactly as sent, e.g. /ingest?x=1>
 *   <hex SHA-256 of the body's exact bytes>
 *
 * so a signature is valid for one agent, one second, one endpoint and one body. Verifiers MUST hash the raw body as
 * received (API Gateway's `body` decoded from base64 when `isBase64Encoded`), never a re-serialised parse of it.
 * Several space-separated signatures are allowed so that an agent can sign with its current and next secret during a
 * rotation; the request verifies when any of them matches any of the agent's secrets.
 *
 * v1 (`HMAC(secret, "<timestamp>.<body>")`, no agent, method, host or path) is NOT accepted: it let a signature be
 * replayed against another endpoint, and no ingest was deployed with it, so there is no fleet to migrate. A header
 * holding only v1 tokens fails like a bad signature; the agent of this version sends v2 only.
 *
 * Binding to a tenant: the registry (`AgentRegistry.agentFor`) maps each agent to exactly one tenant and its secrets.
 * A signed body must be a JSON object whose `agentId` is the header's agent and whose `tenant.id` is the registry's
 * tenant for it; anything else is refused (`wrong-agent`, `wrong-tenant`), so one site's secret cannot report for
 * another tenant. The result names the registry's tenant, never the body's.
 *
 * Egress IP: the body's `egress.ip` is what the agent *says* its public address is. It is returned as advice beside
 * `sourceIp`, the address the request really came from (API Gateway's `requestContext.http.sourceIp`), with
 * `egressMatchesSource`; `actionableEgressIp` is the reported address only when both agree. Nothing may tell an MSP to
 * authorise an address (connector, SPF) on the body's word alone.
 *
 * Verification order: headers present and well-formed, timestamp within the tolerance (older: `stale`, newer:
 * `future`; a skew of exactly the tolerance is accepted), the agent known and a signature valid (an unknown agent and a
 * bad signature give the same `unauthorized` result, same message, and cost the same HMAC work), the body bound to the
 * agent and its tenant, and only then the replay guard (so an attacker cannot fill the guard with unsigned junk).
 *
 * Replays: the key is (agent, timestamp, SHA-256 of the body), whichever secret or signature token matched, so dropping
 * one of two rotation signatures is no new request. It is kept until the first millisecond at which the timestamp can
 * no longer be accepted, `(timestamp + tolerance + 1) × 1000`; a guard must never forget a key earlier (the memory
 * guard refuses new keys when full of live ones rather than evict one: the request fails as an infrastructure error
 * and the agent retries).
 *
 * Error contract: `signRequest` throws TypeError for an invalid agent id, a secret below the floor (`rwas_` + at least
 * 32 random bytes, base64url) or a URL that is not absolute. `verifyRequest` returns every client-caused failure as a
 * value with the HTTP status to answer; it rejects only when the registry or the replay guard reject (an
 * infrastructure failure: answer 5xx, not 401).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalIp } from '../domain/ip.ts';

export const AGENT_HEADER = 'x-relaywatch-agent';
export const TIMESTAMP_HEADER = 'x-relaywatch-timestamp';
export const SIGNATURE_HEADER = 'x-relaywatch-signature';
export const SIGNATURE_SCHEME = 'v2';
export const CANONICAL_PREFIX = 'relaywatch-signature-v2';
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Agent secrets start with this, so a leaked one is recognisable (secret scanners, logs). */
export const AGENT_SECRET_PREFIX = 'rwas_';
/** Random bytes in a generated secret, and the least accepted. */
export const AGENT_SECRET_BYTES = 32;
/** Largest body verified (an agent report is a few KiB). */
export const MAX_BODY_BYTES = 256 * 1024;

/** Agent ids: 1–128 characters of letters, digits and `. _ : -` (safe in a header and in a log line). */
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const SECRET_BODY = /^[A-Za-z0-9_-]+$/;
/** More signatures than this in one header is not a rotation, it is an attempt to make us do work. */
const MAX_SIGNATURES = 8;
const MAX_SIGNATURE_HEADER = 1024;
/** The HMAC key used when the agent is unknown, so both failures cost the same. */
const UNKNOWN_AGENT_KEY = randomBytes(32).toString('base64url');

export type Body = string | Uint8Array;

/** A new agent secret: `rwas_` + 32 random bytes, base64url (48 characters). */
export function generateAgentSecret(): string {
  return AGENT_SECRET_PREFIX + randomBytes(AGENT_SECRET_BYTES).toString('base64url');
}

/** Why `secret` is not an acceptable agent secret, or null. Never echoes the secret. */
export function agentSecretProblem(secret: string): string | null {
  if (!secret.startsWith(AGENT_SECRET_PREFIX)) {
    return `an agent secret starts with ${AGENT_SECRET_PREFIX} (generate one with: relaywatch agent secret)`;
  }
  const rest = secret.slice(AGENT_SECRET_PREFIX.length);
  if (!SECRET_BODY.test(rest)) return 'an agent secret is rwas_ followed by base64url characters only';
  if (Buffer.from(rest, 'base64url').length < AGENT_SECRET_BYTES) {
    return `an agent secret holds at least ${AGENT_SECRET_BYTES} random bytes (43 base64url characters after rwas_; generate one with: relaywatch agent secret)`;
  }
  return null;
}

/** The request a signature is for. */
export interface RequestTarget {
  readonly method: string;
  /** The Host the client addressed (`ingest.example.com`, `127.0.0.1:8443`). */
  readonly host: string;
  /** Path and query exactly as sent (`/ingest`, `/ingest?x=1`). */
  readonly path: string;
}

/** `host` lower-cased and without the https default port. */
export function normaliseHost(host: string): string {
  const h = host.trim().toLowerCase();
  return h.endsWith(':443') ? h.slice(0, -4) : h;
}

function bodySha256(body: Body): string {
  const hash = createHash('sha256');
  if (typeof body === 'string') hash.update(body, 'utf8');
  else hash.update(body);
  return hash.digest('hex');
}

/** The canonical string of scheme v2 (see the module comment). */
export function canonicalString(agentId: string, timestamp: string, target: RequestTarget, bodyHash: string): string {
  return [
    CANONICAL_PREFIX,
    agentId,
    timestamp,
    target.method.toUpperCase(),
    normaliseHost(target.host),
    target.path,
    bodyHash,
  ].join('\n');
}

function mac(secret: string, canonical: string): Buffer {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest();
}

export interface SignInput {
  readonly agentId: string;
  /** Secret(s): one, or several during a rotation (each gives one `v2=` signature). */
  readonly secret: string | readonly string[];
  /** The exact body that will be sent. */
  readonly body: Body;
  /** The URL it is sent to (host and path are signed). */
  readonly url: string | URL;
  /** Default POST. */
  readonly method?: string;
  /** Current time in ms since the epoch (default `Date.now()`). */
  readonly now?: number;
}

/** The three headers for one request. */
export function signRequest(input: SignInput): Record<string, string> {
  if (!AGENT_ID.test(input.agentId)) {
    throw new TypeError('agentId must be 1-128 characters of letters, digits and . _ : -');
  }
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  if (secrets.length === 0) throw new TypeError('at least one secret is needed');
  for (const s of secrets) {
    const problem = agentSecretProblem(s);
    if (problem !== null) throw new TypeError(problem);
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new TypeError('the URL to sign for is not an absolute URL');
  }
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const target = { method: input.method ?? 'POST', host: url.host, path: `${url.pathname}${url.search}` };
  const canonical = canonicalString(input.agentId, timestamp, target, bodySha256(input.body));
  const signature = secrets.map((s) => `${SIGNATURE_SCHEME}=${mac(s, canonical).toString('hex')}`).join(' ');
  return {
    [AGENT_HEADER]: input.agentId,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signature,
  };
}

/**
 * Remembers signed requests already accepted (a port: memory here, a store-backed one for Lambda). `firstSeen`
 * resolves true exactly once per key while the key is live, and false for every later call before `expiresAtMs`. A
 * key must be kept until `expiresAtMs` (never evicted earlier: that re-opens the replay); an implementation that
 * cannot keep one more key rejects instead. It may forget the key at or after `expiresAtMs` (a DynamoDB TTL).
 */
export interface ReplayGuard {
  firstSeen(key: string, expiresAtMs: number): Promise<boolean>;
}

/** The memory guard is full of keys that are still live; the request cannot be checked for replay. */
export class ReplayGuardFullError extends Error {
  override readonly name = 'ReplayGuardFullError';
}

export interface MemoryReplayGuardOptions {
  /** Most live keys kept (default 100 000). */
  readonly maxEntries?: number;
  /** Clock in ms (default `Date.now`): must be the verifier's clock. */
  readonly now?: () => number;
}

/**
 * A replay guard in memory (one process). Bounded: expired keys are dropped as it goes; when it is full of live keys,
 * `firstSeen` rejects with `ReplayGuardFullError` instead of forgetting a live key. Size it above the number of
 * requests expected in 2 × tolerance + 1 s.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly seen = new Map<string, number>();

  constructor(options: MemoryReplayGuardOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new TypeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.seen.size;
  }

  async firstSeen(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    if (known !== undefined) this.seen.delete(key);
    if (this.seen.size >= this.maxEntries) {
      for (const [k, expires] of this.seen) if (expires <= now) this.seen.delete(k);
      if (this.seen.size >= this.maxEntries) {
        throw new ReplayGuardFullError(`the replay guard holds ${this.maxEntries} live keys; try again later`);
      }
    }
    this.seen.set(key, expiresAtMs);
    return true;
  }
}

/** What the registry knows of one agent. */
export interface AgentRecord {
  /** The one tenant the agent reports for. */
  readonly tenantId: string;
  /** Its secrets, current first then previous (during a rotation). Secrets below the floor are ignored. */
  readonly secrets: readonly string[];
}

/** Header values as Node (`IncomingHttpHeaders`), API Gateway (`Record<string, string>`) or fetch (`Headers`) give them. */
export type HeaderInput = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyInput {
  readonly headers: HeaderInput;
  /** The raw body exactly as received. */
  readonly body: Body;
  /** Method, Host and path+query of the request as received. */
  readonly request: RequestTarget;
  /** The address the request came from (API Gateway's `requestContext.http.sourceIp`), or null when unknown. */
  readonly sourceIp: string | null;
  /** The agent registry: the agent's tenant and secrets, or null when the agent is unknown. */
  agentFor(agentId: string): Promise<AgentRecord | null>;
  /** Current time in ms since the epoch (default `Date.now()`). */
  readonly now?: number;
  /** Allowed clock difference in seconds, each way (default 300). */
  readonly toleranceSeconds?: number;
  readonly replay: ReplayGuard;
}

export type VerifyFailureReason =
  | 'missing-header'
  | 'malformed-header'
  | 'unauthorized'
  | 'stale'
  | 'future'
  | 'body-too-large'
  | 'malformed-body'
  | 'wrong-agent'
  | 'wrong-tenant'
  | 'replayed';

export interface VerifiedReport {
  readonly ok: true;
  readonly agentId: string;
  /** The registry's tenant for the agent (the body was checked to name the same). */
  readonly tenantId: string;
  /** Where the request came from. */
  readonly sourceIp: string | null;
  /** The egress IP the body reports (`egress.ip` when `egress.ok`), advice only. */
  readonly reportedEgressIp: string | null;
  /** True only when the reported egress IP is the request's source address. */
  readonly egressMatchesSource: boolean;
  /** The reported egress IP when it matches the source address, else null: the only one anything may act on. */
  readonly actionableEgressIp: string | null;
  /** The parsed body. */
  readonly report: Readonly<Record<string, unknown>>;
}

export interface VerifyFailure {
  readonly ok: false;
  readonly reason: VerifyFailureReason;
  /** Safe to return to the caller. */
  readonly message: string;
  /** The HTTP status to answer. */
  readonly status: 400 | 401 | 403 | 409 | 413;
}

export type VerifyResult = VerifiedReport | VerifyFailure;

/** The one answer for an unknown agent and for a bad signature. */
export const UNAUTHORIZED_MESSAGE = 'the request is not signed by a known agent secret';

type HeaderValue = { kind: 'missing' } | { kind: 'repeated' } | { kind: 'value'; value: string };

function header(headers: HeaderInput, name: string): HeaderValue {
  let value: string | readonly string[] | null | undefined;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) value = headers.get(name);
  else {
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
    const found: Array<string | readonly string[]> = [];
    for (const key of Object.keys(record)) {
      const v = record[key];
      if (v !== undefined && key.toLowerCase() === name) found.push(v);
    }
    if (found.length > 1) return { kind: 'repeated' };
    value = found[0];
  }
  if (value === null || value === undefined) return { kind: 'missing' };
  if (typeof value !== 'string') {
    if (value.length > 1) return { kind: 'repeated' };
    value = value[0];
    if (value === undefined) return { kind: 'missing' };
  }
  const trimmed = value.trim();
  return trimmed === '' ? { kind: 'missing' } : { kind: 'value', value: trimmed };
}

const STATUS: Readonly<Record<VerifyFailureReason, VerifyFailure['status']>> = {
  'missing-header': 400,
  'malformed-header': 400,
  unauthorized: 401,
  stale: 401,
  future: 401,
  'body-too-large': 413,
  'malformed-body': 400,
  'wrong-agent': 403,
  'wrong-tenant': 403,
  replayed: 409,
};

function fail(reason: VerifyFailureReason, message: string): VerifyFailure {
  return { ok: false, reason, message, status: STATUS[reason] };
}

function bodyObject(body: Body): Record<string, unknown> | null {
  try {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** Check a signed request. See the module comment for the order of checks and the error contract. */
export async function verifyRequest(input: VerifyInput): Promise<VerifyResult> {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(tolerance >= 0) || !Number.isInteger(tolerance))
    throw new TypeError('toleranceSeconds must be an integer >= 0');
  const values = new Map<string, string>();
  for (const name of [AGENT_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER]) {
    const h = header(input.headers, name);
    if (h.kind === 'missing') return fail('missing-header', `the ${name} header is missing`);
    if (h.kind === 'repeated') return fail('malformed-header', `the ${name} header is given more than once`);
    values.set(name, h.value);
  }
  const agentId = values.get(AGENT_HEADER) as string;
  const timestamp = values.get(TIMESTAMP_HEADER) as string;
  const signatureHeader = values.get(SIGNATURE_HEADER) as string;
  if (!AGENT_ID.test(agentId)) {
    return fail('malformed-header', `${AGENT_HEADER} must be 1-128 characters of letters, digits and . _ : -`);
  }
  if (!TIMESTAMP.test(timestamp)) return fail('malformed-header', `${TIMESTAMP_HEADER} must be unix seconds`);
  if (signatureHeader.length > MAX_SIGNATURE_HEADER) {
    return fail('malformed-header', `${SIGNATURE_HEADER} is longer than ${MAX_SIGNATURE_HEADER} characters`);
  }
  const provided: Buffer[] = [];
  let tokens = 0;
  for (const token of signatureHeader.split(' ')) {
    if (token === '') continue;
    if (++tokens > MAX_SIGNATURES) {
      return fail('malformed-header', `${SIGNATURE_HEADER} has more than ${MAX_SIGNATURES} signatures`);
    }
    const eq = token.indexOf('=');
    if (eq <= 0) return fail('malformed-header', `${SIGNATURE_HEADER} must be space-separated v2=<hex> tokens`);
    if (token.slice(0, eq) !== SIGNATURE_SCHEME) continue; // v1 or another scheme: not accepted, see above
    const hex = token.slice(eq + 1);
    if (!HEX_SHA256.test(hex)) {
      return fail('malformed-header', `a ${SIGNATURE_SCHEME} signature must be 64 hex digits (HMAC-SHA256)`);
    }
    provided.push(Buffer.from(hex, 'hex'));
  }
  const bodyBytes = typeof input.body === 'string' ? Buffer.byteLength(input.body, 'utf8') : input.body.byteLength;
  if (bodyBytes > MAX_BODY_BYTES) return fail('body-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`);

  const nowMs = input.now ?? Date.now();
  const nowSec = Math.floor(nowMs / 1000);
  const skew = nowSec - Number(timestamp);
  if (skew > tolerance) {
    return fail(
      'stale',
      `the request is ${skew} s old, more than the ${tolerance} s allowed (check the agent's clock)`,
    );
  }
  if (-skew > tolerance) {
    return fail(
      'future',
      `the request is ${-skew} s in the future, more than the ${tolerance} s allowed (check the agent's clock)`,
    );
  }

  const record = await input.agentFor(agentId);
  const bodyHash = bodySha256(input.body);
  const canonical = canonicalString(agentId, timestamp, input.request, bodyHash);
  const secrets = (record?.secrets ?? []).filter((s) => agentSecretProblem(s) === null);
  let matched = false;
  // an unknown agent (or one without a usable secret) does the same work as a known one, and fails the same way
  for (const secret of secrets.length > 0 ? secrets : [UNKNOWN_AGENT_KEY]) {
    const expected = mac(secret, canonical);
    for (const candidate of provided) if (timingSafeEqual(expected, candidate)) matched = true;
  }
  if (record === null || secrets.length === 0 || !matched) return fail('unauthorized', UNAUTHORIZED_MESSAGE);

  const report = bodyObject(input.body);
  if (report === null) return fail('malformed-body', 'the body is not a JSON object');
  if (report.agentId !== agentId) {
    return fail('wrong-agent', `the report names another agent than the one that signed it (${agentId})`);
  }
  if (field(report.tenant, 'id') !== record.tenantId) {
    return fail('wrong-tenant', `agent ${agentId} reports only for its own tenant`);
  }

  const key = `${agentId}\n${timestamp}\n${bodyHash}`;
  const fresh = await input.replay.firstSeen(key, (Number(timestamp) + tolerance + 1) * 1000);
  if (!fresh) return fail('replayed', `this signed request from agent ${agentId} was already accepted`);

  const egress = report.egress;
  const ip = field(egress, 'ok') === true ? field(egress, 'ip') : undefined;
  const reportedEgressIp = typeof ip === 'string' && ip.length <= 45 ? ip : null;
  const egressMatchesSource =
    reportedEgressIp !== null && input.sourceIp !== null && sameIp(reportedEgressIp, input.sourceIp);
  return {
    ok: true,
    agentId,
    tenantId: record.tenantId,
    sourceIp: input.sourceIp,
    reportedEgressIp,
    egressMatchesSource,
    actionableEgressIp: egressMatchesSource ? reportedEgressIp : null,
    report,
  };
}

/** Same address, whatever its text form (IPv6 compression, IPv4-mapped IPv6 as API Gateway may give it). */
function sameIp(a: string, b: string): boolean {
  // canonicalIp gives RFC 5952 text and IPv4-mapped IPv6 as IPv4
  const ca = canonicalIp(a.trim());
  return ca !== null && ca === canonicalIp(b.trim());
}
