/**
 * After a monitoring cycle: remember every result, notice drift, decide incidents, and tell the right routes once.
 *
 * 1. Every check result is stored (idempotent per run: a retried run writes nothing twice); with `runWithResults` (a
 *    worker job) the run record in the same write.
 * 2. For each observation (a domain's SPF or MX, an IP on one blocklist) the subject's state and incidents are read,
 *    a change of the published SPF record or MX set becomes an event (`spf-changed`, `mx-changed`) with before/after,
 *    and the pure incident policy decides; the state and the incidents it changes are written in one atomic,
 *    version-conditional write (`Store.writeDecision`); the tenant's incidents are read through the store's index of
 *    active ones (open, or owing a RESOLVED), a settled one by id when a failure may re-open it.
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
import { createHash } from 'node:crypto';
import { ipInEntries } from '../domain/ip.ts';
import type { IncidentsSettings } from '../incidents/config.ts';
import { policyFor } from '../incidents/config.ts';
import {
  DELIVERY_LEASE_MS,
  type DeliveryResult,
  type PendingNotification,
  pendingNotifications,
  recordDelivery,
} from '../incidents/deliveries.ts';
import { incidentId } from '../incidents/id.ts';
import { decide, type Observation, retire } from '../incidents/policy.ts';
import { isSuppressed, type TenantSuppression } from '../incidents/suppression.ts';
import { decodeContent, isPolicyListing, observe } from '../monitor/observe.ts';
import { SELF_CHECK, SELF_TENANT, selfHealthObservation } from '../monitor/self-health.ts';
import type { Alert, Notifier } from '../notify/alert.ts';
import {
  ConflictError,
  type EventRecord,
  type IncidentRecord,
  type IncidentSeverity,
  type RunRecord,
  type RunSource,
  type StatusCounts,
  type Store,
  type SubjectState,
} from '../ports/stores.ts';
import type { TenantReport } from './run-checks.ts';

/** A tenant's routing and quiet times, from the configuration. */
export interface TenantAlerting {
  readonly id: string;
  readonly name: string;
  /** Route ids with the lowest severity each takes (tenant floor applied). */
  readonly routes: readonly { readonly id: string; readonly minSeverity: IncidentSeverity }[];
  readonly suppression?: TenantSuppression | undefined;
  /** The tenant's configured relay IPs (evidence in a Microsoft delisting request; what stays monitored). */
  readonly relayIps?: readonly string[] | undefined;
  /**
   * What the configuration still monitors for the tenant, to retire incidents of removed subjects: its domains and
   * its submission mailbox(es). Absent: nothing is retired for this tenant (the caller does not know).
   */
  readonly monitored?: { readonly domains: readonly string[]; readonly mailboxes: readonly string[] } | undefined;
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
  /** Observations whose state was left as stored: nothing the policy reads changed ({@link stateUnchanged}). */
  readonly unchangedStates: number;
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
  /** Who claims deliveries (default the run id): unique per process or Lambda invocation. */
  readonly owner?: string;
  /** The tenant the run belongs to, when it checked one tenant (a worker job): its run is listed per tenant. */
  readonly runTenant?: string | undefined;
  /**
   * Store the run record (default true). An agent report passes false: its one result already holds all its run
   * would (run id, time, status), and a run per report would be 1.4 million items a month at 1,000 tenants
   * (docs/deploy.md, "Cost").
   */
  readonly recordRun?: boolean;
  /**
   * Write the run record with the check results (one write: on DynamoDB the same BatchWriteItem, so a worker job's
   * run costs no request of its own) instead of after the alerts. Its `finishedAt` is then when the results were
   * stored, and a run whose decisions or alerts fail afterwards stays recorded (its results are); its redelivery
   * writes both again, replacing them. The worker's jobs do this (`monitor-job.ts`); the CLI does not: its run record,
   * written last, says the whole run finished (what `relaywatch status` shows as the last run).
   */
  readonly runWithResults?: boolean;
  /** Default {@link DELIVERY_LEASE_MS}. */
  readonly leaseMs?: number;
  /** Tenants decided at once (default {@link TENANT_CONCURRENCY}). */
  readonly tenantConcurrency?: number;
  /**
   * Every tenant id of the configuration (not only this run's) and every configured route id. When given, open
   * incidents of tenants the configuration no longer has are retired ("no longer monitored") and their RESOLVED goes
   * to the routes that were told they opened and still exist.
   */
  readonly configured?: { readonly tenantIds: readonly string[]; readonly routeIds: readonly string[] } | undefined;
  /**
   * The MSP-wide self-health incident (`shared/monitor/self-health.ts`): when given, every run records whether it could
   * check anything, and the incident (tenant `_relaywatch`) goes to these routes (the configuration's default routes).
   */
  readonly selfHealth?:
    | { readonly routes: readonly { readonly id: string; readonly minSeverity: IncidentSeverity }[] }
    | undefined;
}

