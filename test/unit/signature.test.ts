import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemoryReplayGuard,
  type ReplayGuard,
  signRequest,
  type VerifyInput,
  verifyRequest,
} from '../../shared/ingest/signature.ts';

const NOW = 1_800_000_000_000; // ms
const SECRET = 'current-secret-0123456789';
const OLD_SECRET = 'previous-secret-9876543210';
const BODY = '{"site":"hq","ip":"198.51.100.77"}';

const secretsFor = async (agentId: string): Promise<readonly string[]> =>
  agentId === 'agent-1' ? [SECRET, OLD_SECRET] : [];

function verify(overrides: Partial<VerifyInput> & Pick<VerifyInput, 'headers'>) {
  return verifyRequest({
    body: BODY,
    secretsFor,
    now: NOW,
    replay: new MemoryReplayGuard({ now: () => NOW }),
    ...overrides,
  });
}

describe('signRequest', () => {
  it('produces the three headers with v1=<hex HMAC-SHA256(secret, "ts.body")>', () => {
    const headers = signRequest({ agentId: 'agent-1', secret: SECRET, body: BODY, now: NOW + 999 });
    const ts = String(NOW / 1000);
    const mac = createHmac('sha256', SECRET).update(`${ts}.${BODY}`).digest('hex');
    expect(headers).toEqual({
      'x-relaywatch-agent': 'agent-1',
      'x-relaywatch-timestamp': ts,
      'x-relaywatch-signature': `v1=${mac}`,
    });
  });

  it('signs with several secrets, space-separated', () => {
    const headers = signRequest({ agentId: 'agent-1', secret: [SECRET, OLD_SECRET], body: BODY, now: NOW });
    expect(headers['x-relaywatch-signature']).toMatch(/^v1=[0-9a-f]{64} v1=[0-9a-f]{64}$/);
  });

  it('refuses an unsafe agent id or an empty secret', () => {
    expect(() => signRequest({ agentId: 'a b\r\n', secret: SECRET, body: BODY })).toThrow(TypeError);
    expect(() => signRequest({ agentId: 'agent-1', secret: '', body: BODY })).toThrow(TypeError);
  });
});

