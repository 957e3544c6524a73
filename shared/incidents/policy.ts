/**
 * The incident policy: one pure function of (previous state, new observation, policy, now) that says what happens
 * to the subject's counters and incidents. No I/O and no clock: `now` is a parameter; the caller stores the results
 * (with optimistic concurrency on `version`) and sends notifications (see `deliveries.ts`).
 *
 * Model (the stored records are unchanged, see `shared/ports/stores.ts`):
 * - `SubjectState` per (tenant, check, subject) holds the counters: `consecutiveFails` counts failing observations of
 *   the subject in a row, whatever the problem; `consecutivePasses` passing ones. `unknown` changes neither (it is
 *   skipped, never a reset: unknown is not failure), but is recorded as `lastStatus`. `fingerprint` and
 *   `fingerprintValue` belong to drift detection: they are taken from the observation when it carries them, else kept.
 * - One `IncidentRecord` per (tenant, check, subject, problem), with the stable id `incidentId(…)`. A problem opens
 *   its incident once the subject has failed `openAfter` times in a row and the current failure is that problem. So a
 *   changed diagnosis while failing opens its own incident at once (the subject is known to be failing), and the old
 *   problem's incident stays open until the subject passes `resolveAfter` times in a row: a different failure is not a
 *   pass. Every open incident of the subject resolves on the same passes.
 * - A resolved incident that fails again is re-opened in place: same id, same record, `status: 'open'`, a new
 *   `openedAt`, and fresh deliveries, except for routes that were told "opened" but not yet "resolved": for them the
 *   incident simply continues (nothing to close, nothing to announce again).
 * - Flapping: `flaps` records the open/resolve transitions (at most {@link MAX_FLAPS}, newest last). When a
 *   transition would bring the count within `flapping.withinMs` to `flapping.transitions`, the incident is flapping
 *   from then on until it resolves: it stays open, routes get one `flapping` notification instead of one per
 *   transition, and it resolves only after a quiet `withinMs` (no pass/fail edge) with the subject passing. While
 *   flapping, the edges the subject still makes (would-be resolves and re-opens) are recorded too, replacing each
 *   other, so the list stays short and "quiet" is measured from the last one.
 * - Escalation: at `openedAt + escalateAfterMs` the severity goes up one step (info → warning → critical; critical
 *   stays) and routes get one `escalated` notification. Severity never goes down while the incident is open.
 * - Reminders are due on a grid: `openedAt + k × remindEveryMs` (k ≥ 1).
 * - Acknowledgement (`acknowledge`, from `relaywatch incidents ack`): while an open incident carries an `ack`, it
 *   neither escalates nor reminds. The ack holds until the incident changes: its severity rises, it becomes flapping,
 *   it resolves and re-opens (a new episode starts without one).
 * - Resolutions: `resolution.kind` says how an episode ended: `passed` (the subject passed `resolveAfter` times),
 *   `retired` (`retire`: the subject is no longer configured) or `closed` (`close`: an operator closed it, e.g. fixed
 *   by other means). A retired or closed incident re-opens like any resolved one when its problem fails again.
 * - Observations are idempotent: one with the state's `lastRunId` (a retried run) or older than `lastAt` (a late
 *   arrival) is ignored.
 * - Versions: returned records keep the `version` they came with (0 for new ones); store them with the
 *   `expectedVersion` given next to them (null = create).
 */
import type {
  CheckStatus,
  DeliveryState,
  IncidentNote,
  IncidentRecord,
  IncidentSeverity,
  SubjectState,
} from '../ports/stores.ts';
import type { PolicyConfig } from './config.ts';
import { incidentId } from './id.ts';

