import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { staticAgentRegistry } from '../../shared/ingest/registry.ts';
import {
  agentSecretProblem,
  canonicalString,
  generateAgentSecret,
  MemoryReplayGuard,
  type ReplayGuard,
  ReplayGuardFullError,
  signRequest,
  UNAUTHORIZED_MESSAGE,
  type VerifyInput,
  verifyRequest,
} from '../../shared/ingest/signature.ts';

const NOW = 1_800_000_000_000; // ms
const SECRET = `rwas_${Buffer.alloc(32, 1).toString('base64url')}`;
const OLD_SECRET = `rwas_${Buffer.alloc(32, 2).toString('base64url')}`;
const NEXT_SECRET = `rwas_${Buffer.alloc(32, 3).toString('base64url')}`;
const OTHER_SECRET = `rwas_${Buffer.alloc(32, 4).toString('base64url')}`;
const URL_ = 'https://ingest.example/agent/report';
const TARGET = { method: 'POST', host: 'ingest.example', path: '/agent/report' };
const report = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    schema: 'relaywatch.agent-report/v1',
    agentId: 'agent-1',
    tenant: { id: 'contoso', name: 'Contoso' },
    egress: { ok: true, ip: '198.51.100.77', method: 'dns:x', attempts: [] },
    ...over,
  });
const BODY = report();

const registry = staticAgentRegistry([
  { agentId: 'agent-1', tenantId: 'contoso', secrets: [SECRET, OLD_SECRET] },
  { agentId: 'site-zzz', tenantId: 'fabrikam', secrets: [OTHER_SECRET] },
]);

function verify(overrides: Partial<VerifyInput> & Pick<VerifyInput, 'headers'>) {
  return verifyRequest({
    body: BODY,
    request: TARGET,
    sourceIp: '198.51.100.77',
    agentFor: registry.agentFor,
    now: NOW,
    replay: new MemoryReplayGuard({ now: () => NOW }),
    ...overrides,
  });
}

const signed = (
  over: { secret?: string | string[]; body?: string | Uint8Array; now?: number; agentId?: string; url?: string } = {},
) =>
  signRequest({
    agentId: over.agentId ?? 'agent-1',
    secret: over.secret ?? SECRET,
    body: over.body ?? BODY,
    url: over.url ?? URL_,
    now: over.now ?? NOW,
  });

describe('agent secrets', () => {
  it('generates rwas_ + 32 random bytes and accepts them', () => {
    const a = generateAgentSecret();
    expect(a).toMatch(/^rwas_[A-Za-z0-9_-]{43}$/);
    expect(generateAgentSecret()).not.toBe(a);
    expect(agentSecretProblem(a)).toBeNull();
  });

  it('refuses a secret without the prefix, too short, or with other characters, never echoing it', () => {
    for (const weak of ['current-secret-0123456789', `rwas_${'a'.repeat(42)}`, `rwas_${'a'.repeat(43)}!`, 'rwas_']) {
      const problem = agentSecretProblem(weak);
      expect(problem, weak).not.toBeNull();
      expect(problem).not.toContain(weak.slice(5, 15) || 'rwas_x');
    }
    expect(() => signed({ secret: 'current-secret-0123456789' })).toThrow(TypeError);
  });
});

describe('signRequest', () => {
  it('signs the v2 canonical string: version, agent, timestamp, method, host, path, body SHA-256', () => {
    const headers = signRequest({ agentId: 'agent-1', secret: SECRET, body: BODY, url: `${URL_}?a=1`, now: NOW + 999 });
    const ts = String(NOW / 1000);
    const hash = createHash('sha256').update(BODY).digest('hex');
    const canonical = `relaywatch-signature-v2\nagent-1\n${ts}\nPOST\ningest.example\n/agent/report?a=1\n${hash}`;
    expect(canonicalString('agent-1', ts, { ...TARGET, path: '/agent/report?a=1' }, hash)).toBe(canonical);
    const mac = createHmac('sha256', SECRET).update(canonical).digest('hex');
    expect(headers).toEqual({
      'x-relaywatch-agent': 'agent-1',
      'x-relaywatch-timestamp': ts,
      'x-relaywatch-signature': `v2=${mac}`,
    });
  });

  it('signs with several secrets, space-separated', () => {
    expect(signed({ secret: [SECRET, OLD_SECRET] })['x-relaywatch-signature']).toMatch(
      /^v2=[0-9a-f]{64} v2=[0-9a-f]{64}$/,
    );
  });

  it('refuses an unsafe agent id or a relative URL', () => {
    expect(() => signed({ agentId: 'a b\r\n' })).toThrow(TypeError);
    expect(() => signed({ url: '/agent/report' })).toThrow(TypeError);
  });
});