const EVENT_KIND: Record<string, string> = {
  retire: 'incident-retired',
  open: 'incident-opened',
  reopen: 'incident-reopened',
  resolve: 'incident-resolved',
  escalate: 'incident-escalated',
  flapping: 'incident-flapping',
};

const SEVERITY_RANK: Record<IncidentSeverity, number> = { info: 0, warning: 1, critical: 2 };

function eventId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24);
}

/**
 * The incidents a tenant's decisions and notifications need: the active ones (open, or owing a RESOLVED) through the
 * store's index, never every incident the tenant ever had. A failing observation whose settled incident is not among
 * them is read by id when it comes up, so a resolved incident re-opens in place.
 */
async function activeIncidents(store: Store, tenantId: string): Promise<IncidentRecord[]> {
  return [...(await store.incidents.listActive(tenantId))];
}

function counts(reports: readonly TenantReport[]): StatusCounts {
  const c = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  for (const t of reports) {
    for (const d of t.domains) for (const x of d.checks) c[x.status]++;
    for (const x of t.checks) c[x.status]++;
  }
  return c;
}

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

/** The policy an incident follows (policy listings: no escalation, no daily reminders). */
export function incidentPolicy(incident: IncidentRecord, settings: IncidentsSettings | undefined) {
  return policyFor(incident.check, settings, { policyListing: isPolicyListing(decodeContent(incident.lastDetail)) });
}

function beforeLastAt(subject: string): string {
  const at = subject.lastIndexOf('@');
  return at < 0 ? subject : subject.slice(0, at);
}

/**
 * True when an open incident's subject is no longer configured for the tenant, so it can never pass or fail again:
 * a domain check (`spf`, `mx`, `domain-blocklist`) of a domain the tenant no longer lists; a blocklist listing of an
 * IP this run did not check although it checked blocklists, and which no relay entry covers; a submission probe of a
 * mailbox that is no longer the tenant's. Relay probes (from site agents) and other checks are retired only with
 * their tenant. A subject observed in this run is never retired.
 */
export function isRetired(
  incident: IncidentRecord,
  tenant: TenantAlerting,
  run: { readonly blocklistsRan: boolean; readonly checkedIps: ReadonlySet<string> },
): boolean {
  const m = tenant.monitored;
  if (!m) return false;
  const domains = new Set(m.domains.map((d) => d.toLowerCase()));
  switch (incident.check) {
    case 'spf':
    case 'mx':
      return !domains.has(incident.subject.toLowerCase());
    case 'domain-blocklist':
      return !domains.has(beforeLastAt(incident.subject).toLowerCase());
    case 'blocklist': {
      const ip = beforeLastAt(incident.subject);
      return run.blocklistsRan && !run.checkedIps.has(ip) && !ipInEntries(ip, tenant.relayIps ?? []);
    }
    case 'probe-submission':
      return !m.mailboxes.map((x) => x.toLowerCase()).includes(incident.subject.toLowerCase());
    default:
      return false;
  }
}

/**
 * Every name a user may give the incident's subject in a mute: the stored one (`203.0.113.50@spamhaus-zen`) and, for
 * a listing, the one alerts show (`203.0.113.50@zen.spamhaus.org`, the zone's name).
 */
export function subjectNames(incident: Pick<IncidentRecord, 'subject' | 'lastDetail'>): string[] {
  const listing = decodeContent(incident.lastDetail).listing;
  return listing ? [incident.subject, `${listing.domain ?? listing.ip}@${listing.zone}`] : [incident.subject];
}

/**
 * A state that did not change is still rewritten once this long after its `lastAt` (the heartbeat): `lastAt` and
 * `lastRunId` are then at most a day old, and the counters catch up (they are lower bounds in between).
 */
export const STATE_HEARTBEAT_MS = 24 * 3_600_000;

/**
 * True when writing `next` over `prev` would change nothing the policy reads, so the write is skipped (no request):
 * the same status, fingerprint and fingerprint value, counters that are equal or both past what the policy compares
 * (`openAfter`, `resolveAfter`: a count beyond the threshold + 1 decides the same as any bigger one), and a stored
 * `lastAt` younger than {@link STATE_HEARTBEAT_MS}. The steady cycle (nothing changed) then writes no state at all;
 * `lastAt`/`lastRunId` say when the state was last written, the run records and results say when it was checked.
 */
