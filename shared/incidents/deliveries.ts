/**
 * What each notification route still has to be told about an incident, and how a send's result is recorded.
 * Pure: the caller sends, then stores the record `recordDelivery` returns (conditional on `version`).
 *
 * Guarantees: at-least-once per route and kind. A notification counts as delivered only when `recordDelivery` saw
 * `{ ok: true }` and the record was stored; a failed send (or a lost write) leaves it pending, so the next cycle sends
 * it again, without limit ({@link STUCK_AFTER_FAILURES} failures in a row are only noted in `lastError`).
 *
 * Each pending item carries a delivery `key`, one per (incident, episode, transition, route), the same for every
 * attempt of that notification. The caller claims it in the store before sending (`Store.deliveries.claim`, a
 * conditional write with a lease of {@link DELIVERY_LEASE_MS}) and completes it after, so concurrent runs send it
 * once; receivers that de-duplicate see the same key again only when a sender died between the receiver accepting
 * and the completion being stored (the webhook id and the e-mail Message-ID derive from the key).
 *
 * Per route (`incident.deliveries[route]`; a route without an entry has been told nothing):
 * - open incident: `flapping` when it is flapping and the route has not heard of it since it started flapping
 *   (instead of `opened`); else `opened` when not yet delivered; else `escalated` once when the escalation time has
 *   passed since the route last heard; else `reminder` when a reminder grid point passed since then.
 *   `escalated`, `reminder` and `flapping` set `lastReminder`, so they also push the next reminder back.
 * - resolved incident: `resolved` when the route was told it opened and not yet that it resolved. A route that never
 *   got `opened` gets nothing: there is nothing to close.
 * - acknowledged (`incident.ack`): `opened` and `flapping` as above, but no `escalated` and no `reminder`.
 * - suppressed (maintenance window, mute): nothing; whatever is still pending is sent after the suppression ends.
 * At most one item per route and cycle.
 */
import type { DeliveryState, IncidentRecord } from '../ports/stores.ts';
import type { PolicyConfig } from './config.ts';
import { escalatesAt, flappingSince, reminderDueAt } from './policy.ts';

export type NotificationKind = 'opened' | 'reminder' | 'escalated' | 'resolved' | 'flapping';

export interface PendingNotification {
  readonly route: string;
  readonly kind: NotificationKind;
  /**
   * The delivery key, stable for every attempt of this notification:
   * `<id>-<openedAt base36>-<kind>[-<reminder number>]/<route>`. A re-opened incident has a new `openedAt`, so each
   * episode has its own keys.
   */
  readonly key: string;
  /** The key of the episode's `opened` notification on the same route: what reminders and RESOLVED reply to. */
  readonly threadKey: string;
}

/**
 * How long a delivery claim holds before another run may take it over: 5 minutes. A live sender finishes well inside
 * it (every notifier times out after 10 s, so even a slow SMTP conversation plus the store writes takes under a
 * minute), and a run that died holding a claim delays that alert by at most 5 minutes, less than one cycle at the usual
 * 15-minute schedule. It must stay below the schedule interval (so the next cycle retries) and, on Lambda, at or
 * below the queue's visibility timeout (so an SQS redelivery of the job finds the lease expired, not held).
 */
export const DELIVERY_LEASE_MS = 5 * 60_000;

export type DeliveryResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

export const EMPTY_DELIVERY: DeliveryState = {
  opened: null,
  lastReminder: null,
  resolved: null,
  failures: 0,
  lastError: null,
};

/** From this many failures in a row, `lastError` says so (the route keeps being retried). */
export const STUCK_AFTER_FAILURES = 10;
export const ERROR_MAX_CHARS = 500;

function time(iso: string | null): number {
  return iso === null ? Number.NEGATIVE_INFINITY : Date.parse(iso);
}

/** The last time the route heard about the incident's current episode (opened, reminder, escalation, flapping). */
function lastHeard(d: DeliveryState): number {
  return Math.max(time(d.opened), time(d.lastReminder));
}

