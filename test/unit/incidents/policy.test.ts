import { describe, expect, it } from 'vitest';
import { policyFor } from '../../../shared/incidents/config.ts';
import { incidentId } from '../../../shared/incidents/id.ts';
import { decide, failingOf, MAX_FLAPS } from '../../../shared/incidents/policy.ts';
import { HOUR, MINUTE, observation, plain, Simulator, type Step, T0 } from './helpers.ts';

describe('decide: thresholds', () => {
  const cases: ReadonlyArray<{
    name: string;
    open: number;
    resolve: number;
    steps: Step[];
    actions: string[];
  }> = [
    {
      name: 'opens after 2 failures and resolves after 2 passes',
      open: 2,
      resolve: 2,
      steps: ['fail', 'fail', 'pass', 'pass'],
      actions: ['none', 'open', 'none', 'resolve'],
    },
    {
      name: 'never opens when failures alternate with passes',
      open: 2,
      resolve: 2,
      steps: ['fail', 'pass', 'fail', 'pass', 'fail'],
      actions: ['none', 'none', 'none', 'none', 'none'],
    },
    {
      name: 'opens and resolves on the first sighting with 1/1 (blocklists)',
      open: 1,
      resolve: 1,
      steps: ['pass', 'fail', 'fail', 'pass', 'pass'],
      actions: ['none', 'open', 'none', 'resolve', 'none'],
    },
    {
      name: 'a single pass among failures does not resolve',
      open: 2,
      resolve: 2,
      steps: ['fail', 'fail', 'pass', 'fail', 'pass', 'pass'],
      actions: ['none', 'open', 'none', 'none', 'none', 'resolve'],
    },
    {
      name: 'skips an unknown in the middle of failures (no reset, no action)',
      open: 2,
      resolve: 2,
      steps: ['fail', 'unknown', 'unknown', 'fail'],
      actions: ['none', 'none', 'none', 'open'],
    },
    {
      name: 'skips an unknown in the middle of passes (no reset, no action)',
      open: 2,
      resolve: 2,
      steps: ['fail', 'fail', 'pass', 'unknown', 'pass'],
      actions: ['none', 'open', 'none', 'none', 'resolve'],
    },
    {
      name: 'never opens or resolves on unknown alone',
      open: 1,
      resolve: 1,
      steps: ['unknown', 'unknown', 'fail', 'unknown', 'unknown'],
      actions: ['none', 'none', 'open', 'none', 'none'],
    },
    {
      name: 'counts a warn as a pass',
      open: 2,
      resolve: 2,
      steps: ['fail', 'fail', 'warn', 'warn'],
      actions: ['none', 'open', 'none', 'resolve'],
    },
    {
      name: 'opens on a warn the caller marks failing',
      open: 2,
      resolve: 1,
      steps: ['warn!', 'warn!', 'warn'],
      actions: ['none', 'open', 'resolve'],
    },
    {
      name: 're-opens the incident after it resolved',
      open: 1,
      resolve: 1,
      steps: ['fail', 'pass', 'fail', 'pass'],
      actions: ['open', 'resolve', 'reopen', 'resolve'],
    },
    {
      name: 'waits for 3 failures with openAfter 3',
      open: 3,
      resolve: 1,
      steps: ['fail', 'fail', 'unknown', 'fail', 'fail', 'pass'],
      actions: ['none', 'none', 'none', 'open', 'none', 'resolve'],
    },
  ];
  it.each(cases)('$name', ({ open, resolve, steps, actions }) => {
    expect(new Simulator(plain(open, resolve)).run(steps)).toEqual(actions);
  });

  it('keeps the counters in SubjectState: unknown changes neither, and is recorded as the last status', () => {
    const sim = new Simulator(plain(3, 2));
    sim.run(['fail', 'fail', 'unknown']);
    expect(sim.state).toMatchObject({ consecutiveFails: 2, consecutivePasses: 0, lastStatus: 'unknown', version: 3 });
    sim.step('pass', T0 + 5 * HOUR);
    expect(sim.state).toMatchObject({
      consecutiveFails: 0,
      consecutivePasses: 1,
      lastStatus: 'pass',
      lastRunId: 'run-4',
    });
  });

  it('keeps the fingerprint unless the observation carries one', () => {
    const sim = new Simulator(plain(2, 2));
    sim.step('pass', T0, { fingerprint: 'f1', fingerprintValue: 'v=spf1 -all' });
    sim.step('pass', T0 + HOUR);
    expect(sim.state).toMatchObject({ fingerprint: 'f1', fingerprintValue: 'v=spf1 -all' });
    sim.step('pass', T0 + 2 * HOUR, { fingerprint: null, fingerprintValue: null });
    expect(sim.state).toMatchObject({ fingerprint: null, fingerprintValue: null });
  });

  it('defaults failing from the status', () => {
    expect(['pass', 'warn', 'fail', 'unknown'].map((status) => failingOf({ status: status as 'pass' }))).toEqual([
      false,
      false,
      true,
      null,
    ]);
    expect(failingOf({ status: 'fail', failing: null })).toBeNull();
  });

  it('ignores a retried run and a late observation', () => {
    const sim = new Simulator(plain(1, 1));
    const first = observation('fail', T0 + HOUR, 'run-x');
    expect(sim.observe(first).changes.map((c) => c.action)).toEqual(['open']);
    const again = sim.observe(first, T0 + 2 * HOUR);
    expect(again).toMatchObject({ ignored: 'duplicate', changes: [] });
    const late = sim.observe(observation('pass', T0, 'run-old'), T0 + 2 * HOUR);
    expect(late).toMatchObject({ ignored: 'stale', changes: [] });
    expect(sim.only().status).toBe('open');
    expect(sim.state?.version).toBe(1);
  });

  it('returns the versions to write with, and keeps version as given', () => {
    const sim = new Simulator(plain(1, 1));
    const d1 = sim.step('fail', T0);
    expect(d1.stateExpectedVersion).toBeNull();
    expect(d1.changes[0]).toMatchObject({ expectedVersion: null, incident: { version: 0 } });
    const d2 = sim.step('pass', T0 + HOUR);
    expect(d2.stateExpectedVersion).toBe(1);
    expect(d2.changes[0]).toMatchObject({ action: 'resolve', expectedVersion: 1, incident: { version: 1 } });
  });

  it('refuses inputs that do not belong together', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    const inc = sim.only();
    const obs = observation('fail', T0 + HOUR, 'r2', { subject: 'other' });
    expect(() => decide({ state: null, incidents: [inc] }, obs, sim.policy, new Date(T0 + HOUR))).toThrow(TypeError);
    expect(() =>
      decide({ state: null, incidents: [inc, inc] }, observation('pass', T0, 'r'), sim.policy, new Date(T0)),
    ).toThrow(/two incidents/);
    expect(() =>
      decide({ state: null, incidents: [] }, observation('fail', T0, 'r', { problem: '' }), sim.policy, new Date(T0)),
    ).toThrow(/needs a problem/);
    expect(() =>
      decide({ state: null, incidents: [] }, observation('pass', T0, 'r'), sim.policy, new Date(Number.NaN)),
    ).toThrow(RangeError);
  });
});

