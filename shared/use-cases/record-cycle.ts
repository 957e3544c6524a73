/**
 * After a monitoring cycle: remember every result, notice drift, decide incidents, and tell the right routes once.
 * Two use cases in order: `recordObservations` (record-observations.ts: steps 1 and 2) and `dispatchNotifications`
 * (dispatch-notifications.ts: step 3); then the run is recorded.
 *
 * 1. Every check result is stored (idempotent per run: a retried run writes nothing twice).
 * 2. For each observation (a domain's SPF or MX, an IP on one blocklist) the subject's state and incidents are read
 *    (the tenant's states, its active incidents through the store's index, and a settled incident by id when a
 *    failure may re-open it), a change of the published SPF record or MX set becomes an event (`spf-changed`,
 *    `mx-changed`) with before/after, and the pure incident policy decides; the state and the incidents it changes
 *    are written in one atomic, version-conditional write (`Store.writeDecision`).
 * 3. Every incident of the configured tenants that owes a route something (opened, reminder, escalated, flapping,
 *    resolved) is sent now, unless a maintenance window or a mute holds it back. Each send is claimed first in the
 *    store under its delivery key (a conditional write with a lease), so of two overlapping runs only one sends; the
 *    other leaves it (`held`) or, when it was sent already, only records it. The claim is completed after a success
 *    and released after a failure; a delivery is recorded on the incident only after the send succeeded, so a failed
 *    send stays pending and is retried on the next cycle, and a claim left by a dead run expires (its lease).
 *
 * `dryRun` does all of it except the sends: the messages are returned instead and nothing is marked delivered, so a
 * later real run still sends them. Secrets never reach stored items: check details and incident texts carry none.
 */
import type { IncidentsSettings } from '../incidents/config.ts';
import type { DELIVERY_LEASE_MS, PendingNotification } from '../incidents/deliveries.ts';
import type { TenantSuppression } from '../incidents/suppression.ts';
import type { Alert, Notifier } from '../notify/alert.ts';
import type { EventRecord, IncidentRecord, IncidentSeverity, RunSource, StatusCounts, Store } from '../ports/stores.ts';
import { dispatchNotifications } from './dispatch-notifications.ts';
import { recordObservations } from './record-observations.ts';
import type { TenantReport } from './run-checks.ts';

/** A tenant's routing and quiet times, from the configuration. */
export interface TenantAlerting {
  readonly id: string;
  readonly name: string;
  /** Route ids with the lowest severity each takes (tenant floor applied). */
  readonly routes: readonly { readonly id: string; readonly minSeverity: IncidentSeverity }[];
  readonly suppression?: TenantSuppression | undefined;
  /** The tenant's configured relay IPs (evidence in a Microsoft delisting request). */
  readonly relayIps?: readonly string[] | undefined;
}

export interface Dispatch {
  readonly route: string;
  readonly kind: PendingNotification['kind'];
  readonly incidentId: string;
  readonly tenantId: string;
  readonly alert: Alert;
  /** null in a dry run. */
  readonly ok: boolean | null;
  readonly error: string | null;
}

export interface CycleResult {
  readonly runId: string;
  readonly stored: number;
  readonly events: readonly EventRecord[];
  readonly opened: readonly IncidentRecord[];
  readonly resolved: readonly IncidentRecord[];
  readonly open: readonly IncidentRecord[];
  readonly dispatches: readonly Dispatch[];
  /** Suppressed notifications, with why (maintenance, mute). */
  readonly held: readonly { readonly incidentId: string; readonly reason: string }[];
  readonly conflicts: number;
}

export interface CycleInput {
  readonly reports: readonly TenantReport[];
  readonly tenants: readonly TenantAlerting[];
  readonly incidents?: IncidentsSettings | undefined;
  readonly store: Store;
  readonly runId: string;
  readonly source: RunSource;
  readonly startedAt: Date;
  readonly now: () => Date;
  /** The notifier for a route id, or a reason it cannot send (e.g. its webhook URL secret is not set). */
  readonly notifierFor: (routeId: string) => Notifier | { readonly error: string };
  /** Builds the alert for a notification (content, packet). */
  readonly alertFor: (
    incident: IncidentRecord,
    kind: PendingNotification['kind'],
    tenantName: string,
    at: Date,
  ) => Promise<Alert>;
  readonly dryRun?: boolean;
  /** The tenant the run belongs to, when it checked one tenant (a worker job): its run is listed per tenant. */
  readonly runTenant?: string | undefined;
  /** Who claims deliveries (default the run id): unique per process or Lambda invocation. */
  readonly owner?: string;
  /** Default {@link DELIVERY_LEASE_MS}. */
  readonly leaseMs?: number;
}

function counts(reports: readonly TenantReport[]): StatusCounts {
  const c = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  for (const t of reports) {
    for (const d of t.domains) for (const x of d.checks) c[x.status]++;
    for (const x of t.checks) c[x.status]++;
  }
  return c;
}

export async function recordCycle(input: CycleInput): Promise<CycleResult> {
  const recorded = await recordObservations(input);
  const sent = await dispatchNotifications(input, recorded.incidentsByTenant);
  await input.store.results.putRun({
    runId: input.runId,
    ...(input.runTenant !== undefined ? { tenantId: input.runTenant } : {}),
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.now().toISOString(),
    source: input.source,
    counts: counts(input.reports),
  });
  const open = [...recorded.incidentsByTenant.values()].flatMap((m) =>
    [...m.values()].filter((i) => i.status === 'open'),
  );
  return {
    runId: input.runId,
    stored: recorded.stored,
    events: recorded.events,
    opened: recorded.opened,
    resolved: recorded.resolved,
    open,
    dispatches: sent.dispatches,
    held: sent.held,
    conflicts: recorded.conflicts + sent.conflicts,
  };
}