export interface Observation {
  readonly tenantId: string;
  readonly check: string;
  readonly subject: string;
  /** The check's status, stored as `lastStatus`. */
  readonly status: CheckStatus;
  /**
   * Whether this counts as a failure: true opens (after `openAfter`), false counts toward resolving, null is unknown
   * (skipped). Default from `status`: `fail` → true, `unknown` → null, `pass`/`warn` → false. Set it to say otherwise,
   * e.g. `true` for a `warn` that deserves an incident.
   */
  readonly failing?: boolean | null;
  /**
   * Stable key of what is wrong: a diagnosis id (`auth-basic-disabled`), `listed:zen.spamhaus.org`, a finding code.
   * Required when failing; ignored otherwise.
   */
  readonly problem: string;
  readonly severity: IncidentSeverity;
  readonly title: string;
  readonly detail: string;
  readonly runId: string;
  /** ISO 8601: when it was observed. */
  readonly at: string;
  /** For drift detection; when absent the previous state's values are kept. */
  readonly fingerprint?: string | null;
  readonly fingerprintValue?: string | null;
}

export type IncidentAction = 'open' | 'reopen' | 'remind' | 'escalate' | 'resolve' | 'flapping' | 'none';

export interface IncidentChange {
  /**
   * What happened: `open`/`reopen` (a new episode; `flapping` instead when the re-open makes it flapping),
   * `resolve`, `flapping` (became flapping; stays open), `escalate`, `remind` (a reminder became due), or `none`
   * (only stored fields changed: detail, title, severity, recorded flaps).
   */
  readonly action: IncidentAction;
  /** The record to store (with `version` as given). */
  readonly incident: IncidentRecord;
  /** Pass to `IncidentStore.put`: null creates, a number must match the stored version. */
  readonly expectedVersion: number | null;
}

export interface PreviousState {
  readonly state: SubjectState | null;
  /**
   * Incidents of this (tenant, check, subject): at least every open one and the one for the observation's problem
   * when it exists (open or resolved). Others may be included; they are left alone unless they are open.
   */
  readonly incidents: readonly IncidentRecord[];
}

export interface Decision {
  readonly state: SubjectState;
  /** Pass to `StateStore.put`. */
  readonly stateExpectedVersion: number | null;
  /** Why the observation was ignored (nothing to store), or null. */
  readonly ignored: 'duplicate' | 'stale' | null;
  /** Only incidents whose record changed; at most one per incident. */
  readonly changes: readonly IncidentChange[];
}

export const MAX_FLAPS = 20;
export const TITLE_MAX_CHARS = 300;
export const DETAIL_MAX_CHARS = 4000;

const SEVERITY_RANK: Readonly<Record<IncidentSeverity, number>> = { info: 0, warning: 1, critical: 2 };
const SEVERITIES: readonly IncidentSeverity[] = ['info', 'warning', 'critical'];

function maxSeverity(a: IncidentSeverity, b: IncidentSeverity): IncidentSeverity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/** One step up: info → warning → critical. */
export function raiseSeverity(s: IncidentSeverity): IncidentSeverity {
  return SEVERITIES[Math.min(SEVERITY_RANK[s] + 1, 2)]!;
}

/** The observation's failing flag, defaulted from its status (see {@link Observation.failing}). */
export function failingOf(obs: Pick<Observation, 'status' | 'failing'>): boolean | null {
  if (obs.failing !== undefined) return obs.failing;
  return obs.status === 'fail' ? true : obs.status === 'unknown' ? null : false;
}