describe('decide: problems', () => {
  it('opens a new problem at once while the subject keeps failing; both resolve on the same passes', () => {
    const sim = new Simulator(plain(2, 2));
    expect(sim.run(['fail:A', 'fail:A', 'fail:B', 'fail:B', 'pass', 'pass'])).toEqual([
      'none',
      'open',
      'open',
      'none',
      'none',
      'resolve+resolve',
    ]);
    const byProblem = Object.fromEntries([...sim.incidents.values()].map((i) => [i.problem, i]));
    expect(byProblem.A?.status).toBe('resolved');
    expect(byProblem.B?.id).toBe(incidentId('contoso', 'probe-relay', 'relay', 'B'));
  });

  it('does not treat a different failure as a pass for the old problem', () => {
    const sim = new Simulator(plain(1, 1));
    sim.run(['fail:A', 'fail:B', 'fail:B']);
    expect([...sim.incidents.values()].map((i) => [i.problem, i.status])).toEqual([
      ['A', 'open'],
      ['B', 'open'],
    ]);
  });

  it('keeps the latest detail and title, and never lowers the severity while open', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0, { severity: 'critical', detail: 'first' });
    const d = sim.step('fail', T0 + HOUR, { severity: 'warning', detail: 'second' });
    expect(d.changes.map((c) => c.action)).toEqual(['none']);
    expect(sim.only()).toMatchObject({
      severity: 'critical',
      lastDetail: 'second',
      updatedAt: d.changes[0]?.incident.updatedAt,
    });
    const same = sim.step('fail', T0 + 2 * HOUR, { severity: 'warning', detail: 'second' });
    expect(same.changes).toEqual([]);
  });
});

