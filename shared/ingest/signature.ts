/**
 * Request signing for site agent → ingest (verified by the ingest Lambda).
 *
 * Wire format (three headers, names case-insensitive):
 *
 *   x-relaywatch-agent: <agentId>
 *   x-relaywatch-timestamp: <unix seconds, decimal>
 *   x-relaywatch-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>[ v1=<hex> …]
 *
 * The signed payload is the ASCII timestamp, a dot, then the body's exact bytes. Verifiers MUST use the raw body as
 * received (the bytes of the HTTP request, e.g. API Gateway's `body` decoded from base64 when `isBase64Encoded`), never a
 * re-serialised parse of it: JSON re-serialisation changes whitespace, key order and number forms and breaks the HMAC.
 * Several space-separated signatures are allowed so that an agent can sign with its current and its next secret
 * during a rotation; the request verifies when any of them matches any of the agent's secrets. Tokens with another
 * scheme (`v2=…`) are ignored, so the format can evolve.
 *
 * Verification order: headers present and well-formed, timestamp within the tolerance (older: `stale`, newer: `future`;
 * exactly at the tolerance is accepted), the agent known and the signature valid, and only then the replay guard (so an
 * attacker cannot fill the guard with unsigned junk). The replay key is the agent id plus the matching signature; it
 * is kept 2 × tolerance, the longest a signed request stays inside the window (timestamp up to `tolerance` in the
 * future, accepted until `tolerance` after it).
 *
 * Error contract: `signRequest` throws TypeError for an invalid agent id or an empty secret (programming errors).
 * `verifyRequest` returns every client-caused failure as a value; it rejects only when `secretsFor` or the replay guard
 * reject (an infrastructure failure: answer 5xx, not 401).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const AGENT_HEADER = 'x-relaywatch-agent';
export const TIMESTAMP_HEADER = 'x-relaywatch-timestamp';
export const SIGNATURE_HEADER = 'x-relaywatch-signature';
export const SIGNATURE_SCHEME = 'v1';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Agent ids: 1–128 characters of letters, digits and `. _ : -` (safe in a header and in a log line). */
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
/** More signatures than this in one header is not a rotation, it is an attempt to make us do work. */
const MAX_SIGNATURES = 8;
const MAX_SIGNATURE_HEADER = 1024;

export type Body = string | Uint8Array;

export interface SignInput {
  readonly agentId: string;
  /** Secret(s): one, or several during a rotation (each gives one `v1=` signature). */
  readonly secret: string | readonly string[];
  /** The exact body that will be sent. */
  readonly body: Body;
  /** Current time in ms since the epoch (default `Date.now()`). */
  readonly now?: number;
}

/** The three headers for one request. */
export function signRequest(input: SignInput): Record<string, string> {
  if (!AGENT_ID.test(input.agentId)) {
    throw new TypeError('agentId must be 1-128 characters of letters, digits and . _ : -');
  }
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) throw new TypeError('the secret must not be empty');
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const signature = secrets.map((s) => `${SIGNATURE_SCHEME}=${hmacHex(s, timestamp, input.body)}`).join(' ');
  return {
    [AGENT_HEADER]: input.agentId,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signature,
  };
}

