/**
 * The incident policy settings: built-in defaults per check kind, the `incidents:` config shape, and `policyFor`,
 * which merges them into the {@link PolicyConfig} the pure policy functions take.
 *
 * Defaults (and why):
 * - `blocklist`: open after 1 failure, resolve after 1 pass. A listing only counts as failing when the health-checked
 *   resolver saw it (a broken or refused resolver makes the verdict `unknown`), so one sighting is definite; so is a
 *   delisting.
 * - `probe-*` (relay, submission): 2 and 2. One SMTP failure can be a network blip or a throttled connection, and one
 *   success after failures can be luck; waiting one cycle more is cheaper than an open/resolve pair of alerts.
 * - `spf`, `mx`: 2 and 2. A DNS edit in progress (or resolvers disagreeing while it propagates) looks like
 *   fail/pass/fail; two in a row means the published state.
 * - `submission` (the configuration check): 1 and 1: it reads the config, not the network, so it cannot flicker.
 * - `relaywatch` (the self-health incident: a run that could check nothing): 3 and 1.
 * - Anything else: 2 and 2.
 * Everywhere: a reminder every 24 h, escalation after 72 h, flapping at 3 transitions within 6 h.
 *
 * Policy listings (a blocklist listing whose codes are all of kind `policy`, e.g. Spamhaus PBL "dynamic IP space")
 * are a warning about the setup, and the prepared request says to leave them listed and send through Exchange Online:
 * they open and resolve like other listings but never escalate and send no reminders, unless
 * `incidents.checks.policy-listing` sets `remindEveryHours`/`escalateAfterHours` (a weekly reminder, say).
 */

export interface FlappingPolicy {
  /** Open/resolve transitions (2..10) within `withinMs` that make an incident flapping. */
  readonly transitions: number;
  readonly withinMs: number;
}

export interface PolicyConfig {
  /** Consecutive failing observations of the subject (1..100) before an incident opens. */
  readonly openAfter: number;
  /** Consecutive passing observations of the subject (1..100) before an open incident resolves. */
  readonly resolveAfter: number;
  /** Reminder interval while open, from `openedAt`; 0 = never. */
  readonly remindEveryMs: number;
  /** Escalate once the incident has been open this long; null = never. */
  readonly escalateAfterMs: number | null;
  /** null = flapping detection off. */
  readonly flapping: FlappingPolicy | null;
}

/** Settings for one check kind, or for all (`incidents:` in the config). Every field is optional. */
export interface IncidentPolicySettings {
  readonly openAfter?: number;
  readonly resolveAfter?: number;
  /** 0 = never remind. */
  readonly remindEveryHours?: number;
  /** null = never escalate. */
  readonly escalateAfterHours?: number | null;
  /** null = never mark an incident flapping. */
  readonly flapping?: { readonly transitions?: number; readonly withinHours?: number } | null;
}

/** The `incidents:` section: global settings, then per check kind (`checks: { blocklist: {…} }`), which win. */
export interface IncidentsSettings extends IncidentPolicySettings {
  readonly checks?: { readonly [check: string]: IncidentPolicySettings };
}

export const HOUR_MS = 3_600_000;
export const DEFAULT_REMIND_EVERY_MS = 24 * HOUR_MS;
export const DEFAULT_ESCALATE_AFTER_MS = 72 * HOUR_MS;
export const DEFAULT_FLAPPING: FlappingPolicy = { transitions: 3, withinMs: 6 * HOUR_MS };

/** Built-in thresholds for a check kind (see the module comment). */
export function defaultThresholds(check: string): { readonly openAfter: number; readonly resolveAfter: number } {
  if (check === 'blocklist' || check === 'domain-blocklist' || check === 'submission')
    return { openAfter: 1, resolveAfter: 1 };
  // The self-health incident: three blind runs in a row (45 minutes at a 15-minute schedule) before anybody is woken,
  // one run that checks something again to resolve.
  if (check === 'relaywatch') return { openAfter: 3, resolveAfter: 1 };
  return { openAfter: 2, resolveAfter: 2 };
}

function hours(value: number, path: string, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > 24 * 366) {
    throw new RangeError(`${path}: must be a number of hours ${allowZero ? '≥ 0' : '> 0'} and at most a year`);
  }
  return Math.round(value * HOUR_MS);
}

function count(value: number, path: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${path}: must be ${min}..${max}`);
  return value;
}

function apply(base: PolicyConfig, s: IncidentPolicySettings | undefined, at: string): PolicyConfig {
  if (!s) return base;
  let flapping = base.flapping;
  if (s.flapping === null) flapping = null;
  else if (s.flapping !== undefined) {
    const from = flapping ?? DEFAULT_FLAPPING;
    flapping = {
      transitions:
        s.flapping.transitions === undefined
          ? from.transitions
          : count(s.flapping.transitions, `${at}flapping.transitions`, 2, 10),
      withinMs:
        s.flapping.withinHours === undefined
          ? from.withinMs
          : hours(s.flapping.withinHours, `${at}flapping.withinHours`, false),
    };
  }
  return {
    openAfter: s.openAfter === undefined ? base.openAfter : count(s.openAfter, `${at}openAfter`, 1, 100),
    resolveAfter: s.resolveAfter === undefined ? base.resolveAfter : count(s.resolveAfter, `${at}resolveAfter`, 1, 100),
    remindEveryMs:
      s.remindEveryHours === undefined ? base.remindEveryMs : hours(s.remindEveryHours, `${at}remindEveryHours`, true),
    escalateAfterMs:
      s.escalateAfterHours === undefined
        ? base.escalateAfterMs
        : s.escalateAfterHours === null
          ? null
          : hours(s.escalateAfterHours, `${at}escalateAfterHours`, false),
    flapping,
  };
}

/** The `incidents.checks` key for policy listings (see the module comment). */
export const POLICY_LISTING = 'policy-listing';

/**
 * The policy for a check kind: built-in defaults, then the global settings, then `settings.checks[check]`. With
 * `policyListing`, reminders are off and escalation never happens unless `settings.checks['policy-listing']` says so.
 * @throws RangeError for a value out of range (the config schema should have refused it), naming its path.
 */
export function policyFor(
  check: string,
  settings?: IncidentsSettings,
  options: { readonly policyListing?: boolean } = {},
): PolicyConfig {
  const p = checkPolicy(check, settings);
  if (!options.policyListing) return p;
  const own = settings?.checks?.[POLICY_LISTING];
  const tuned = apply(p, own, `incidents.checks.${POLICY_LISTING}.`);
  return {
    ...p,
    remindEveryMs: own?.remindEveryHours === undefined ? 0 : tuned.remindEveryMs,
    escalateAfterMs: own?.escalateAfterHours === undefined ? null : tuned.escalateAfterMs,
  };
}

function checkPolicy(check: string, settings?: IncidentsSettings): PolicyConfig {
  const base: PolicyConfig = {
    ...defaultThresholds(check),
    remindEveryMs: DEFAULT_REMIND_EVERY_MS,
    escalateAfterMs: DEFAULT_ESCALATE_AFTER_MS,
    flapping: DEFAULT_FLAPPING,
  };
  const global = apply(base, settings, 'incidents.');
  return apply(global, settings?.checks?.[check], `incidents.checks.${check}.`);
}