describe('decide: re-open', () => {
  it('reuses the id and the record, with a new openedAt and fresh deliveries', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0);
    const first = sim.only();
    sim.deliver(['slack'], T0);
    sim.step('pass', T0 + HOUR);
    sim.deliver(['slack'], T0 + HOUR);
    const d = sim.step('fail', T0 + 10 * HOUR);
    expect(d.changes[0]).toMatchObject({ action: 'reopen', expectedVersion: sim.only().version - 1 });
    const again = sim.only();
    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({
      status: 'open',
      openedAt: new Date(T0 + 10 * HOUR).toISOString(),
      resolvedAt: null,
      deliveries: {},
    });
    expect(sim.incidents.size).toBe(1);
  });
});

describe('decide: reminders and escalation', () => {
  it('reminds at exactly the interval, on a grid from openedAt', () => {
    const sim = new Simulator(plain(1, 1, { remindEveryMs: 24 * HOUR }));
    const times = [0, 24 * HOUR - 1, 24 * HOUR, 25 * HOUR, 47 * HOUR, 48 * HOUR, 48 * HOUR + MINUTE];
    const actions = times.map(
      (t) =>
        sim
          .step('fail', T0 + t)
          .changes.map((c) => c.action)
          .join() || 'none',
    );
    expect(actions).toEqual(['open', 'none', 'remind', 'none', 'none', 'remind', 'none']);
  });

  it('escalates once after escalateAfter and raises the severity one step', () => {
    const sim = new Simulator(plain(1, 1, { remindEveryMs: 24 * HOUR, escalateAfterMs: 72 * HOUR }));
    const times = [0, 24, 48, 71, 72, 73, 96];
    const actions = times.map(
      (h) =>
        sim
          .step('fail', T0 + h * HOUR)
          .changes.map((c) => c.action)
          .join() || 'none',
    );
    expect(actions).toEqual(['open', 'remind', 'remind', 'none', 'escalate', 'none', 'remind']);
    expect(sim.only().severity).toBe('critical');
  });

  it('escalates on an unknown observation too (the incident is still open)', () => {
    const sim = new Simulator(plain(1, 1, { escalateAfterMs: 2 * HOUR }));
    sim.step('fail', T0, { severity: 'info' });
    expect(sim.step('unknown', T0 + 3 * HOUR).changes.map((c) => c.action)).toEqual(['escalate']);
    expect(sim.only().severity).toBe('warning');
  });

  it('never escalates when escalateAfter is null', () => {
    const sim = new Simulator(plain(1, 1));
    sim.step('fail', T0, { detail: 'same' });
    expect(sim.step('fail', T0 + 1000 * HOUR, { detail: 'same' }).changes).toEqual([]);
    expect(sim.only().severity).toBe('warning');
  });
});

