import { describe, expect, it } from 'vitest';
import { ReportGate, type ReportKey, reportKey } from '../../shared/agent/report-gate.ts';

const MIN = 60_000;
const OK: ReportKey = { diagnosis: 'ok', status: 0, egressIp: '198.51.100.77', findings: ['agent-egress-ip-ok'] };
const REFUSED: ReportKey = { diagnosis: 'relay-not-authorised', status: 2, egressIp: '198.51.100.77', findings: [] };

/** Run `keys` one per 15-minute cycle; every post is accepted unless `fails` holds its index. Returns the posted cycles. */
function run(
  keys: readonly ReportKey[],
  opts: { heartbeatMin?: number; fails?: ReadonlySet<number>; intervalMin?: number } = {},
): number[] {
  const intervalMs = (opts.intervalMin ?? 15) * MIN;
  const gate = new ReportGate({ heartbeatMs: (opts.heartbeatMin ?? 60) * MIN, intervalMs });
  const posted: number[] = [];
  keys.forEach((key, i) => {
    const at = i * intervalMs;
    if (!gate.decide(key, at).post) return;
    posted.push(i);
    if (!opts.fails?.has(i)) gate.accepted(key, at);
  });
  return posted;
}

describe('ReportGate', () => {
  it('posts the first ok report, skips repeats and posts a heartbeat every 60 minutes', () => {
    expect(run(Array(13).fill(OK))).toEqual([0, 4, 8, 12]);
  });

  it('posts a heartbeat despite the jitter making the 4th cycle a little early', () => {
    const gate = new ReportGate({ heartbeatMs: 60 * MIN, intervalMs: 15 * MIN });
    gate.accepted(OK, 0);
    expect(gate.decide(OK, 44 * MIN).post).toBe(false);
    expect(gate.decide(OK, 58 * MIN)).toEqual({ post: true, reason: 'heartbeat' });
  });

  it('posts every failing report, each one', () => {
    expect(run([OK, REFUSED, REFUSED, REFUSED, REFUSED])).toEqual([0, 1, 2, 3, 4]);
    const gate = new ReportGate({ heartbeatMs: 60 * MIN, intervalMs: 15 * MIN });
    gate.accepted(REFUSED, 0);
    expect(gate.decide(REFUSED, 15 * MIN)).toEqual({ post: true, reason: 'not-ok' });
  });

  it('posts the recovery, then skips the ok repeats again', () => {
    expect(run([OK, REFUSED, OK, OK, OK, OK, OK, OK])).toEqual([0, 1, 2, 6]);
  });

  it('posts an egress IP change of an ok report, and the loss of the IP', () => {
    const moved = { ...OK, egressIp: '203.0.113.9' };
    const lost = { ...OK, egressIp: null };
    expect(run([OK, OK, moved, moved, lost, lost])).toEqual([0, 2, 4]);
  });

  it('posts a change of findings or status of an ok report', () => {
    const warned = { ...OK, status: 1, findings: ['agent-egress-ip-changed'] };
    expect(run([OK, OK, warned, warned])).toEqual([0, 2]);
  });

  it('posts again on the next cycle when a post failed', () => {
    // cycle 0 failed to post; 1 posts (nothing accepted yet); 3 is a change whose post fails, so 4 posts it again
    const moved = { ...OK, egressIp: '203.0.113.9' };
    expect(run([OK, OK, OK, moved, moved, moved], { fails: new Set([0, 3]) })).toEqual([0, 1, 3, 4]);
  });

  it('posts every cycle with heartbeat 0 or a heartbeat equal to the interval', () => {
    expect(run(Array(5).fill(OK), { heartbeatMin: 0 })).toEqual([0, 1, 2, 3, 4]);
    expect(run(Array(5).fill(OK), { heartbeatMin: 15 })).toEqual([0, 1, 2, 3, 4]);
  });

  it('counts the ok cycles it held back for the next report, until the ingest accepts one, a failure included', () => {
    const gate = new ReportGate({ heartbeatMs: 60 * MIN, intervalMs: 15 * MIN });
    const held: number[] = [];
    const cycle = (key: ReportKey, i: number, accept = true) => {
      const at = i * 15 * MIN;
      if (!gate.decide(key, at).post) {
        gate.skipped();
        return;
      }
      held.push(gate.unpostedOk());
      if (accept) gate.accepted(key, at);
    };
    // 0 posted; 1, 2 held; 3 a failure carries them; 4 the recovery; 5-7 held; 8 heartbeat post fails; 9 carries 3.
    for (const [i, k] of [OK, OK, OK, REFUSED, OK, OK, OK, OK].entries()) cycle(k, i);
    cycle(OK, 8, false);
    cycle(OK, 9);
    expect(held).toEqual([0, 2, 0, 3, 3]);
    expect(gate.unpostedOk()).toBe(0);
  });

  it('refuses a negative heartbeat', () => {
    expect(() => new ReportGate({ heartbeatMs: -1, intervalMs: MIN })).toThrow(RangeError);
  });

  it('keys a report by diagnosis, status, egress IP and sorted finding codes', () => {
    expect(
      reportKey({
        egress: { ok: true, ip: '192.0.2.1' },
        findings: [{ code: 'b' }, { code: 'a' }],
        diagnosis: 'ok',
        status: 0,
      }),
    ).toEqual({ diagnosis: 'ok', status: 0, egressIp: '192.0.2.1', findings: ['a', 'b'] });
    expect(reportKey({ egress: { ok: false }, findings: [], diagnosis: 'timeout', status: 1 }).egressIp).toBeNull();
  });
});