function hmac(secret: string, timestamp: string, body: Body): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`, 'utf8');
  if (typeof body === 'string') mac.update(body, 'utf8');
  else mac.update(body);
  return mac.digest();
}

function hmacHex(secret: string, timestamp: string, body: Body): string {
  return hmac(secret, timestamp, body).toString('hex');
}

/** Remembers signed requests already accepted. `firstSeen` resolves true exactly once per key until it expires. */
export interface ReplayGuard {
  firstSeen(key: string, expiresAtMs: number): Promise<boolean>;
}

export interface MemoryReplayGuardOptions {
  /** Most keys kept (default 100 000). When full after dropping expired keys, the oldest key is dropped. */
  readonly maxEntries?: number;
  /** Clock in ms (default `Date.now`): must be the verifier's clock. */
  readonly now?: () => number;
}

/**
 * A replay guard in memory (one process; the Lambda uses a DynamoDB conditional put). Bounded: expired keys are
 * dropped as it goes, and when it is full of live keys the oldest is dropped (keys are inserted with nearly the same
 * lifetime, so the oldest expires first). Size it above the number of requests expected in 2 × tolerance.
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
    if (this.seen.size >= this.maxEntries) this.evict(now);
    this.seen.set(key, expiresAtMs);
    return true;
  }

  private evict(now: number): void {
    for (const [k, expires] of this.seen) if (expires <= now) this.seen.delete(k);
    while (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
  }
}

/** Header values as Node (`IncomingHttpHeaders`), API Gateway (`Record<string, string>`) or fetch (`Headers`) give them. */
export type HeaderInput = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyInput {
  readonly headers: HeaderInput;
  /** The raw body exactly as received. */
  readonly body: Body;
  /** The agent's secrets, current first then previous; empty when the agent is unknown. */
  secretsFor(agentId: string): Promise<readonly string[]>;
  /** Current time in ms since the epoch (default `Date.now()`). */
  readonly now?: number;
  /** Allowed clock difference in seconds, each way (default 300). */
  readonly toleranceSeconds?: number;
  readonly replay: ReplayGuard;
}

export type VerifyFailureReason =
  | 'missing-header'
  | 'malformed-header'
  | 'unknown-agent'
  | 'bad-signature'
  | 'stale'
  | 'future'
  | 'replayed';

export type VerifyResult =
  | { readonly ok: true; readonly agentId: string }
  | { readonly ok: false; readonly reason: VerifyFailureReason; readonly message: string };

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

function fail(reason: VerifyFailureReason, message: string): VerifyResult {
  return { ok: false, reason, message };
}

/** Check a signed request. See the module comment for the order of checks and the error contract. */
export async function verifyRequest(input: VerifyInput): Promise<VerifyResult> {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new TypeError('toleranceSeconds must be >= 0');
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
  for (const token of signatureHeader.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) return fail('malformed-header', `${SIGNATURE_HEADER} must be space-separated v1=<hex> tokens`);
    if (token.slice(0, eq) !== SIGNATURE_SCHEME) continue; // another scheme: not ours to judge
    const hex = token.slice(eq + 1);
    if (!HEX_SHA256.test(hex)) {
      return fail('malformed-header', `a ${SIGNATURE_SCHEME} signature must be 64 hex digits (HMAC-SHA256)`);
    }
    provided.push(Buffer.from(hex, 'hex'));
  }
  if (provided.length === 0)
    return fail('malformed-header', `${SIGNATURE_HEADER} has no ${SIGNATURE_SCHEME}= signature`);
  if (provided.length > MAX_SIGNATURES) {
    return fail('malformed-header', `${SIGNATURE_HEADER} has more than ${MAX_SIGNATURES} signatures`);
  }

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

  const secrets = await input.secretsFor(agentId);
  if (secrets.length === 0) return fail('unknown-agent', `agent ${agentId} is not known`);
  let matched: Buffer | undefined;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = hmac(secret, timestamp, input.body);
    for (const candidate of provided) {
      // both are 32 bytes: the hex was checked to be 64 digits
      if (timingSafeEqual(expected, candidate)) matched ??= candidate;
    }
    if (matched) break;
  }
  if (!matched) return fail('bad-signature', `no ${SIGNATURE_SCHEME} signature matches a secret of agent ${agentId}`);

  const key = `${agentId} ${matched.toString('hex')}`;
  const fresh = await input.replay.firstSeen(key, nowMs + 2 * tolerance * 1000);
  if (!fresh) return fail('replayed', `this signed request from agent ${agentId} was already accepted`);
  return { ok: true, agentId };
}