describe('verifyRequest', () => {
  it('accepts a request it signed and returns the registry tenant and both addresses', async () => {
    expect(await verify({ headers: signed() })).toMatchObject({
      ok: true,
      agentId: 'agent-1',
      tenantId: 'contoso',
      sourceIp: '198.51.100.77',
      reportedEgressIp: '198.51.100.77',
      egressMatchesSource: true,
      actionableEgressIp: '198.51.100.77',
    });
    const bytes = new TextEncoder().encode(BODY);
    expect(await verify({ headers: signed({ body: bytes }), body: bytes })).toMatchObject({ ok: true });
    expect(await verify({ headers: signed(), body: Buffer.from(BODY) })).toMatchObject({ ok: true });
  });

  it('shows a reported egress IP that differs from the source address as advice only', async () => {
    const r = await verify({ headers: signed(), sourceIp: '203.0.113.66' });
    expect(r).toMatchObject({
      ok: true,
      sourceIp: '203.0.113.66',
      reportedEgressIp: '198.51.100.77',
      egressMatchesSource: false,
      actionableEgressIp: null,
    });
    // IPv4-mapped IPv6 source (as a dual-stack listener gives it) is the same address
    expect(await verify({ headers: signed(), sourceIp: '::ffff:198.51.100.77' })).toMatchObject({
      egressMatchesSource: true,
    });
    expect(await verify({ headers: signed(), sourceIp: null })).toMatchObject({ actionableEgressIp: null });
  });

  it('refuses a report for another tenant signed with a valid secret (the proof of issue 15)', async () => {
    // agent-1 (contoso) signs a body that claims fabrikam and site-zzz
    const forged = report({ tenant: { id: 'fabrikam', name: 'Fabrikam' }, agentId: 'site-zzz' });
    expect(await verify({ headers: signed({ body: forged }), body: forged })).toMatchObject({
      ok: false,
      reason: 'wrong-agent',
      status: 403,
    });
    const otherTenant = report({ tenant: { id: 'fabrikam', name: 'Fabrikam' } });
    expect(await verify({ headers: signed({ body: otherTenant }), body: otherTenant })).toMatchObject({
      ok: false,
      reason: 'wrong-tenant',
      status: 403,
    });
    const noTenant = report({ tenant: undefined });
    expect(await verify({ headers: signed({ body: noTenant }), body: noTenant })).toMatchObject({
      reason: 'wrong-tenant',
    });
    expect(await verify({ headers: signed({ body: '[1]' }), body: '[1]' })).toMatchObject({ reason: 'malformed-body' });
  });

  it('binds method, host and path: a signature for one endpoint fails at another', async () => {
    const h = signed();
    for (const request of [
      { ...TARGET, path: '/agent/other' },
      { ...TARGET, host: 'evil.example' },
      { ...TARGET, method: 'PUT' },
      { ...TARGET, path: '/agent/report?x=1' },
    ]) {
      expect(await verify({ headers: h, request }), JSON.stringify(request)).toMatchObject({ reason: 'unauthorized' });
    }
    // host case and the default https port do not matter
    expect(await verify({ headers: h, request: { ...TARGET, host: 'INGEST.example:443' } })).toMatchObject({
      ok: true,
    });
  });

  it('gives an unknown agent and a bad signature the same 401 and message', async () => {
    const unknown = await verify({ headers: signed({ agentId: 'stranger' }) });
    const bad = await verify({ headers: signed({ secret: NEXT_SECRET }) });
    const tampered = await verify({ headers: signed(), body: `${BODY} ` });
    for (const r of [unknown, bad, tampered]) {
      expect(r).toEqual({ ok: false, reason: 'unauthorized', message: UNAUTHORIZED_MESSAGE, status: 401 });
    }
  });

  it('does not accept v1 signatures (decision: v2 only, see the module comment)', async () => {
    const ts = String(NOW / 1000);
    const v1 = createHmac('sha256', SECRET).update(`${ts}.${BODY}`).digest('hex');
    const headers = { ...signed(), 'x-relaywatch-signature': `v1=${v1}` };
    expect(await verify({ headers })).toMatchObject({ ok: false, reason: 'unauthorized' });
  });

  it('reads headers whatever their case, from a record or a Headers object', async () => {
    const h = signed();
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await verify({ headers: upper })).toMatchObject({ ok: true });
    expect(await verify({ headers: new Headers(h) })).toMatchObject({ ok: true });
  });

  it('accepts either secret during a rotation', async () => {
    expect(await verify({ headers: signed({ secret: OLD_SECRET }) })).toMatchObject({ ok: true });
    expect(await verify({ headers: signed({ secret: [NEXT_SECRET, OLD_SECRET] }) })).toMatchObject({ ok: true });
  });

  it.each([['x-relaywatch-agent'], ['x-relaywatch-timestamp'], ['x-relaywatch-signature']])(
    'missing-header when %s is absent or empty',
    async (name) => {
      const absent = Object.fromEntries(Object.entries(signed()).filter(([k]) => k !== name));
      expect(await verify({ headers: absent })).toMatchObject({ ok: false, reason: 'missing-header', status: 400 });
      expect(await verify({ headers: { ...signed(), [name]: '  ' } })).toMatchObject({ reason: 'missing-header' });
    },
  );

  it.each([
    ['an agent id with spaces', { 'x-relaywatch-agent': 'agent 1' }],
    ['a timestamp with a fraction', { 'x-relaywatch-timestamp': '1800000000.5' }],
    ['a short signature', { 'x-relaywatch-signature': 'v2=abcd' }],
    ['a signature without a scheme', { 'x-relaywatch-signature': 'a'.repeat(64) }],
    [
      'too many signatures',
      {
        'x-relaywatch-signature': Array(9)
          .fill(`v2=${'a'.repeat(64)}`)
          .join(' '),
      },
    ],
  ])('malformed-header for %s', async (_label, patch) => {
    expect(await verify({ headers: { ...signed(), ...patch } })).toMatchObject({ reason: 'malformed-header' });
  });

  it('stale and future just past the tolerance, accepted exactly at it', async () => {
    const at = (offsetSec: number) => signed({ now: NOW + offsetSec * 1000 });
    expect(await verify({ headers: at(-300) })).toMatchObject({ ok: true });
    expect(await verify({ headers: at(-301) })).toMatchObject({ reason: 'stale', status: 401 });
    expect(await verify({ headers: at(300) })).toMatchObject({ ok: true });
    expect(await verify({ headers: at(301) })).toMatchObject({ reason: 'future' });
  });

  it('checks the window, then the signature, then the body, and only then the replay guard', async () => {
    const calls: string[] = [];
    const replay: ReplayGuard = {
      firstSeen: async (key) => {
        calls.push(key);
        return true;
      },
    };
    expect(await verify({ headers: signed({ now: NOW - 400_000, secret: NEXT_SECRET }), replay })).toMatchObject({
      reason: 'stale',
    });
    expect(await verify({ headers: signed({ secret: NEXT_SECRET }), replay })).toMatchObject({
      reason: 'unauthorized',
    });
    const forged = report({ tenant: { id: 'fabrikam' } });
    expect(await verify({ headers: signed({ body: forged }), body: forged, replay })).toMatchObject({
      reason: 'wrong-tenant',
    });
    expect(calls).toEqual([]);
    expect(await verify({ headers: signed(), replay })).toMatchObject({ ok: true });
    const hash = createHash('sha256').update(BODY).digest('hex');
    expect(calls).toEqual([`agent-1\n${NOW / 1000}\n${hash}`]);
  });

  it('is replayed whichever signature token is kept: rotation does not give a second use', async () => {
    const replay = new MemoryReplayGuard({ now: () => NOW });
    const both = signed({ secret: [SECRET, OLD_SECRET] });
    expect(await verify({ headers: both, replay })).toMatchObject({ ok: true });
    const [first, second] = (both['x-relaywatch-signature'] as string).split(' ');
    for (const token of [first, second, `${second} ${first}`]) {
      const headers = { ...both, 'x-relaywatch-signature': token as string };
      expect(await verify({ headers, replay })).toMatchObject({ ok: false, reason: 'replayed', status: 409 });
    }
    // a new body is a new request
    const other = report({ at: 'later' });
    expect(await verify({ headers: signed({ body: other }), body: other, replay })).toMatchObject({ ok: true });
  });

  it('keeps the replay key until the timestamp can no longer be accepted (no replay at the boundary)', async () => {
    let clock = NOW - 300_000 + 1; // the request arrives as early as it may: its timestamp is 300 s ahead
    const replay = new MemoryReplayGuard({ now: () => clock });
    const expiries: number[] = [];
    const spy: ReplayGuard = {
      firstSeen: (key, expiresAtMs) => {
        expiries.push(expiresAtMs);
        return replay.firstSeen(key, expiresAtMs);
      },
    };
    const headers = signed({ now: NOW });
    expect(await verify({ headers, replay: spy, now: clock })).toMatchObject({ ok: true });
    expect(expiries).toEqual([NOW + 301_000]);
    // the last millisecond at which the timestamp is still inside the window: still a replay
    clock = NOW + 300_999;
    expect(await verify({ headers, replay: spy, now: clock })).toMatchObject({ reason: 'replayed' });
    clock = NOW + 301_000;
    expect(await verify({ headers, replay: spy, now: clock })).toMatchObject({ reason: 'stale' });
  });
});

