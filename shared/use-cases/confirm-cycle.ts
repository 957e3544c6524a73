/**
 * One scheduled confirmation run (the confirm function; the same steps the CLI's `relaywatch confirm` takes): the
 * tenants that can be confirmed, their outstanding probes looked for (confirm-probes.ts), the outcomes recorded with
 * the incident decisions and the alerts of the monitoring cycle (record-cycle.ts: claim-before-send), then the
 * messages that were read removed.
 *
 * Which tenants, and how:
 * - a tenant with a `probeMailbox` (Graph or IMAP): its probes are looked for there;
 * - with an SES receiving domain deployed, probes addressed to that domain are confirmed on arrival by the SES
 *   inbound function; the poller only looks after them once the deadline has passed (`not-delivered`): the SES
 *   "mailbox" is the store itself, where an arrival already ended the probe's outstanding time. A tenant with a
 *   probe mailbox leaves its SES-addressed probes to this path too.
 *
 * Idempotent under retries and overlapping runs: the run id comes from the scheduled time (a retry of the same tick
 * writes the same records), each probe's verdict is claimed before it is recorded (`claims`: of two overlapping runs
 * one records it, the other leaves it), and alerts are claimed before they are sent (record-cycle.ts).
 * A mailbox or token failure is an `unknown` outcome: recorded, never opening or closing an incident.
 */

import type { ProbeMailboxConfig, RelaywatchConfig } from '../config/schema.ts';
import { DEFAULT_DEADLINE_MS, DEFAULT_LATE_AFTER_MS, type OutstandingProbe } from '../confirm/outcome.ts';
import type { CheckOutcome } from '../domain/outcome.ts';
import type { Notifier } from '../notify/alert.ts';
import { tenantAlerting } from '../notify/routing.ts';
import type { FindResult, ProbeMailbox } from '../ports/probe-mailbox.ts';
import type { Store } from '../ports/stores.ts';
import { alertBuilder } from './alert-builder.ts';
import {
  type ConfirmResult,
  type ConfirmTenant,
  confirmProbes,
  DEFAULT_LOOKBACK_MS,
  storeClaims,
} from './confirm-probes.ts';
import { type CycleResult, recordCycle } from './record-cycle.ts';
import type { TenantReport } from './run-checks.ts';
import { confirmInbound, type InboundArrival } from './ses-inbound.ts';

/** A probe addressed to the SES receiving domain (case-insensitive, the domain itself, not a subdomain). */
export function addressedTo(domain: string): (p: Pick<OutstandingProbe, 'to'>) => boolean {
  const d = domain.toLowerCase();
  return (p) => p.to.toLowerCase().endsWith(`@${d}`);
}

/**
 * The SES receiving domain's "mailbox" for the poller: arrivals are recorded by the SES inbound function as they
 * come, so a probe still outstanding has not arrived: nothing is ever found here, and nothing is removed.
 */
export const RECORDED_ON_ARRIVAL: ProbeMailbox = {
  find: async (ids): Promise<FindResult> => ({ ok: true, found: new Map(ids.map((id) => [id, []])) }),
  remove: async () => ({ ok: true, removed: 0 }),
};

export interface ConfirmCycleInput {
  readonly config: RelaywatchConfig;
  readonly store: Store;
  /** The tenant's mailbox adapter (shared/adapters/mailbox/open-mailbox.ts), or why it cannot be used. */
  readonly mailboxFor: (cfg: ProbeMailboxConfig) => Promise<ProbeMailbox | { readonly error: string }>;
  readonly notifierFor: (routeId: string) => Notifier | { readonly error: string };
  /** The SES receiving domain when the SES inbound path is deployed; null otherwise. */
  readonly sesInboundDomain: string | null;
  /** Deterministic per scheduled tick (`confirm-2026-11-27T18:05:00.000Z`). */
  readonly runId: string;
  /** Who claims verdicts and alerts; default the run id, so a retry of the same tick takes its own claims again. */
  readonly owner?: string;
  readonly startedAt: Date;
  readonly now: () => Date;
}

export interface ConfirmCycleResult {
  readonly confirm: ConfirmResult;
  readonly cycle: CycleResult | null;
}

