/**
 * Record observations and decide incidents (the first half of a cycle's state stage; `recordCycle` runs both halves).
 *
 * 1. Every check result is stored (idempotent per run: a retried run writes nothing twice).
 * 2. For each observation (a domain's SPF or MX, an IP on one blocklist) the subject's state and incidents are read
 *    (the tenant's states, its active incidents through the store's index, and a settled incident by id when a
 *    failure may re-open it), a change of the published SPF record or MX set becomes an event (`spf-changed`,
 *    `mx-changed`) with before/after, and the pure incident policy decides; the state and the incidents it changes
 *    are written in one atomic, version-conditional write (`Store.writeDecision`).
 *
 * Returns the tenants' incidents as they stand after the decisions, for `dispatchNotifications`.
 */
import { createHash } from 'node:crypto';
import type { TenantReport } from '../domain/reports.ts';
import type { IncidentsSettings } from '../incidents/config.ts';
import { policyFor } from '../incidents/config.ts';
import { incidentId } from '../incidents/id.ts';
import { decide, type Observation } from '../incidents/policy.ts';
import { observe } from '../monitor/observe.ts';
import { ConflictError, type EventRecord, type IncidentRecord, type Store } from '../ports/stores.ts';

export interface RecordInput {
  readonly reports: readonly TenantReport[];
  /** The tenants whose observations are decided (with their relay IPs, evidence for delisting requests). */
  readonly tenants: readonly { readonly id: string; readonly relayIps?: readonly string[] | undefined }[];
  readonly incidents?: IncidentsSettings | undefined;
  readonly store: Store;
  readonly runId: string;
  readonly startedAt: Date;
  readonly now: () => Date;
}

export interface RecordResult {
  readonly stored: number;
  readonly events: readonly EventRecord[];
  readonly opened: readonly IncidentRecord[];
  readonly resolved: readonly IncidentRecord[];
  /** Per tenant: its active incidents after the decisions (by id). */
  readonly incidentsByTenant: ReadonlyMap<string, Map<string, IncidentRecord>>;
  readonly conflicts: number;
}

const EVENT_KIND: Record<string, string> = {
  open: 'incident-opened',
  reopen: 'incident-reopened',
  resolve: 'incident-resolved',
  escalate: 'incident-escalated',
  flapping: 'incident-flapping',
};

function eventId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24);
}

/**
 * The incidents a tenant's decisions and notifications need: the active ones (open, or owing a RESOLVED) through the
 * store's index. A failing observation whose settled incident is not among them is read by id when it comes up, so a
 * resolved incident re-opens in place.
 */
async function activeIncidents(store: Store, tenantId: string): Promise<IncidentRecord[]> {
  return [...(await store.incidents.listActive(tenantId))];
}

export async function recordObservations(input: RecordInput): Promise<RecordResult> {
  const { store } = input;
  const at = input.startedAt.toISOString();
  const relayIps = new Map(input.tenants.map((t) => [t.id, t.relayIps ?? []]));
  const { checks, observations } = observe(input.reports, {
    runId: input.runId,
    at,
    relayIps: (id) => relayIps.get(id) ?? [],
  });
  await store.results.putChecks(checks);

  const events: EventRecord[] = [];
  const opened: IncidentRecord[] = [];
  const resolved: IncidentRecord[] = [];
  let conflicts = 0;
  const byTenant = new Map<string, Observation[]>();
  for (const o of observations) byTenant.set(o.tenantId, [...(byTenant.get(o.tenantId) ?? []), o]);

  const incidentsByTenant = new Map<string, Map<string, IncidentRecord>>();
  for (const tenant of input.tenants) {
    const states = new Map((await store.states.list(tenant.id)).map((s) => [`${s.check}\0${s.subject}`, s]));
    const incidents = new Map((await activeIncidents(store, tenant.id)).map((i) => [i.id, i]));
    incidentsByTenant.set(tenant.id, incidents);
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
      const policy = policyFor(obs.check, input.incidents);
      const now = input.now();
      const d = decide({ state, incidents: mine }, obs, policy, now);
      if (d.ignored) continue;
      if (
        obs.fingerprint !== undefined &&
        obs.fingerprint !== null &&
        state?.fingerprint &&
        state.fingerprint !== obs.fingerprint
      ) {
        events.push({
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
          if (change.action === 'open' || change.action === 'reopen') opened.push(stored);
          if (change.action === 'resolve') resolved.push(stored);
          if (change.action !== 'none' && change.action !== 'remind') {
            events.push({
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
        if (err instanceof ConflictError) conflicts++;
        else throw err;
      }
    }
  }
  await store.results.putEvents(events);

  return { stored: checks.length, events, opened, resolved, incidentsByTenant, conflicts };
}