export function pendingNotifications(
  incident: IncidentRecord,
  routes: readonly string[],
  policy: PolicyConfig,
  now: Date,
  suppressed: boolean,
): PendingNotification[] {
  const t = now.getTime();
  if (Number.isNaN(t)) throw new RangeError('now is not a valid date');
  if (suppressed) return [];
  const episode = `${incident.id}-${Date.parse(incident.openedAt).toString(36)}`;
  const out: PendingNotification[] = [];
  const add = (route: string, kind: NotificationKind, suffix = '') =>
    out.push({ route, kind, key: `${episode}-${kind}${suffix}/${route}`, threadKey: `${episode}-opened/${route}` });

  if (incident.status === 'resolved') {
    for (const route of new Set(routes)) {
      const d = incident.deliveries[route];
      if (d && d.opened !== null && d.resolved === null) add(route, 'resolved');
    }
    return out;
  }

  const flapping = flappingSince(incident, policy);
  const escalation = escalatesAt(incident, policy);
  const reminder = reminderDueAt(incident, policy, t);
  for (const route of new Set(routes)) {
    const d = incident.deliveries[route] ?? EMPTY_DELIVERY;
    const heard = lastHeard(d);
    if (flapping !== null && heard < Date.parse(flapping)) add(route, 'flapping');
    else if (d.opened === null) add(route, 'opened');
    else if (incident.ack)
      continue; // acknowledged: no escalation, no reminders until it changes
    else if (escalation !== null && escalation <= t && heard < escalation) add(route, 'escalated');
    else if (reminder !== null && heard < reminder) {
      add(route, 'reminder', `-${Math.round((reminder - Date.parse(incident.openedAt)) / policy.remindEveryMs)}`);
    }
  }
  return out;
}

function cleanError(error: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being removed
  const flat = error.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() || 'unknown error';
  return flat.length <= ERROR_MAX_CHARS ? flat : `${flat.slice(0, ERROR_MAX_CHARS - 1)}…`;
}

/**
 * The incident with one send's result recorded for a route (version unchanged; store it conditionally).
 * A success marks the kind delivered and clears the failure count; a failure counts it and keeps the error, so the
 * notification stays pending. A `resolved` recorded on an incident that is open again is ignored (the re-open's
 * own notifications follow).
 */
export function recordDelivery(
  incident: IncidentRecord,
  route: string,
  kind: NotificationKind,
  result: DeliveryResult,
  now: Date,
): IncidentRecord {
  const t = now.getTime();
  if (Number.isNaN(t)) throw new RangeError('now is not a valid date');
  const at = now.toISOString();
  const d = incident.deliveries[route] ?? EMPTY_DELIVERY;
  let next: DeliveryState;
  if (!result.ok) {
    const failures = d.failures + 1;
    const error = cleanError(result.error);
    next = {
      ...d,
      failures,
      lastError:
        failures >= STUCK_AFTER_FAILURES ? `${failures} failed attempts in a row, still retrying: ${error}` : error,
    };
  } else {
    if (kind === 'resolved' && incident.status !== 'resolved') return incident;
    const ok = { failures: 0, lastError: null };
    switch (kind) {
      case 'opened':
        next = { ...d, ...ok, opened: d.opened ?? at };
        break;
      case 'flapping':
        next = { ...d, ...ok, opened: d.opened ?? at, lastReminder: at };
        break;
      case 'reminder':
      case 'escalated':
        next = { ...d, ...ok, lastReminder: at };
        break;
      case 'resolved':
        next = { ...d, ...ok, resolved: at };
        break;
    }
  }
  return { ...incident, deliveries: { ...incident.deliveries, [route]: next } };
}

/** True when a route has failed {@link STUCK_AFTER_FAILURES} times in a row (worth a log line or another route). */
export function isDeliveryStuck(d: DeliveryState): boolean {
  return d.failures >= STUCK_AFTER_FAILURES;
}