describe('verifyRequest', () => {
  const signed = (over: { secret?: string | string[]; body?: string | Uint8Array; now?: number } = {}) =>
    signRequest({ agentId: 'agent-1', secret: over.secret ?? SECRET, body: over.body ?? BODY, now: over.now ?? NOW });

  it('accepts a request it signed (string and bytes bodies)', async () => {
    expect(await verify({ headers: signed() })).toEqual({ ok: true, agentId: 'agent-1' });
    const bytes = new Uint8Array([0, 1, 2, 255, 10]);
    expect(await verify({ headers: signed({ body: bytes }), body: bytes })).toEqual({ ok: true, agentId: 'agent-1' });
    expect(await verify({ headers: signed(), body: Buffer.from(BODY) })).toMatchObject({ ok: true });
  });

  it('reads headers whatever their case, from a record or a Headers object', async () => {
    const h = signed();
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await verify({ headers: upper })).toMatchObject({ ok: true });
    const mixed = {
      'X-Relaywatch-Agent': h['x-relaywatch-agent'],
      'X-RelayWatch-Timestamp': h['x-relaywatch-timestamp'],
      'x-RELAYWATCH-signature': [h['x-relaywatch-signature'] as string],
    };
    expect(await verify({ headers: mixed })).toMatchObject({ ok: true });
    expect(await verify({ headers: new Headers(h) })).toMatchObject({ ok: true });
  });

  it('accepts either secret during a rotation', async () => {
    expect(await verify({ headers: signed({ secret: OLD_SECRET }) })).toMatchObject({ ok: true });
    expect(await verify({ headers: signed({ secret: SECRET }) })).toMatchObject({ ok: true });
    // an agent that already has the next secret signs with both; the ingest still knows only the old one
    const both = signed({ secret: ['next-secret-not-yet-known', OLD_SECRET] });
    expect(await verify({ headers: both })).toMatchObject({ ok: true });
  });

  it('ignores signatures of another scheme', async () => {
    const h = signed();
    const headers = { ...h, 'x-relaywatch-signature': `v2=whatever ${h['x-relaywatch-signature']}` };
    expect(await verify({ headers })).toMatchObject({ ok: true });
  });

  it.each([['x-relaywatch-agent'], ['x-relaywatch-timestamp'], ['x-relaywatch-signature']])(
    'missing-header when %s is absent or empty',
    async (name) => {
      const absent = Object.fromEntries(Object.entries(signed()).filter(([k]) => k !== name));
      expect(await verify({ headers: absent })).toMatchObject({ ok: false, reason: 'missing-header' });
      expect(await verify({ headers: { ...signed(), [name]: '  ' } })).toMatchObject({
        ok: false,
        reason: 'missing-header',
      });
    },
  );

  it.each([
    ['an agent id with spaces', { 'x-relaywatch-agent': 'agent 1' }],
    ['a timestamp with a fraction', { 'x-relaywatch-timestamp': '1800000000.5' }],
    ['a negative timestamp', { 'x-relaywatch-timestamp': '-1' }],
    ['a short signature', { 'x-relaywatch-signature': 'v1=abcd' }],
    ['a signature without a scheme', { 'x-relaywatch-signature': 'a'.repeat(64) }],
    ['only unknown schemes', { 'x-relaywatch-signature': `v0=${'a'.repeat(64)}` }],
    [
      'too many signatures',
      {
        'x-relaywatch-signature': Array(9)
          .fill(`v1=${'a'.repeat(64)}`)
          .join(' '),
      },
    ],
  ])('malformed-header for %s', async (_label, patch) => {
    expect(await verify({ headers: { ...signed(), ...patch } })).toMatchObject({
      ok: false,
      reason: 'malformed-header',
    });
  });

  it('malformed-header when a header is given twice', async () => {
    const h = signed();
    expect(
      await verify({ headers: { ...h, 'X-RELAYWATCH-AGENT': 'agent-1', 'x-relaywatch-agent': 'agent-1' } }),
    ).toMatchObject({ ok: false, reason: 'malformed-header' });
    expect(
      await verify({ headers: { ...h, 'x-relaywatch-timestamp': [String(NOW / 1000), String(NOW / 1000)] } }),
    ).toMatchObject({ ok: false, reason: 'malformed-header' });
  });

  it('unknown-agent when the agent has no secrets', async () => {
    const headers = signRequest({ agentId: 'stranger', secret: SECRET, body: BODY, now: NOW });
    expect(await verify({ headers })).toMatchObject({ ok: false, reason: 'unknown-agent' });
  });

  it('bad-signature for a tampered body, a wrong secret or a tampered timestamp', async () => {
    expect(await verify({ headers: signed(), body: `${BODY} ` })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(await verify({ headers: signed(), body: BODY.replace('77', '78') })).toMatchObject({
      reason: 'bad-signature',
    });
    expect(await verify({ headers: signed({ secret: 'wrong-secret' }) })).toMatchObject({ reason: 'bad-signature' });
    const h = signed();
    const shifted = { ...h, 'x-relaywatch-timestamp': String(NOW / 1000 - 1) };
    expect(await verify({ headers: shifted })).toMatchObject({ reason: 'bad-signature' });
    // upper-case hex of a valid signature is still that signature
    const upper = { ...h, 'x-relaywatch-signature': `v1=${h['x-relaywatch-signature']?.slice(3).toUpperCase()}` };
    expect(await verify({ headers: upper })).toMatchObject({ ok: true });
  });

  it('stale and future exactly at the tolerance boundary', async () => {
    const tolerance = 300;
    const at = (offsetSec: number) => signed({ now: NOW + offsetSec * 1000 });
    expect(await verify({ headers: at(-tolerance), toleranceSeconds: tolerance })).toMatchObject({ ok: true });
    expect(await verify({ headers: at(-tolerance - 1), toleranceSeconds: tolerance })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(await verify({ headers: at(tolerance), toleranceSeconds: tolerance })).toMatchObject({ ok: true });
    expect(await verify({ headers: at(tolerance + 1), toleranceSeconds: tolerance })).toMatchObject({
      ok: false,
      reason: 'future',
    });
    // the default tolerance is 300 s
    expect(await verify({ headers: at(-301) })).toMatchObject({ reason: 'stale' });
    expect(await verify({ headers: at(-300) })).toMatchObject({ ok: true });
  });

  it('checks the window before the signature, and the signature before the replay guard', async () => {
    const calls: string[] = [];
    const replay: ReplayGuard = {
      firstSeen: async (key) => {
        calls.push(key);
        return true;
      },
    };
    const stale = signRequest({ agentId: 'agent-1', secret: 'wrong', body: BODY, now: NOW - 400_000 });
    expect(await verify({ headers: stale, replay })).toMatchObject({ reason: 'stale' });
    expect(await verify({ headers: signed({ secret: 'wrong' }), replay })).toMatchObject({ reason: 'bad-signature' });
    expect(calls).toEqual([]);
    expect(await verify({ headers: signed(), replay })).toMatchObject({ ok: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('agent-1');
  });

  it('accepts a signed request exactly once, then reports it as replayed', async () => {
    const replay = new MemoryReplayGuard({ now: () => NOW });
    const headers = signed();
    expect(await verify({ headers, replay })).toEqual({ ok: true, agentId: 'agent-1' });
    expect(await verify({ headers, replay })).toMatchObject({ ok: false, reason: 'replayed' });
    // the same signature with junk around it, or in upper case, is the same request
    const sig = headers['x-relaywatch-signature'] as string;
    const dressed = {
      ...headers,
      'x-relaywatch-signature': `v1=${'0'.repeat(64)} ${sig.toUpperCase().replace('V1', 'v1')}`,
    };
    expect(await verify({ headers: dressed, replay })).toMatchObject({ reason: 'replayed' });
    // a new request (new body) is fresh
    expect(await verify({ headers: signed({ body: '{}' }), body: '{}', replay })).toMatchObject({ ok: true });
  });

  it('keeps replay keys for twice the tolerance', async () => {
    let clock = NOW;
    const replay = new MemoryReplayGuard({ now: () => clock });
    const headers = signed();
    const keys: number[] = [];
    const spy: ReplayGuard = {
      firstSeen: (key, expiresAtMs) => {
        keys.push(expiresAtMs);
        return replay.firstSeen(key, expiresAtMs);
      },
    };
    expect(await verify({ headers, replay: spy })).toMatchObject({ ok: true });
    expect(keys).toEqual([NOW + 600_000]);
    clock = NOW + 600_001;
    expect(await replay.firstSeen(`agent-1 ${(headers['x-relaywatch-signature'] as string).slice(3)}`, 0)).toBe(true);
  });
});

describe('MemoryReplayGuard', () => {
  it('is bounded: drops expired keys first, then the oldest', async () => {
    let clock = 1000;
    const guard = new MemoryReplayGuard({ maxEntries: 3, now: () => clock });
    expect(await guard.firstSeen('a', 2000)).toBe(true);
    expect(await guard.firstSeen('b', 5000)).toBe(true);
    expect(await guard.firstSeen('c', 5000)).toBe(true);
    expect(await guard.firstSeen('a', 2000)).toBe(false);
    clock = 2500; // a expired
    expect(await guard.firstSeen('d', 6000)).toBe(true);
    expect(guard.size).toBe(3);
    expect(await guard.firstSeen('b', 5000)).toBe(false);
    expect(await guard.firstSeen('e', 6000)).toBe(true); // full of live keys: b (oldest) goes
    expect(guard.size).toBe(3);
    expect(await guard.firstSeen('c', 5000)).toBe(false);
    expect(await guard.firstSeen('a', 7000)).toBe(true);
  });
});