function ms(iso: string, what: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RangeError(`${what} is not a valid time: ${JSON.stringify(iso)}`);
  return t;
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Transitions recorded in `(at - withinMs, at]`. */
function flapsWithin(flaps: readonly string[], at: number, withinMs: number): number {
  let n = 0;
  for (const f of flaps) {
    const t = Date.parse(f);
    if (t > at - withinMs && t <= at) n++;
  }
  return n;
}

/**
 * When the open incident became flapping in its current episode (ISO), or null when it is not flapping (or resolved,
 * or flapping detection is off): the first recorded transition since `openedAt` at which the count within the window
 * reached the threshold.
 */
export function flappingSince(incident: IncidentRecord, policy: PolicyConfig): string | null {
  if (incident.status !== 'open' || policy.flapping === null) return null;
  const { transitions, withinMs } = policy.flapping;
  const opened = Date.parse(incident.openedAt);
  for (const f of incident.flaps) {
    const t = Date.parse(f);
    if (t >= opened && flapsWithin(incident.flaps, t, withinMs) >= transitions) return f;
  }
  return null;
}

/** When the incident escalates (ms since epoch), or null when the policy never escalates. */
export function escalatesAt(incident: IncidentRecord, policy: PolicyConfig): number | null {
  return policy.escalateAfterMs === null ? null : Date.parse(incident.openedAt) + policy.escalateAfterMs;
}

/** The latest reminder grid point at or before `now` (ms), or null when none is due yet or reminders are off. */
export function reminderDueAt(incident: IncidentRecord, policy: PolicyConfig, now: number): number | null {
  if (policy.remindEveryMs <= 0) return null;
  const opened = Date.parse(incident.openedAt);
  const k = Math.floor((now - opened) / policy.remindEveryMs);
  return k >= 1 ? opened + k * policy.remindEveryMs : null;
}

/** Append a transition (or replace the last one when it is a would-be transition recorded after `since`). */
function pushFlap(flaps: readonly string[], at: string, since: string | null): readonly string[] {
  const last = flaps[flaps.length - 1];
  const replace = since !== null && last !== undefined && Date.parse(last) > Date.parse(since);
  const next = replace ? [...flaps.slice(0, -1), at] : [...flaps, at];
  return next.length > MAX_FLAPS ? next.slice(next.length - MAX_FLAPS) : next;
}

/** On re-open: keep only the routes that were told "opened" and never "resolved" (for them it simply continues). */
function carriedDeliveries(deliveries: IncidentRecord['deliveries']): { [routeId: string]: DeliveryState } {
  const out: { [routeId: string]: DeliveryState } = {};
  for (const [route, d] of Object.entries(deliveries)) if (d.opened !== null && d.resolved === null) out[route] = d;
  return out;
}

interface Context {
  readonly obs: Observation;
  readonly failing: boolean | null;
  readonly fails: number;
  readonly passes: number;
  readonly failEdge: boolean;
  readonly passEdge: boolean;
  readonly policy: PolicyConfig;
  readonly now: number;
  readonly nowIso: string;
}

function opensFor(c: Context, problem: string): boolean {
  return c.failing === true && c.obs.problem === problem && c.fails >= c.policy.openAfter;
}

function evolve(inc: IncidentRecord, c: Context): { action: IncidentAction; incident: IncidentRecord } {
  const { obs, policy, now, nowIso } = c;
  if (inc.status === 'resolved') {
    if (!opensFor(c, inc.problem)) return { action: 'none', incident: inc };
    const reopened: IncidentRecord = {
      ...inc,
      status: 'open',
      severity: obs.severity,
      title: cap(obs.title, TITLE_MAX_CHARS),
      lastDetail: cap(obs.detail, DETAIL_MAX_CHARS),
      openedAt: nowIso,
      updatedAt: nowIso,
      resolvedAt: null,
      resolution: null,
      ack: null,
      deliveries: carriedDeliveries(inc.deliveries),
      flaps: pushFlap(inc.flaps, nowIso, null),
    };
    return { action: flappingSince(reopened, policy) === nowIso ? 'flapping' : 'reopen', incident: reopened };
  }

  let next: IncidentRecord = inc;
  let action: IncidentAction = 'none';
  if (c.failing === true && obs.problem === inc.problem) {
    next = {
      ...next,
      title: cap(obs.title, TITLE_MAX_CHARS),
      lastDetail: cap(obs.detail, DETAIL_MAX_CHARS),
      severity: maxSeverity(inc.severity, obs.severity),
    };
  }
  const since = flappingSince(inc, policy);
  const resolve = (flaps: readonly string[]): IncidentRecord => ({
    ...next,
    status: 'resolved',
    resolvedAt: nowIso,
    resolution: { kind: 'passed', by: null, note: null },
    flaps,
  });
  if (c.failing === false && c.passes >= policy.resolveAfter) {
    if (since === null) {
      const flapping = policy.flapping;
      if (flapping !== null && flapsWithin(inc.flaps, now, flapping.withinMs) + 1 >= flapping.transitions) {
        next = { ...next, flaps: pushFlap(inc.flaps, nowIso, null) };
        action = 'flapping';
      } else {
        next = resolve(pushFlap(inc.flaps, nowIso, null));
        action = 'resolve';
      }
    } else {
      const last = Date.parse(inc.flaps[inc.flaps.length - 1] ?? inc.openedAt);
      const quiet = now - last >= (policy.flapping?.withinMs ?? 0);
      if (quiet) {
        next = resolve(c.passEdge ? pushFlap(inc.flaps, nowIso, null) : inc.flaps);
        action = 'resolve';
      } else if (c.passEdge) {
        next = { ...next, flaps: pushFlap(inc.flaps, nowIso, since) };
      }
    }
  } else if (c.failEdge && since !== null) {
    // A would-be re-open while flapping: the subject is not stable yet.
    next = { ...next, flaps: pushFlap(inc.flaps, nowIso, since) };
  }

  // An acknowledgement holds until the incident changes: a higher severity or flapping clears it.
  if (next.ack && (action === 'flapping' || SEVERITY_RANK[next.severity] > SEVERITY_RANK[inc.severity])) {
    next = { ...next, ack: null };
  }
  if (action === 'none' && next.status === 'open' && !next.ack) {
    const updated = Date.parse(inc.updatedAt);
    const escalation = escalatesAt(inc, policy);
    const reminder = reminderDueAt(inc, policy, now);
    if (escalation !== null && updated < escalation && escalation <= now) {
      next = { ...next, severity: raiseSeverity(next.severity) };
      action = 'escalate';
    } else if (reminder !== null && updated < reminder) {
      action = 'remind';
    }
  }

  const changed =
    action !== 'none' ||
    next.title !== inc.title ||
    next.lastDetail !== inc.lastDetail ||
    next.severity !== inc.severity ||
    next.flaps !== inc.flaps ||
    next.ack !== inc.ack;
  return { action, incident: changed ? { ...next, updatedAt: nowIso } : inc };
}

/**
 * Applies one observation of a (tenant, check, subject) to its state and incidents.
 * @throws TypeError when the inputs do not belong together (another subject's state or incident, two incidents for
 *   one problem, a failing observation without a problem); RangeError for an invalid time. Both are caller bugs.
 */
export function decide(prev: PreviousState, obs: Observation, policy: PolicyConfig, now: Date): Decision {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new RangeError('now is not a valid date');
  const at = ms(obs.at, 'observation.at');
  const key = `${obs.tenantId}/${obs.check}/${obs.subject}`;
  const same = (r: { tenantId: string; check: string; subject: string }) =>
    r.tenantId === obs.tenantId && r.check === obs.check && r.subject === obs.subject;
  const p = prev.state;
  if (p !== null && !same(p)) throw new TypeError(`state of ${p.tenantId}/${p.check}/${p.subject} given for ${key}`);
  const problems = new Set<string>();
  for (const inc of prev.incidents) {
    if (!same(inc))
      throw new TypeError(`incident ${inc.id} of ${inc.tenantId}/${inc.check}/${inc.subject} given for ${key}`);
    if (problems.has(inc.problem))
      throw new TypeError(`two incidents for problem ${JSON.stringify(inc.problem)} of ${key}`);
    problems.add(inc.problem);
  }
  const failing = failingOf(obs);
  if (failing === true && obs.problem === '')
    throw new TypeError(`a failing observation of ${key} needs a problem key`);

  if (p !== null) {
    const ignored = obs.runId === p.lastRunId ? 'duplicate' : at < ms(p.lastAt, 'state.lastAt') ? 'stale' : null;
    if (ignored !== null) return { state: p, stateExpectedVersion: p.version, ignored, changes: [] };
  }

  const fails0 = p?.consecutiveFails ?? 0;
  const passes0 = p?.consecutivePasses ?? 0;
  const fails = failing === true ? fails0 + 1 : failing === false ? 0 : fails0;
  const passes = failing === false ? passes0 + 1 : failing === true ? 0 : passes0;
  const state: SubjectState = {
    tenantId: obs.tenantId,
    check: obs.check,
    subject: obs.subject,
    lastStatus: obs.status,
    lastAt: obs.at,
    lastRunId: obs.runId,
    consecutiveFails: fails,
    consecutivePasses: passes,
    fingerprint: obs.fingerprint !== undefined ? obs.fingerprint : (p?.fingerprint ?? null),
    fingerprintValue: obs.fingerprintValue !== undefined ? obs.fingerprintValue : (p?.fingerprintValue ?? null),
    version: p?.version ?? 0,
  };

  const nowIso = now.toISOString();
  const c: Context = {
    obs,
    failing,
    fails,
    passes,
    failEdge: failing === true && fails === policy.openAfter,
    passEdge: failing === false && passes === policy.resolveAfter,
    policy,
    now: nowMs,
    nowIso,
  };
  const changes: IncidentChange[] = [];
  for (const inc of prev.incidents) {
    const { action, incident } = evolve(inc, c);
    if (incident !== inc) changes.push({ action, incident, expectedVersion: inc.version });
  }
  if (!problems.has(obs.problem) && opensFor(c, obs.problem)) {
    changes.push({
      action: 'open',
      expectedVersion: null,
      incident: {
        tenantId: obs.tenantId,
        id: incidentId(obs.tenantId, obs.check, obs.subject, obs.problem),
        check: obs.check,
        subject: obs.subject,
        problem: obs.problem,
        status: 'open',
        severity: obs.severity,
        title: cap(obs.title, TITLE_MAX_CHARS),
        openedAt: nowIso,
        updatedAt: nowIso,
        resolvedAt: null,
        lastDetail: cap(obs.detail, DETAIL_MAX_CHARS),
        deliveries: {},
        flaps: [nowIso],
        version: 0,
      },
    });
  }
  return { state, stateExpectedVersion: p?.version ?? null, ignored: null, changes };
}

function requireOpen(incident: IncidentRecord, what: string): void {
  if (incident.status !== 'open') throw new TypeError(`incident ${incident.id} is not open: it cannot be ${what}`);
}

function note(by: string, note: string | null, now: Date): IncidentNote {
  if (by.trim() === '') throw new TypeError('who acted on the incident (by) must not be empty');
  if (Number.isNaN(now.getTime())) throw new RangeError('now is not a valid date');
  const text = note === null || note.trim() === '' ? null : cap(note.trim(), NOTE_MAX_CHARS);
  return { by: cap(by.trim(), 100), at: now.toISOString(), note: text };
}

export const NOTE_MAX_CHARS = 500;

/**
 * The open incident acknowledged by `by` (an operator): no reminders or escalation until it changes (see the module
 * comment). Acknowledging again replaces the note. Store it with `expectedVersion: incident.version`.
 * @throws TypeError when the incident is not open or `by` is empty.
 */
export function acknowledge(incident: IncidentRecord, by: string, text: string | null, now: Date): IncidentRecord {
  requireOpen(incident, 'acknowledged');
  return { ...incident, ack: note(by, text, now), updatedAt: now.toISOString() };
}

/**
 * The open incident closed by hand (resolved by other means): resolved now with `resolution.kind: 'closed'`, so
 * routes that were told it opened get a RESOLVED. It re-opens (a new episode) when its problem fails again.
 * @throws TypeError when the incident is not open, `by` is empty or the note is missing (a close needs a reason).
 */
export function close(incident: IncidentRecord, by: string, text: string, now: Date): IncidentRecord {
  requireOpen(incident, 'closed');
  const n = note(by, text, now);
  if (n.note === null) throw new TypeError('closing an incident needs a note (what was done)');
  return {
    ...incident,
    status: 'resolved',
    resolvedAt: n.at,
    updatedAt: n.at,
    resolution: { kind: 'closed', by: n.by, note: n.note },
    flaps: pushFlap(incident.flaps, n.at, null),
  };
}

/**
 * The open incident resolved because its subject is no longer configured (an IP removed from relayIps, a domain or a
 * tenant removed): `resolution.kind: 'retired'`. Routes that were told it opened get a RESOLVED "no longer monitored".
 * @throws TypeError when the incident is not open.
 */
export function retire(incident: IncidentRecord, now: Date): IncidentRecord {
  requireOpen(incident, 'retired');
  if (Number.isNaN(now.getTime())) throw new RangeError('now is not a valid date');
  const at = now.toISOString();
  return {
    ...incident,
    status: 'resolved',
    resolvedAt: at,
    updatedAt: at,
    resolution: { kind: 'retired', by: null, note: null },
  };
}