describe('decide: flapping', () => {
  const flapping = { transitions: 3, withinMs: 6 * HOUR };

  it('marks open/resolve/open within the window flapping, stays open, and resolves after a quiet window', () => {
    const sim = new Simulator(plain(1, 1, { flapping }));
    const steps: Step[] = ['fail', 'pass', 'fail', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'];
    expect(sim.run(steps)).toEqual([
      'open',
      'resolve',
      'flapping',
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'resolve', // 6 h after the last transition (the deferred resolve at step 3)
      'none',
    ]);
  });

  it('restarts the quiet window when the subject fails again while flapping', () => {
    const sim = new Simulator(plain(1, 1, { flapping }));
    const steps: Step[] = ['fail', 'pass', 'fail', 'pass', 'pass', 'fail', 'pass'];
    for (let i = 0; i < 8; i++) steps.push('pass');
    const actions = sim.run(steps);
    expect(actions.slice(0, 3)).toEqual(['open', 'resolve', 'flapping']);
    // The last edge is the pass at step 6: resolved 6 h later, at step 12.
    expect(actions.indexOf('resolve', 3)).toBe(12);
    expect(actions.filter((a) => a !== 'none')).toEqual(['open', 'resolve', 'flapping', 'resolve']);
    expect(sim.only().flaps.length).toBeLessThanOrEqual(5);
  });

  it('becomes flapping on a deferred resolve when that is the transition that crosses the threshold', () => {
    const sim = new Simulator(plain(1, 1, { flapping: { transitions: 4, withinMs: 6 * HOUR } }));
    expect(sim.run(['fail', 'pass', 'fail', 'pass', 'fail'])).toEqual([
      'open',
      'resolve',
      'reopen',
      'flapping',
      'none',
    ]);
    expect(sim.only().status).toBe('open');
  });

  it('does not flap when the transitions are spread wider than the window', () => {
    const sim = new Simulator(plain(1, 1, { flapping }));
    expect(sim.run(['fail', 'pass', 'fail', 'pass', 'fail'], 4 * HOUR)).toEqual([
      'open',
      'resolve',
      'reopen',
      'resolve',
      'reopen',
    ]);
  });

  it('opens and resolves every time with flapping detection off', () => {
    const sim = new Simulator(plain(1, 1));
    const steps: Step[] = [];
    for (let i = 0; i < 30; i++) steps.push('fail', 'pass');
    const actions = sim.run(steps, MINUTE);
    expect(actions.filter((a) => a === 'resolve')).toHaveLength(30);
    expect(sim.only().flaps).toHaveLength(MAX_FLAPS);
  });
});

describe('policyFor', () => {
  it('has per-check defaults', () => {
    expect(policyFor('blocklist')).toMatchObject({ openAfter: 1, resolveAfter: 1 });
    expect(policyFor('probe-relay')).toMatchObject({ openAfter: 2, resolveAfter: 2 });
    expect(policyFor('spf')).toEqual({
      openAfter: 2,
      resolveAfter: 2,
      remindEveryMs: 24 * HOUR,
      escalateAfterMs: 72 * HOUR,
      flapping: { transitions: 3, withinMs: 6 * HOUR },
    });
  });

  it('applies global settings, then the check’s own', () => {
    const settings = {
      remindEveryHours: 0,
      escalateAfterHours: null,
      openAfter: 3,
      checks: { blocklist: { openAfter: 1, flapping: null }, mx: { flapping: { withinHours: 1 } } },
    };
    expect(policyFor('blocklist', settings)).toEqual({
      openAfter: 1,
      resolveAfter: 1,
      remindEveryMs: 0,
      escalateAfterMs: null,
      flapping: null,
    });
    expect(policyFor('mx', settings)).toMatchObject({ openAfter: 3, flapping: { transitions: 3, withinMs: HOUR } });
  });

  it('refuses values out of range, naming the path', () => {
    expect(() => policyFor('spf', { openAfter: 0 })).toThrow(/incidents\.openAfter/);
    expect(() => policyFor('spf', { checks: { spf: { flapping: { transitions: 1 } } } })).toThrow(
      /incidents\.checks\.spf\.flapping\.transitions/,
    );
    expect(() => policyFor('spf', { remindEveryHours: -1 })).toThrow(RangeError);
  });
});
