/**
 * Random observation sequences (seeded; see test/support/prng.ts for FUZZ_SEED / FUZZ_CASE / FUZZ_SCALE) against
 * the policy's invariants, with random policies, delivery failures and suppression.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyConfig } from '../../../shared/incidents/config.ts';
import { pendingNotifications } from '../../../shared/incidents/deliveries.ts';
import { MAX_FLAPS } from '../../../shared/incidents/policy.ts';
import type { IncidentRecord } from '../../../shared/ports/stores.ts';
import { caseSeed, fuzzSettings, hex, Rng } from '../../support/prng.ts';
import { HOUR, MINUTE, observation, Simulator, type Step, T0 } from './helpers.ts';

const ROUTES = ['slack', 'teams', 'webhook'] as const;

function randomPolicy(rng: Rng): PolicyConfig {
  return {
    openAfter: rng.int(1, 3),
    resolveAfter: rng.int(1, 3),
    remindEveryMs: rng.pick([0, 6 * HOUR, 24 * HOUR]),
    escalateAfterMs: rng.pick([null, 12 * HOUR, 72 * HOUR]),
    flapping: rng.chance(0.2) ? null : { transitions: rng.int(2, 5), withinMs: rng.int(1, 12) * HOUR },
  };
}

/** Runs one case; returns the invariant violations (empty when fine). */
function runCase(seed: number, actionsSeen: Set<string>): { problems: string[]; trace: string[] } {
  const rng = new Rng(seed);
  const policy = randomPolicy(rng);
  const sim = new Simulator(policy);
  const problems: string[] = [];
  const trace: string[] = [`policy ${JSON.stringify(policy)}`];
  const problemKeys = ['A', 'B', 'C'].slice(0, rng.int(1, 3));
  const failRate = rng.float();
  const deliveredEver = new Map<string, Set<string>>(); // incident id → routes told opened/flapping
  const successes = new Set<string>();
  let t = T0;
  const steps = rng.int(20, 120);
  for (let i = 0; i < steps; i++) {
    t += rng.weighted<number>([
      [3, () => rng.int(1, 60) * MINUTE],
      [3, () => rng.int(1, 4) * HOUR],
      [1, () => rng.int(5, 40) * HOUR],
    ]);
    const step: Step = rng.weighted<Step>([
      [4, () => (rng.float() < failRate ? `fail:${rng.pick(problemKeys)}` : 'pass')],
      [1, () => 'unknown'],
      [1, () => 'warn'],
    ]);
    const before = new Map<string, IncidentRecord>(sim.incidents);
    const d = sim.observe(observation(step, t, `run-${i}`, { severity: rng.pick(['info', 'warning', 'critical']) }));
    const line = `${new Date(t).toISOString()} ${step} → ${d.changes.map((c) => `${c.incident.problem}:${c.action}`).join(' ') || 'none'}`;
    trace.push(line);
    for (const c of d.changes) {
      actionsSeen.add(c.action);
      const prev = before.get(c.incident.id);
      if (step === 'unknown' && !['none', 'remind', 'escalate'].includes(c.action)) {
        problems.push(`${c.action} on an unknown observation: ${line}`);
      }
      if (c.action === 'open' && [...before.values()].some((b) => b.problem === c.incident.problem)) {
        problems.push(`a second incident for problem ${c.incident.problem}: ${line}`);
      }
      if (c.action === 'resolve') {
        if (prev?.status !== 'open') problems.push(`resolve without an open incident: ${line}`);
        if (step.startsWith('fail')) problems.push(`resolve on a failure: ${line}`);
      }
      if (c.action === 'open' || c.action === 'reopen' || (c.action === 'flapping' && prev?.status === 'resolved')) {
        if (!step.startsWith('fail')) problems.push(`${c.action} without a failure: ${line}`);
        if (c.incident.problem !== step.split(':')[1]) problems.push(`opened another problem than observed: ${line}`);
      }
      if (c.incident.flaps.length > MAX_FLAPS) problems.push(`${c.incident.flaps.length} flaps stored: ${line}`);
    }
    const s = sim.state!;
    if (s.consecutiveFails > 0 && s.consecutivePasses > 0) problems.push(`both counters positive: ${line}`);
    const problemsSeen = [...sim.incidents.values()].map((x) => x.problem);
    if (new Set(problemsSeen).size !== problemsSeen.length) problems.push(`duplicate incidents per problem: ${line}`);

    // Deliveries: random failures and suppression.
    const suppressed = rng.chance(0.15);
    for (const inc of sim.incidents.values()) {
      for (const p of pendingNotifications(inc, ROUTES, policy, new Date(t), suppressed)) {
        if (p.kind !== 'resolved') continue;
        const dlv = inc.deliveries[p.route];
        if (!dlv || dlv.opened === null) problems.push(`resolved pending for ${p.route} without opened: ${line}`);
      }
    }
    const sent = sim.deliver(
      ROUTES,
      t,
      () => (rng.chance(0.3) ? { ok: false, error: 'timeout' } : { ok: true }),
      suppressed,
    );
    if (suppressed && sent.length > 0) problems.push(`sent while suppressed: ${line}`);
    for (const x of sent) {
      if (!x.ok) continue;
      const told = deliveredEver.get(x.id) ?? new Set<string>();
      if (x.kind === 'opened' || x.kind === 'flapping') told.add(x.route);
      deliveredEver.set(x.id, told);
      if (x.kind === 'resolved' && !told.has(x.route)) problems.push(`resolved sent to ${x.route} never told: ${line}`);
      if (x.kind !== 'reminder') {
        const once = `${x.key}/${x.route}`;
        if (successes.has(once)) problems.push(`${x.kind} delivered twice to ${x.route} (${x.key}): ${line}`);
        successes.add(once);
      }
    }
  }
  return { problems, trace };
}

describe('incident policy invariants (seeded)', () => {
  const { base, scale, only } = fuzzSettings(0x1c1d3a7);
  const total = 300 * scale;
  it(`holds for ${only === null ? total : 1} random sequences (base seed ${hex(base)})`, () => {
    const seeds = only === null ? Array.from({ length: total }, (_, i) => caseSeed(base, i)) : [only];
    const failures: string[] = [];
    const actionsSeen = new Set<string>();
    for (const seed of seeds) {
      const { problems, trace } = runCase(seed, actionsSeen);
      if (problems.length > 0) {
        failures.push(
          `case ${hex(seed)} (FUZZ_CASE=${hex(seed)} npx vitest run test/unit/incidents/policy-fuzz.test.ts)\n  ${problems
            .slice(0, 5)
            .join('\n  ')}\n${trace.slice(-30).join('\n')}`,
        );
      }
      if (failures.length >= 3) break;
    }
    expect(failures.join('\n\n')).toBe('');
    // The generator reaches every kind of decision (else the invariants above would prove little).
    if (only === null) {
      expect([...actionsSeen].sort()).toEqual(['escalate', 'flapping', 'none', 'open', 'remind', 'reopen', 'resolve']);
    }
  });
});
