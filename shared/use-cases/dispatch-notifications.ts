/**
 * Dispatch notifications (the second half of a cycle's state stage): every incident of the given tenants that owes a
 * route something (opened, reminder, escalated, flapping, resolved) is sent now, unless a maintenance window or a
 * mute holds it back. Each send is claimed first in the store under its delivery key (a conditional write with a
 * lease), so of two overlapping runs only one sends; the other leaves it (`held`) or, when it was sent already, only
 * records it. The claim is completed after a success and released after a failure; a delivery is recorded on the
 * incident only after the send succeeded, so a failed send stays pending and is retried on the next cycle, and a
 * claim left by a dead run expires (its lease).
 *
 * `dryRun` builds the messages without sending or marking anything, so a later real run still sends them.
 */
import type { IncidentsSettings } from '../incidents/config.ts';
import { policyFor } from '../incidents/config.ts';
import {
  DELIVERY_LEASE_MS,
  type DeliveryResult,
  type PendingNotification,
  pendingNotifications,
  recordDelivery,
} from '../incidents/deliveries.ts';
import { isSuppressed } from '../incidents/suppression.ts';
import type { Alert, Notifier } from '../notify/alert.ts';
import { ConflictError, type IncidentRecord, type IncidentSeverity, type Store } from '../ports/stores.ts';
import type { Dispatch, TenantAlerting } from './record-cycle.ts';

export interface DispatchInput {
  readonly tenants: readonly TenantAlerting[];
  readonly incidents?: IncidentsSettings | undefined;
  readonly store: Store;
  readonly runId: string;
  readonly now: () => Date;
  readonly notifierFor: (routeId: string) => Notifier | { readonly error: string };
  readonly alertFor: (
    incident: IncidentRecord,
    kind: PendingNotification['kind'],
    tenantName: string,
    at: Date,
  ) => Promise<Alert>;
  readonly dryRun?: boolean;
  /** Who claims deliveries (default the run id): unique per process or Lambda invocation. */
  readonly owner?: string;
  /** Default {@link DELIVERY_LEASE_MS}. */
  readonly leaseMs?: number;
}

export interface DispatchResult {
  readonly dispatches: readonly Dispatch[];
  readonly held: readonly { readonly incidentId: string; readonly reason: string }[];
  readonly conflicts: number;
}

const SEVERITY_RANK: Record<IncidentSeverity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * Record one send's result on the incident and store it. On a conflict (another run wrote the incident meanwhile) the
 * incident is read again and the result applied once more; a second conflict leaves the notification pending, so it
 * is sent again next cycle (at least once, never lost).
 */
async function storeDelivery(
  store: Store,
  incident: IncidentRecord,
  route: string,
  kind: PendingNotification['kind'],
  outcome: DeliveryResult,
  now: Date,
): Promise<{ incident: IncidentRecord; conflicts: number }> {
  let current = incident;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return {
        incident: await store.incidents.put(recordDelivery(current, route, kind, outcome, now), current.version),
        conflicts: attempt,
      };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const fresh = await store.incidents.get(current.tenantId, current.id);
      if (!fresh) return { incident: current, conflicts: attempt + 1 };
      current = fresh;
    }
  }
  return { incident: current, conflicts: 2 };
}

/** Resolved incidents older than this no longer owe anybody a RESOLVED (the route was removed, or it is history). */
const RESOLVED_FOLLOW_UP_MS = 30 * 86_400_000;

/** Notify every route what it is owed for the tenants' incidents (`incidentsByTenant` is updated in place). */
export async function dispatchNotifications(
  input: DispatchInput,
  incidentsByTenant: ReadonlyMap<string, Map<string, IncidentRecord>>,
): Promise<DispatchResult> {
  const { store } = input;
  let conflicts = 0;
  // Notifications: what each route is owed, from what it has been told.
  const dispatches: Dispatch[] = [];
  const owner = input.owner ?? input.runId;
  const held: { incidentId: string; reason: string }[] = [];
  for (const tenant of input.tenants) {
    const incidents = incidentsByTenant.get(tenant.id) ?? new Map<string, IncidentRecord>();
    const now = input.now();
    for (const incident0 of incidents.values()) {
      if (incident0.status === 'resolved') {
        const r = incident0.resolvedAt ? Date.parse(incident0.resolvedAt) : 0;
        if (now.getTime() - r > RESOLVED_FOLLOW_UP_MS) continue;
      }
      const routes = tenant.routes
        .filter((r) => SEVERITY_RANK[incident0.severity] >= SEVERITY_RANK[r.minSeverity])
        .map((r) => r.id);
      if (routes.length === 0) continue;
      const policy = policyFor(incident0.check, input.incidents);
      const quiet = isSuppressed(tenant.suppression, incident0.check, incident0.subject, now);
      if (quiet.suppressed) {
        if (pendingNotifications(incident0, routes, policy, now, false).length > 0) {
          held.push({ incidentId: incident0.id, reason: quiet.reason ?? 'suppressed' });
        }
        continue;
      }
      let incident = incident0;
      for (const p of pendingNotifications(incident, routes, policy, now, false)) {
        const alert: Alert = {
          ...(await input.alertFor(incident, p.kind, tenant.name, now)),
          delivery: { key: p.key, threadKey: p.threadKey },
        };
        if (input.dryRun) {
          dispatches.push({
            route: p.route,
            kind: p.kind,
            incidentId: incident.id,
            tenantId: tenant.id,
            alert,
            ok: null,
            error: null,
          });
          continue;
        }
        const claim = await store.deliveries.claim(
          tenant.id,
          p.key,
          owner,
          input.now(),
          input.leaseMs ?? DELIVERY_LEASE_MS,
        );
        if (claim.status === 'held') {
          // Another run is sending it right now; it records the outcome.
          held.push({
            incidentId: incident.id,
            reason: `${p.kind} to ${p.route} is being sent by ${claim.claim.owner} (claimed until ${claim.claim.leaseUntil})`,
          });
          continue;
        }
        if (claim.status === 'delivered') {
          // Sent already (by another run, or by one that stopped before recording it): record it, do not send again.
          const stored = await storeDelivery(store, incident, p.route, p.kind, { ok: true }, now);
          incident = stored.incident;
          conflicts += stored.conflicts;
          continue;
        }
        const notifier = input.notifierFor(p.route);
        const result =
          'send' in notifier
            ? await notifier.send(alert)
            : { ok: false as const, retryable: true, error: notifier.error };
        if (result.ok) await store.deliveries.complete(tenant.id, p.key, owner, input.now());
        else await store.deliveries.release(tenant.id, p.key, owner);
        dispatches.push({
          route: p.route,
          kind: p.kind,
          incidentId: incident.id,
          tenantId: tenant.id,
          alert,
          ok: result.ok,
          error: result.ok ? null : result.error,
        });
        const outcome = result.ok ? { ok: true as const } : { ok: false as const, error: result.error };
        const stored = await storeDelivery(store, incident, p.route, p.kind, outcome, now);
        incident = stored.incident;
        conflicts += stored.conflicts;
      }
      incidents.set(incident.id, incident);
    }
  }

  return { dispatches, held, conflicts };
}
