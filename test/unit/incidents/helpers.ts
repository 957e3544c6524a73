/** A small simulator for the incident policy: an in-memory store with the real version rules, and a delivery loop. */
import type { PolicyConfig } from '../../../shared/incidents/config.ts';
import {
  type DeliveryResult,
  type NotificationKind,
  type PendingNotification,
  pendingNotifications,
  recordDelivery,
} from '../../../shared/incidents/deliveries.ts';
import { type Decision, decide, type IncidentAction, type Observation } from '../../../shared/incidents/policy.ts';
import type { IncidentRecord, SubjectState } from '../../../shared/ports/stores.ts';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
/** Monday 2 March 2026, 00:00 UTC. */
export const T0 = Date.parse('2026-03-02T00:00:00.000Z');

/** Thresholds only: no reminders, no escalation, no flapping (each test turns on what it needs). */
export function plain(openAfter: number, resolveAfter: number, extra: Partial<PolicyConfig> = {}): PolicyConfig {
  return { openAfter, resolveAfter, remindEveryMs: 0, escalateAfterMs: null, flapping: null, ...extra };
}

/** `fail` (problem A), `fail:B`, `pass`, `warn`, `unknown`, `warn!` (a warn the caller marks failing, problem A). */
export type Step = 'fail' | 'pass' | 'warn' | 'warn!' | 'unknown' | `fail:${string}`;

export function observation(step: Step, at: number, runId: string, over: Partial<Observation> = {}): Observation {
  const [kind, problem = 'A'] = step.split(':') as [string, string | undefined];
  const status = kind === 'warn!' ? 'warn' : (kind as Observation['status']);
  return {
    tenantId: 'contoso',
    check: 'probe-relay',
    subject: 'relay',
    status,
    ...(kind === 'warn!' ? { failing: true } : {}),
    problem: status === 'fail' || kind === 'warn!' ? problem : '',
    severity: 'warning',
    title: `relay problem ${problem}`,
    detail: `seen in ${runId}`,
    runId,
    at: new Date(at).toISOString(),
    ...over,
  };
}

export interface Sent {
  readonly at: number;
  readonly id: string;
  readonly openedAt: string;
  readonly route: string;
  readonly kind: NotificationKind;
  readonly key: string;
  readonly ok: boolean;
}

/** Holds one subject's state and incidents as a store would (versions, conditional writes). */
export class Simulator {
  state: SubjectState | null = null;
  readonly incidents = new Map<string, IncidentRecord>();
  readonly sent: Sent[] = [];
  private runs = 0;

  readonly policy: PolicyConfig;

  constructor(policy: PolicyConfig) {
    this.policy = policy;
  }

  putState(s: SubjectState, expected: number | null): void {
    const current = this.state?.version ?? null;
    if (current !== expected) throw new Error(`state conflict: stored ${current}, expected ${expected}`);
    this.state = { ...s, version: (expected ?? 0) + 1 };
  }

  putIncident(i: IncidentRecord, expected: number | null): void {
    const current = this.incidents.get(i.id)?.version ?? null;
    if (current !== expected) throw new Error(`incident ${i.id} conflict: stored ${current}, expected ${expected}`);
    this.incidents.set(i.id, { ...i, version: (expected ?? 0) + 1 });
  }

  /** Applies one observation and stores the results; returns the decision. */
  observe(obs: Observation, now = Date.parse(obs.at)): Decision {
    const d = decide({ state: this.state, incidents: [...this.incidents.values()] }, obs, this.policy, new Date(now));
    if (d.ignored === null) this.putState(d.state, d.stateExpectedVersion);
    for (const c of d.changes) this.putIncident(c.incident, c.expectedVersion);
    return d;
  }

  step(step: Step, at: number, over: Partial<Observation> = {}): Decision {
    this.runs++;
    return this.observe(observation(step, at, `run-${this.runs}`, over));
  }

  /** Runs steps one `every` apart from `start`; the action per step (`a+b` when several incidents changed). */
  run(steps: readonly Step[], every = HOUR, start = T0): string[] {
    return steps.map((s, i) => actionOf(this.step(s, start + i * every)));
  }

  /** One delivery cycle: pending notifications of every incident, sent through `send`, recorded and stored. */
  deliver(
    routes: readonly string[],
    at: number,
    send: (n: PendingNotification) => DeliveryResult = () => ({ ok: true }),
    suppressed = false,
  ): Sent[] {
    const out: Sent[] = [];
    for (const id of [...this.incidents.keys()]) {
      let inc = this.incidents.get(id)!;
      const expected = inc.version;
      for (const n of pendingNotifications(inc, routes, this.policy, new Date(at), suppressed)) {
        const result = send(n);
        out.push({ at, id, openedAt: inc.openedAt, route: n.route, kind: n.kind, key: n.key, ok: result.ok });
        inc = recordDelivery(inc, n.route, n.kind, result, new Date(at));
      }
      if (inc !== this.incidents.get(id)) this.putIncident(inc, expected);
    }
    this.sent.push(...out);
    return out;
  }

  only(): IncidentRecord {
    const all = [...this.incidents.values()];
    if (all.length !== 1) throw new Error(`expected one incident, have ${all.length}`);
    return all[0]!;
  }
}

export function actionOf(d: Decision): string {
  const acts: IncidentAction[] = d.changes.map((c) => c.action).filter((a) => a !== 'none');
  return acts.length === 0 ? 'none' : acts.join('+');
}
