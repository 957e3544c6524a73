import { describe, expect, it } from 'vitest';
import {
  EMPTY_DELIVERY,
  isDeliveryStuck,
  pendingNotifications,
  recordDelivery,
  STUCK_AFTER_FAILURES,
} from '../../../shared/incidents/deliveries.ts';
import { isSuppressed } from '../../../shared/incidents/suppression.ts';
import { HOUR, MINUTE, plain, Simulator, T0 } from './helpers.ts';

const fail = () => ({ ok: false as const, error: 'HTTP 503 from https://hooks.example' });

describe('pendingNotifications and recordDelivery', () => {
  it('keeps a failed send pending, retries it, and delivers it once', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    for (let i = 0; i < 3; i++) sim.deliver(['slack'], T0 + i * HOUR, fail);
    expect(sim.only().deliveries.slack).toMatchObject({
      opened: null,
      failures: 3,
      lastError: 'HTTP 503 from https://hooks.example',
    });
    sim.deliver(['slack'], T0 + 3 * HOUR);
    expect(sim.only().deliveries.slack).toEqual({
      ...EMPTY_DELIVERY,
      opened: new Date(T0 + 3 * HOUR).toISOString(),
    });
    expect(sim.deliver(['slack'], T0 + 4 * HOUR)).toEqual([]);
    const attempts = sim.sent.filter((s) => s.kind === 'opened');
    expect(attempts.map((s) => s.ok)).toEqual([false, false, false, true]);
    expect(new Set(attempts.map((s) => s.key)).size).toBe(1);
  });

  it('gives each route and each episode of a re-opened incident its own delivery key', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    const first = pendingNotifications(sim.only(), ['slack', 'email'], sim.policy, new Date(T0), false);
    expect(first.map((p) => p.key)).toHaveLength(2);
    expect(new Set(first.map((p) => p.key)).size).toBe(2);
    expect(first.every((p) => p.threadKey === p.key)).toBe(true);
    sim.deliver(['slack', 'email'], T0);
    sim.step('pass', T0 + HOUR);
    const resolved = pendingNotifications(sim.only(), ['email'], sim.policy, new Date(T0 + HOUR), false);
    expect(resolved[0]?.threadKey).toBe(first[1]?.key);
    sim.deliver(['slack', 'email'], T0 + HOUR);
    sim.step('fail', T0 + 2 * HOUR);
    const again = pendingNotifications(sim.only(), ['email'], sim.policy, new Date(T0 + 2 * HOUR), false);
    expect(again.map((p) => p.kind)).toEqual(['opened']);
    expect(again[0]?.key).not.toBe(first[1]?.key);
  });

  it('does not send a lone resolved to a route that never got opened', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    sim.deliver(['slack', 'teams'], T0, (n) => (n.route === 'teams' ? fail() : { ok: true }));
    sim.step('pass', T0 + HOUR);
    expect(
      pendingNotifications(sim.only(), ['slack', 'teams', 'email'], sim.policy, new Date(T0 + HOUR), false),
    ).toEqual([
      {
        route: 'slack',
        kind: 'resolved',
        key: expect.stringMatching(/-resolved\/slack$/),
        threadKey: expect.stringMatching(/-opened\/slack$/),
      },
    ]);
  });

  it('keeps resolved pending until it is delivered, then sends nothing more', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    sim.deliver(['slack'], T0);
    sim.step('pass', T0 + HOUR);
    sim.deliver(['slack'], T0 + HOUR, fail);
    sim.deliver(['slack'], T0 + 2 * HOUR);
    expect(sim.deliver(['slack'], T0 + 3 * HOUR)).toEqual([]);
    expect(sim.sent.map((s) => `${s.kind}:${s.ok}`)).toEqual(['opened:true', 'resolved:false', 'resolved:true']);
  });

  it('continues the incident for a route whose resolved was never delivered when it re-opens', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    sim.deliver(['slack', 'teams'], T0);
    sim.step('pass', T0 + HOUR);
    sim.deliver(['slack', 'teams'], T0 + HOUR, (n) => (n.route === 'teams' ? fail() : { ok: true }));
    sim.step('fail', T0 + 10 * HOUR);
    const pending = pendingNotifications(sim.only(), ['slack', 'teams'], sim.policy, new Date(T0 + 10 * HOUR), false);
    expect(pending.map((p) => `${p.route}:${p.kind}`)).toEqual(['slack:opened']);
  });

  it('ignores a resolved result recorded after the incident opened again', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    sim.deliver(['slack'], T0);
    const open = sim.only();
    expect(recordDelivery(open, 'slack', 'resolved', { ok: true }, new Date(T0 + HOUR))).toBe(open);
  });

  it('notes a route that keeps failing, and keeps retrying it', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    for (let i = 0; i < STUCK_AFTER_FAILURES; i++) sim.deliver(['webhook'], T0 + i * MINUTE, fail);
    const d = sim.only().deliveries.webhook!;
    expect(isDeliveryStuck(d)).toBe(true);
    expect(d.lastError).toMatch(/^10 failed attempts in a row, still retrying: HTTP 503/);
    expect(pendingNotifications(sim.only(), ['webhook'], sim.policy, new Date(T0 + HOUR), false)).toHaveLength(1);
  });

  it('cleans and bounds the stored error', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    const inc = recordDelivery(
      sim.only(),
      'r',
      'opened',
      { ok: false, error: `a\r\nb${'x'.repeat(900)}` },
      new Date(T0),
    );
    expect(inc.deliveries.r?.lastError).toMatch(/^a bx+…$/);
    expect(inc.deliveries.r?.lastError?.length).toBe(500);
  });

  it('sends reminders from the reminder grid, not from a late opened', () => {
    const sim = new Simulator(plain(1, 1, { remindEveryMs: 24 * HOUR }));
    sim.step('fail', T0);
    sim.deliver(['slack'], T0);
    expect(sim.deliver(['slack'], T0 + 24 * HOUR - 1)).toEqual([]);
    expect(sim.deliver(['slack'], T0 + 24 * HOUR).map((s) => [s.kind, s.key.endsWith('-reminder-1/slack')])).toEqual([
      ['reminder', true],
    ]);
    expect(sim.deliver(['slack'], T0 + 30 * HOUR)).toEqual([]);
    // A route that was told late (it failed until 30 h) gets its first reminder at 48 h, not at once.
    sim.deliver(['teams'], T0, fail);
    sim.deliver(['teams'], T0 + 30 * HOUR);
    expect(sim.deliver(['teams'], T0 + 31 * HOUR)).toEqual([]);
    expect(sim.deliver(['slack', 'teams'], T0 + 48 * HOUR).map((s) => `${s.route}:${s.kind}`)).toEqual([
      'slack:reminder',
      'teams:reminder',
    ]);
  });

  it('sends escalated once, instead of the reminder due at the same time', () => {
    const sim = new Simulator(plain(1, 1, { remindEveryMs: 24 * HOUR, escalateAfterMs: 72 * HOUR }));
    sim.step('fail', T0);
    const kinds: string[] = [];
    for (let h = 0; h <= 100; h++) {
      if (h === 72) sim.step('fail', T0 + h * HOUR);
      kinds.push(...sim.deliver(['slack'], T0 + h * HOUR).map((s) => `${h}:${s.kind}`));
    }
    expect(kinds).toEqual(['0:opened', '24:reminder', '48:reminder', '72:escalated', '96:reminder']);
    expect(sim.only().severity).toBe('critical');
  });

  it('sends one flapping notification instead of one per transition', () => {
    const sim = new Simulator(plain(1, 1, { flapping: { transitions: 3, withinMs: 6 * HOUR } }));
    const steps = ['fail', 'pass', 'fail', 'pass', 'fail', 'pass', 'fail', 'pass', 'pass'] as const;
    steps.forEach((s, i) => {
      sim.step(s, T0 + i * HOUR);
      sim.deliver(['slack'], T0 + i * HOUR);
    });
    for (let h = 9; h < 20; h++) {
      sim.step('pass', T0 + h * HOUR);
      sim.deliver(['slack'], T0 + h * HOUR);
    }
    expect(sim.sent.map((s) => s.kind)).toEqual(['opened', 'resolved', 'flapping', 'resolved']);
    expect(sim.only().status).toBe('resolved');
  });

  it('holds notifications during a window and sends what is still due when it ends', () => {
    const settings = { maintenance: [{ from: '2026-03-02T00:00:00Z', until: '2026-03-02T06:00:00Z' }] };
    const sim = new Simulator(plain(1, 1));
    const cycle = (h: number, step: 'fail' | 'pass', routes = ['slack']) => {
      sim.step(step, T0 + h * HOUR);
      const now = new Date(T0 + h * HOUR);
      return sim.deliver(
        routes,
        now.getTime(),
        undefined,
        isSuppressed(settings, 'probe-relay', 'relay', now).suppressed,
      );
    };
    expect(cycle(1, 'fail')).toEqual([]);
    expect(sim.only().status).toBe('open');
    expect(cycle(5, 'fail')).toEqual([]);
    expect(cycle(6, 'fail').map((s) => s.kind)).toEqual(['opened']);
  });

  it('never announces an incident that opened and resolved inside a window', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    sim.deliver(['slack'], T0, undefined, true);
    sim.step('pass', T0 + HOUR);
    sim.deliver(['slack'], T0 + HOUR, undefined, true);
    expect(sim.deliver(['slack'], T0 + 10 * HOUR)).toEqual([]);
  });
});