export function stateUnchanged(
  prev: SubjectState,
  next: SubjectState,
  policy: { readonly openAfter: number; readonly resolveAfter: number },
): boolean {
  const same = (a: number, b: number, threshold: number) => a === b || (a > threshold && b > threshold);
  return (
    prev.lastStatus === next.lastStatus &&
    prev.fingerprint === next.fingerprint &&
    prev.fingerprintValue === next.fingerprintValue &&
    same(prev.consecutiveFails, next.consecutiveFails, policy.openAfter) &&
    same(prev.consecutivePasses, next.consecutivePasses, policy.resolveAfter) &&
    Date.parse(next.lastAt) - Date.parse(prev.lastAt) < STATE_HEARTBEAT_MS
  );
}

/** Resolved incidents older than this no longer owe anybody a RESOLVED (the route was removed, or it is history). */
const RESOLVED_FOLLOW_UP_MS = 30 * 86_400_000;

/** What the notification step needs from the decision step: the tenants to notify for and their incidents. */
export interface NotificationPlan {
  readonly tenants: readonly TenantAlerting[];
  readonly incidentsByTenant: Map<string, Map<string, IncidentRecord>>;
}

export interface RecordedObservations {
  readonly stored: number;
  readonly events: readonly EventRecord[];
  readonly opened: readonly IncidentRecord[];
  readonly resolved: readonly IncidentRecord[];
  readonly conflicts: number;
  readonly unchangedStates: number;
  readonly plan: NotificationPlan;
}

export interface DispatchedNotifications {
  readonly dispatches: readonly Dispatch[];
  readonly held: readonly { readonly incidentId: string; readonly reason: string }[];
  readonly conflicts: number;
}

/** Tenants decided at once by {@link recordObservations} (each tenant's writes stay one after another). */
export const TENANT_CONCURRENCY = 16;

interface Accumulator {
  readonly events: EventRecord[];
  readonly opened: IncidentRecord[];
  readonly resolved: IncidentRecord[];
  conflicts: number;
  unchanged: number;
  incidents: Map<string, IncidentRecord>;
}

function accumulator(): Accumulator {
  return { events: [], opened: [], resolved: [], conflicts: 0, unchanged: 0, incidents: new Map() };
}

function merge(into: Accumulator, from: Accumulator): void {
  into.events.push(...from.events);
  into.opened.push(...from.opened);
  into.resolved.push(...from.resolved);
  into.conflicts += from.conflicts;
  into.unchanged += from.unchanged;
}

/**
 * Run `work(0..count-1)` at most `limit` at a time. After a failure no new work starts, and the call rejects (with the
 * first error) only once the work in flight has settled: nothing keeps writing after the caller saw the failure.
 */