/** The tenants of the config the run confirms, with their mailboxes opened (adapters are built, nothing contacted). */
export async function confirmTenants(
  config: RelaywatchConfig,
  mailboxFor: ConfirmCycleInput['mailboxFor'],
  sesInboundDomain: string | null,
): Promise<ConfirmTenant[]> {
  const ses = sesInboundDomain ? addressedTo(sesInboundDomain) : null;
  const out: ConfirmTenant[] = [];
  for (const t of config.tenants) {
    const cfg = t.probeMailbox;
    if (cfg) {
      const mailbox = await mailboxFor(cfg);
      out.push({
        id: t.id,
        name: t.name,
        policy: {
          lateAfterMs: cfg.lateAfterMinutes * 60_000,
          deadlineMs: cfg.deadlineMinutes * 60_000,
          trustedAuthservIds: cfg.trustedAuthservIds,
        },
        afterRead: cfg.afterRead,
        mailbox: () => mailbox,
        ...(ses ? { accepts: (p: OutstandingProbe) => !ses(p) } : {}),
      });
    }
    if (ses) {
      out.push({
        id: t.id,
        name: t.name,
        policy: {
          lateAfterMs: (cfg?.lateAfterMinutes ?? DEFAULT_LATE_AFTER_MS / 60_000) * 60_000,
          deadlineMs: (cfg?.deadlineMinutes ?? DEFAULT_DEADLINE_MS / 60_000) * 60_000,
        },
        afterRead: 'keep',
        mailbox: () => RECORDED_ON_ARRIVAL,
        accepts: ses,
      });
    }
  }
  return out;
}

/** The monitoring cycle's state stage for confirmation outcomes: results, incident decisions, claimed alerts. */
function recordConfirmations(
  reports: readonly TenantReport[],
  input: Pick<ConfirmCycleInput, 'config' | 'store' | 'notifierFor' | 'runId' | 'startedAt' | 'now'> & {
    readonly owner: string;
  },
): Promise<CycleResult> {
  const covered = new Set(reports.map((r) => r.id));
  return recordCycle({
    reports,
    tenants: tenantAlerting(input.config).filter((t) => covered.has(t.id)),
    incidents: input.config.incidents,
    store: input.store,
    runId: input.runId,
    source: 'lambda',
    startedAt: input.startedAt,
    now: input.now,
    notifierFor: input.notifierFor,
    alertFor: alertBuilder(input.config),
    owner: input.owner,
  });
}

export async function runConfirmCycle(input: ConfirmCycleInput): Promise<ConfirmCycleResult> {
  const { config, store } = input;
  const owner = input.owner ?? input.runId;
  const tenants = await confirmTenants(config, input.mailboxFor, input.sesInboundDomain);
  let cycle: CycleResult | null = null;
  const confirm = await confirmProbes({
    tenants,
    results: store.results,
    now: input.now,
    lookbackMs: DEFAULT_LOOKBACK_MS,
    claims: storeClaims(store.deliveries, owner, input.now),
    record: async (reports) => {
      cycle = await recordConfirmations(reports, { ...input, owner });
    },
  });
  return { confirm, cycle };
}

export interface InboundCycleInput extends Omit<ConfirmCycleInput, 'mailboxFor' | 'sesInboundDomain'> {
  readonly arrival: InboundArrival;
  /** Told why a message is not recorded (spam to the receiving domain, a probe confirmed already). */
  readonly dropped?: (reason: string) => void;
}

export interface InboundCycleResult {
  readonly outcome: CheckOutcome | null;
  readonly cycle: CycleResult | null;
}

/**
 * One message the SES receipt rule stored (the SES inbound function): matched to its outstanding probe, recorded
 * with the incident decisions and alerts of the monitoring cycle, or dropped (nothing written) when it is no probe
 * of ours. The verdict is claimed like the poller's, so the two never both record one probe.
 */
export async function runInboundConfirmation(input: InboundCycleInput): Promise<InboundCycleResult> {
  const { config, store } = input;
  const owner = input.owner ?? input.runId;
  const tenants = new Map(config.tenants.map((t) => [t.id, t]));
  let cycle: CycleResult | null = null;
  const outcome = await confirmInbound(input.arrival, {
    results: store.results,
    now: input.now,
    lookbackMs: DEFAULT_LOOKBACK_MS,
    policyOf: (id) => {
      const t = tenants.get(id);
      if (!t) return undefined;
      const cfg = t.probeMailbox;
      return {
        name: t.name,
        policy: {
          lateAfterMs: cfg ? cfg.lateAfterMinutes * 60_000 : DEFAULT_LATE_AFTER_MS,
          deadlineMs: cfg ? cfg.deadlineMinutes * 60_000 : DEFAULT_DEADLINE_MS,
          trustedAuthservIds: cfg?.trustedAuthservIds ?? [],
        },
      };
    },
    claims: storeClaims(store.deliveries, owner, input.now),
    ...(input.dropped ? { dropped: input.dropped } : {}),
    record: async (reports) => {
      cycle = await recordConfirmations(reports, { ...input, owner });
    },
  });
  return { outcome, cycle };
}