describe('MemoryReplayGuard', () => {
  it('drops expired keys when full, and refuses (rejects) rather than forget a live key', async () => {
    let clock = 1000;
    const guard = new MemoryReplayGuard({ maxEntries: 2, now: () => clock });
    expect(await guard.firstSeen('a', 2000)).toBe(true);
    expect(await guard.firstSeen('b', 5000)).toBe(true);
    await expect(guard.firstSeen('c', 5000)).rejects.toBeInstanceOf(ReplayGuardFullError);
    expect(await guard.firstSeen('a', 2000)).toBe(false);
    expect(await guard.firstSeen('b', 5000)).toBe(false);
    clock = 2000; // a expired
    expect(await guard.firstSeen('c', 6000)).toBe(true);
    expect(guard.size).toBe(2);
    expect(await guard.firstSeen('b', 5000)).toBe(false);
  });

  it('makes verifyRequest reject (an infrastructure failure, 5xx) when full', async () => {
    const replay = new MemoryReplayGuard({ maxEntries: 1, now: () => NOW });
    expect(await verify({ headers: signed(), replay })).toMatchObject({ ok: true });
    const other = report({ at: 'x' });
    await expect(verify({ headers: signed({ body: other }), body: other, replay })).rejects.toBeInstanceOf(
      ReplayGuardFullError,
    );
  });
});

describe('staticAgentRegistry', () => {
  it('maps each agent to exactly one tenant and refuses weak secrets', async () => {
    expect(await registry.agentFor('agent-1')).toEqual({ tenantId: 'contoso', secrets: [SECRET, OLD_SECRET] });
    expect(await registry.agentFor('nobody')).toBeNull();
    expect(() =>
      staticAgentRegistry([
        { agentId: 'a', tenantId: 't1', secrets: [SECRET] },
        { agentId: 'a', tenantId: 't2', secrets: [OLD_SECRET] },
      ]),
    ).toThrow(/more than once/);
    expect(() => staticAgentRegistry([{ agentId: 'a', tenantId: 't', secrets: ['short'] }])).toThrow(/rwas_/);
  });
});