async function forEachLimited(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < count) {
      try {
        await work(next++);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  if (failure !== null) throw (failure as { readonly error: unknown }).error;
}

/**
 * Record observations and decide incidents: store the results, notice drift, decide (one write per decision), retire
 * what is no longer monitored. Returns what the notification step needs (`dispatchNotifications`).
 */
export async function recordObservations(input: CycleInput): Promise<RecordedObservations> {
  const { store } = input;
  const at = input.startedAt.toISOString();
  const relayIps = new Map(input.tenants.map((t) => [t.id, t.relayIps ?? []]));
  const { checks, observations } = observe(input.reports, {
    runId: input.runId,
    at,
    relayIps: (id) => relayIps.get(id) ?? [],
  });
  await store.results.putChecks(checks, input.recordRun !== false && input.runWithResults ? runOf(input) : undefined);

  const all = accumulator();
  const byTenant = new Map<string, Observation[]>();
  for (const o of observations) {
    const list = byTenant.get(o.tenantId);
    if (list) list.push(o);
    else byTenant.set(o.tenantId, [o]);
  }
  const reportById = new Map(input.reports.map((r) => [r.id, r]));
  const blocklistsRan = input.reports.some((r) => r.checks.some((c) => c.kind === 'blocklist'));

  /** Retire one open incident (stored conditionally; a conflict leaves it to the next run), recording the event. */
  const retireOne = async (incident: IncidentRecord, acc: Accumulator): Promise<IncidentRecord | null> => {
    try {
      const stored = await store.incidents.put(retire(incident, input.now()), incident.version);
      acc.resolved.push(stored);
      acc.events.push({
        tenantId: stored.tenantId,
        eventId: eventId(stored.tenantId, input.runId, stored.id, 'retire'),
        at,
        kind: EVENT_KIND.retire ?? 'incident-retired',
        subject: stored.subject,
        before: null,
        after: `${stored.id} ${stored.problem}: no longer monitored`,
        runId: input.runId,
      });
      return stored;
    } catch (err) {
      if (err instanceof ConflictError) {
        acc.conflicts++;
        return null;
      }
      throw err;
    }
  };

  // The MSP-wide self-health subject: did this run check anything at all?
  const self: TenantAlerting | null = input.selfHealth
    ? { id: SELF_TENANT, name: 'relaywatch (the MSP’s monitor)', routes: input.selfHealth.routes }
    : null;
  if (self) {
    const prev = (await store.states.list(SELF_TENANT)).find((x) => x.check === SELF_CHECK);
    const obs = selfHealthObservation(input.reports, { runId: input.runId, at }, (prev?.consecutiveFails ?? 0) + 1);
    if (obs) byTenant.set(SELF_TENANT, [obs]);
  }

  const incidentsByTenant = new Map<string, Map<string, IncidentRecord>>();
  /** One tenant's decisions, in observation order (its writes one after another: one partition, one writer). */
  const decideTenant = async (tenant: TenantAlerting, acc: Accumulator): Promise<void> => {
    // The two reads are independent: asked at once (one round trip to the store per tenant, not two in a row).
    const [stateList, active] = await Promise.all([store.states.list(tenant.id), activeIncidents(store, tenant.id)]);
    const states = new Map(stateList.map((s) => [`${s.check}\0${s.subject}`, s]));
    const incidents = new Map(active.map((i) => [i.id, i]));
    acc.incidents = incidents;
    for (const obs of byTenant.get(tenant.id) ?? []) {
      const key = `${obs.check}\0${obs.subject}`;
      const state = states.get(key) ?? null;
      if (obs.status === 'fail' || obs.failing === true) {
        const id = incidentId(tenant.id, obs.check, obs.subject, obs.problem);
        if (!incidents.has(id)) {
          const settled = await store.incidents.get(tenant.id, id);
          if (settled) incidents.set(id, settled);
        }
      }
      const mine = [...incidents.values()].filter((i) => i.check === obs.check && i.subject === obs.subject);
      const policy = policyFor(obs.check, input.incidents, {
        policyListing: isPolicyListing(decodeContent(obs.detail)),
      });
      const now = input.now();
      const d = decide({ state, incidents: mine }, obs, policy, now);
      if (d.ignored) continue;
      if (
        obs.fingerprint !== undefined &&
        obs.fingerprint !== null &&
        state?.fingerprint &&
        state.fingerprint !== obs.fingerprint
      ) {
        acc.events.push({
          tenantId: tenant.id,
          eventId: eventId(tenant.id, input.runId, obs.check, obs.subject, 'changed'),
          at,
          kind: `${obs.check}-changed`,
          subject: obs.subject,
          before: state.fingerprintValue,
          after: obs.fingerprintValue ?? null,
          runId: input.runId,
        });
      }
      // Nothing the policy reads moved (the steady cycle): no write. The self-health state keeps its exact count (its
      // title says how many runs in a row failed), and is one item per MSP.
      if (
        d.changes.length === 0 &&
        state !== null &&
        tenant.id !== SELF_TENANT &&
        stateUnchanged(state, d.state, policy)
      ) {
        acc.unchanged++;
        continue;
      }
      try {
        // State and incidents in one write: a failure between the two can neither lose nor delay an incident.
        const written = await store.writeDecision({
          state: d.state,
          stateExpectedVersion: d.stateExpectedVersion,
          incidents: d.changes.map((c) => ({ incident: c.incident, expectedVersion: c.expectedVersion })),
        });
        states.set(key, written.state);
        const storedById = new Map(written.incidents.map((i) => [i.id, i]));
        for (const change of d.changes) {
          const stored = storedById.get(change.incident.id) ?? change.incident;
          incidents.set(stored.id, stored);
          if (change.action === 'open' || change.action === 'reopen') acc.opened.push(stored);
          if (change.action === 'resolve') acc.resolved.push(stored);
          if (change.action !== 'none' && change.action !== 'remind') {
            acc.events.push({
              tenantId: tenant.id,
              eventId: eventId(tenant.id, input.runId, stored.id, change.action),
              at,
              kind: EVENT_KIND[change.action] ?? `incident-${change.action}`,
              subject: obs.subject,
              before: null,
              after: `${stored.id} ${stored.problem}`,
              runId: input.runId,
            });
          }
        }
      } catch (err) {
        // Another writer (a parallel run) got there first: its decision stands; this observation is dropped.
        if (err instanceof ConflictError) acc.conflicts++;
        else throw err;
      }
    }

    // Incidents whose subject is no longer configured resolve as retired: nothing would ever close them otherwise.
    const observed = new Set((byTenant.get(tenant.id) ?? []).map((o) => `${o.check}\0${o.subject}`));
    const report = reportById.get(tenant.id);
    const checkedIps = new Set((report?.checks ?? []).filter((c) => c.kind === 'blocklist').map((c) => c.subject));
    for (const incident of [...incidents.values()]) {
      if (incident.status !== 'open' || observed.has(`${incident.check}\0${incident.subject}`)) continue;
      if (!isRetired(incident, tenant, { blocklistsRan, checkedIps })) continue;
      const r = await retireOne(incident, acc);
      if (r) incidents.set(r.id, r);
    }
  };

  // Tenants in parallel (each its own partition, at most TENANT_CONCURRENCY at once), merged in tenant order so the
  // result reads the same as one tenant after the other.
  const order = self ? [...input.tenants, self] : input.tenants;
  const accs = order.map(() => accumulator());
  await forEachLimited(order.length, input.tenantConcurrency ?? TENANT_CONCURRENCY, (i) =>
    decideTenant(order[i] as TenantAlerting, accs[i] as Accumulator),
  );
  order.forEach((tenant, i) => {
    const acc = accs[i] as Accumulator;
    incidentsByTenant.set(tenant.id, acc.incidents);
    merge(all, acc);
  });

  // Tenants the configuration no longer has: every open incident of theirs is retired.
  const orphans = new Map<string, Map<string, IncidentRecord>>();
  if (input.configured) {
    const known = new Set([...input.configured.tenantIds, SELF_TENANT]);
    let cursor: string | null = null;
    do {
      const page = await store.incidents.listOpen({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const incident of page.items) {
        if (known.has(incident.tenantId)) continue;
        const fresh = await store.incidents.get(incident.tenantId, incident.id);
        if (fresh?.status !== 'open') continue;
        const r = await retireOne(fresh, all);
        if (!r) continue;
        const m = orphans.get(r.tenantId) ?? new Map<string, IncidentRecord>();
        m.set(r.id, r);
        orphans.set(r.tenantId, m);
      }
      cursor = page.cursor;
    } while (cursor !== null);
  }
  await store.results.putEvents(all.events);

  // A removed tenant's retired incidents: RESOLVED to the routes that heard they opened (if they still exist).
  const removed: TenantAlerting[] = [...orphans.keys()].map((id) => ({
    id,
    name: id,
    routes: (input.configured?.routeIds ?? []).map((r) => ({ id: r, minSeverity: 'info' as const })),
  }));
  for (const [id, m] of orphans) incidentsByTenant.set(id, m);
  return {
    stored: checks.length,
    events: all.events,
    opened: all.opened,
    resolved: all.resolved,
    conflicts: all.conflicts,
    unchangedStates: all.unchanged,
    plan: { tenants: [...input.tenants, ...(self ? [self] : []), ...removed], incidentsByTenant },
  };
}

/**
 * Dispatch notifications: every incident of the planned tenants that owes a route something is sent once (claimed
 * before sending under its delivery key), unless held back by a maintenance window or a mute.
 */
export async function dispatchNotifications(
  input: CycleInput,
  plan: NotificationPlan,
): Promise<DispatchedNotifications> {
  const { store } = input;
  const incidentsByTenant = plan.incidentsByTenant;
  let conflicts = 0;
  // Notifications: what each route is owed, from what it has been told.
  const dispatches: Dispatch[] = [];
  const owner = input.owner ?? input.runId;
  const held: { incidentId: string; reason: string }[] = [];
  for (const tenant of plan.tenants) {
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
      const policy = incidentPolicy(incident0, input.incidents);
      const quiet = isSuppressed(tenant.suppression, incident0.check, subjectNames(incident0), now);
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

/** The run record of a cycle, finished now. */
function runOf(input: CycleInput): RunRecord {
  return {
    runId: input.runId,
    ...(input.runTenant !== undefined ? { tenantId: input.runTenant } : {}),
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.now().toISOString(),
    source: input.source,
    counts: counts(input.reports),
  };
}

export async function recordCycle(input: CycleInput): Promise<CycleResult> {
  const recorded = await recordObservations(input);
  const sent = await dispatchNotifications(input, recorded.plan);
  if (input.recordRun !== false && !input.runWithResults) await input.store.results.putRun(runOf(input));
  const open = [...recorded.plan.incidentsByTenant.values()].flatMap((m) =>
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
    unchangedStates: recorded.unchangedStates,
  };
}
