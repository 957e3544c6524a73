/**
 * Round-trip confirmation of probes: look for every outstanding probe in its tenant's probe mailbox, turn what was
 * found (or not) into `probe-confirmation` outcomes, have them recorded, then remove the messages that were read.
 *
 * Outstanding probes are remembered by the stores that already hold every probe result: a `probe-submission` or
 * `probe-relay` check record whose diagnosis is `ok` (Exchange Online queued the message) carries the probe id, the
 * Message-ID, the sending time and the path in its detail. A probe stops being outstanding once a `probe-confirmation`
 * record with a verdict (anything but `unknown`) exists for it; probes older than the lookback are no longer asked
 * for. Nothing new is needed in the store ports, and both adapters (SQLite, DynamoDB) serve it.
 *
 * Order matters: the outcomes are recorded (`record`) before anything is removed from the mailbox, so a failed write
 * loses nothing (the message is still there next time). A removal that fails is reported, never fatal.
 *
 * Every I/O crossing is a parameter (the result store, the mailbox per tenant, the recorder, the clock), so the CLI
 * and a scheduled Lambda run the same code.
 */
import {
  CONFIRMATION_CHECK,
  type ConfirmPolicy,
  confirmationOutcome,
  type OutstandingProbe,
  type ProbeLook,
} from '../confirm/outcome.ts';
import { type CheckOutcome, type JsonValue, worstStatus } from '../domain/outcome.ts';
import type { MailboxMessage, ProbeMailbox } from '../ports/probe-mailbox.ts';
import type { CheckRecord, DeliveryStore, ResultStore } from '../ports/stores.ts';
import type { TenantReport } from './run-checks.ts';

export const DEFAULT_LOOKBACK_MS = 48 * 3_600_000;
/** At most this many probe records are read per tenant and kind (newest first). */
const MAX_RECORDS = 5000;

export interface ConfirmTenant {
  readonly id: string;
  readonly name: string;
  readonly policy: ConfirmPolicy;
  /** `delete` (the default) removes what was read; `keep` leaves it (a confirmed probe is never looked for again). */
  readonly afterRead: 'delete' | 'keep';
  /** The tenant's mailbox, or why it cannot be opened (a secret that is not set): the probes become `unknown`. */
  readonly mailbox: () => ProbeMailbox | { readonly error: string };
  /** Only the probes this mailbox receives (e.g. those addressed to an SES receiving domain); default every probe. */
  readonly accepts?: ((probe: OutstandingProbe) => boolean) | undefined;
}

/**
 * Who may record a probe's verdict, when several processes confirm at once (overlapping scheduled runs, the SES
 * inbound function beside the poller): `take` before recording a verdict (true: this run records it; false: another
 * run holds or has recorded it, so this one leaves the probe alone), `done` after the verdict was recorded.
 * `unknown` outcomes take no claim: they decide nothing.
 */
export interface ConfirmClaims {
  take(tenantId: string, probeId: string): Promise<boolean>;
  done(tenantId: string, probeId: string): Promise<void>;
}

/** The claim key of a probe's verdict in the delivery-claim store (apart from the notifications' delivery keys). */
export function confirmationClaimKey(probeId: string): string {
  return `confirmation/${probeId}`;
}

/**
 * {@link ConfirmClaims} on the store's delivery claims (one conditional write each; see `DeliveryStore`): the owner is
 * the run id, so a retry of the same run takes its own claim again, and a claim left by a run that died expires
 * after `leaseMs`, when the probe is looked for again.
 */
export function storeClaims(
  deliveries: Pick<DeliveryStore, 'claim' | 'complete'>,
  owner: string,
  now: () => Date,
  leaseMs = 10 * 60_000,
): ConfirmClaims {
  return {
    take: async (tenantId, probeId) =>
      (await deliveries.claim(tenantId, confirmationClaimKey(probeId), owner, now(), leaseMs)).status === 'claimed',
    done: (tenantId, probeId) => deliveries.complete(tenantId, confirmationClaimKey(probeId), owner, now()),
  };
}

export interface ConfirmInput {
  readonly tenants: readonly ConfirmTenant[];
  readonly results: Pick<ResultStore, 'history'>;
  readonly now: () => Date;
  /** Only this probe. */
  readonly probeId?: string | undefined;
  /** Only probes sent at least this long ago (a scheduler passes its poll interval). Default 0. */
  readonly minAgeMs?: number | undefined;
  readonly lookbackMs?: number | undefined;
  /** Stores the outcomes (and decides incidents); runs before anything is removed. */
  readonly record: (reports: readonly TenantReport[]) => Promise<void>;
  /** Claims on verdicts, for runs that may overlap (the Lambda poller); absent: this process is the only one. */
  readonly claims?: ConfirmClaims | undefined;
}

export interface TenantConfirmation {
  readonly tenantId: string;
  /** Looked for and not found yet, deadline not reached. */
  readonly pending: readonly OutstandingProbe[];
  readonly outcomes: readonly CheckOutcome[];
  /** Messages removed from the mailbox after recording; the error when the removal failed. */
  readonly removed: number;
  readonly removeError: string | null;
  /** Why the mailbox could not be used, when it could not. */
  readonly mailboxError: string | null;
  /** Probes whose verdict another run holds or has recorded (left alone by this one). */
  readonly claimedElsewhere: readonly string[];
}

export interface ConfirmResult {
  readonly tenants: readonly TenantConfirmation[];
  readonly reports: readonly TenantReport[];
}

function str(detail: JsonValue | null, key: string): string | null {
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return null;
  const v = (detail as { readonly [k: string]: JsonValue })[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

async function records(results: Pick<ResultStore, 'history'>, tenantId: string, check: string, since: string) {
  const out: CheckRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await results.history(tenantId, { check, since, limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== null && out.length < MAX_RECORDS);
  return out;
}

/** The tenant's accepted probes since `since` that have no confirmation verdict yet, oldest first. */
export async function outstandingProbes(
  results: Pick<ResultStore, 'history'>,
  tenantId: string,
  since: Date,
): Promise<OutstandingProbe[]> {
  const iso = since.toISOString();
  const confirmed = new Set(
    (await records(results, tenantId, CONFIRMATION_CHECK, iso))
      .filter((r) => r.status !== 'unknown')
      .map((r) => str(r.detail, 'probeId') ?? r.subject),
  );
  const byId = new Map<string, OutstandingProbe>();
  for (const kind of ['submission', 'relay'] as const) {
    for (const r of await records(results, tenantId, `probe-${kind}`, iso)) {
      if (str(r.detail, 'diagnosis') !== 'ok') continue;
      const probeId = str(r.detail, 'probeId');
      const messageId = str(r.detail, 'messageId');
      const sentAt = str(r.detail, 'sentAt') ?? r.at;
      if (!probeId || !messageId || confirmed.has(probeId) || byId.has(probeId)) continue;
      // Stored data is untrusted input: a time that does not parse cannot be judged against a deadline.
      if (Number.isNaN(Date.parse(sentAt))) continue;
      byId.set(probeId, {
        tenantId,
        probeId,
        messageId,
        sentAt,
        kind,
        from: str(r.detail, 'from') ?? r.subject,
        to: str(r.detail, 'to') ?? '',
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.probeId.localeCompare(b.probeId));
}

function failedLook(reason: 'config' | 'protocol', message: string): ProbeLook {
  return { kind: 'failed', failure: { ok: false, reason, message } };
}

export async function confirmProbes(input: ConfirmInput): Promise<ConfirmResult> {
  const started = input.now();
  const since = new Date(started.getTime() - (input.lookbackMs ?? DEFAULT_LOOKBACK_MS));
  const minAge = input.minAgeMs ?? 0;
  const work: {
    tenant: ConfirmTenant;
    mailbox: ProbeMailbox | null;
    mailboxError: string | null;
    pending: OutstandingProbe[];
    outcomes: CheckOutcome[];
    read: MailboxMessage[];
    claimedElsewhere: string[];
  }[] = [];

  for (const tenant of input.tenants) {
    const probes = (await outstandingProbes(input.results, tenant.id, since)).filter(
      (p) =>
        (input.probeId === undefined || p.probeId === input.probeId) &&
        (tenant.accepts === undefined || tenant.accepts(p)) &&
        started.getTime() - Date.parse(p.sentAt) >= minAge,
    );
    const entry = {
      tenant,
      mailbox: null as ProbeMailbox | null,
      mailboxError: null as string | null,
      pending: [] as OutstandingProbe[],
      outcomes: [] as CheckOutcome[],
      read: [] as MailboxMessage[],
      claimedElsewhere: [] as string[],
    };
    work.push(entry);
    if (probes.length === 0) continue;
    const opened = tenant.mailbox();
    let looks: Map<string, ProbeLook>;
    const readOf = new Map<string, readonly MailboxMessage[]>();
    if ('error' in opened) {
      entry.mailboxError = opened.error;
      looks = new Map(probes.map((p) => [p.probeId, failedLook('config', opened.error)]));
    } else {
      entry.mailbox = opened;
      const found = await opened.find(probes.map((p) => p.messageId));
      looks = new Map(
        probes.map((p): [string, ProbeLook] => {
          if (!found.ok) return [p.probeId, { kind: 'failed', failure: found }];
          const messages = found.found.get(p.messageId) ?? [];
          // Junk first would hide an Inbox copy; the Inbox copy is the delivery that counts.
          const best = messages.find((m) => m.folder === 'inbox') ?? messages[0];
          readOf.set(p.probeId, messages);
          return [p.probeId, best ? { kind: 'found', message: best } : { kind: 'absent' }];
        }),
      );
      if (!found.ok) entry.mailboxError = `${found.reason}: ${found.message}`;
    }
    const now = input.now();
    for (const p of probes) {
      const look = looks.get(p.probeId) ?? failedLook('protocol', 'no answer for this probe');
      const outcome = confirmationOutcome(p, look, tenant.policy, now);
      if (!outcome) {
        entry.pending.push(p);
        continue;
      }
      // A verdict is recorded by one run only; the run that leaves it also leaves its message to the other.
      if (outcome.status !== 'unknown' && input.claims && !(await input.claims.take(tenant.id, p.probeId))) {
        entry.claimedElsewhere.push(p.probeId);
        continue;
      }
      entry.outcomes.push(outcome);
      entry.read.push(...(readOf.get(p.probeId) ?? []));
    }
  }

  // One report per tenant, also for a tenant confirmed along two paths (its mailbox and the SES receiving domain).
  const byTenant = new Map<string, { name: string; checks: CheckOutcome[] }>();
  for (const w of work) {
    if (w.outcomes.length === 0) continue;
    const r = byTenant.get(w.tenant.id) ?? { name: w.tenant.name, checks: [] };
    r.checks.push(...w.outcomes);
    byTenant.set(w.tenant.id, r);
  }
  const reports: TenantReport[] = [...byTenant].map(([id, r]) => ({
    id,
    name: r.name,
    status: worstStatus(r.checks.map((o) => o.status)),
    domains: [],
    checks: r.checks,
  }));
  if (reports.length > 0) await input.record(reports);
  if (input.claims) {
    for (const w of work)
      for (const o of w.outcomes) if (o.status !== 'unknown') await input.claims.done(w.tenant.id, o.subject);
  }

  const tenants: TenantConfirmation[] = [];
  for (const w of work) {
    let removed = 0;
    let removeError: string | null = null;
    if (w.mailbox && w.tenant.afterRead === 'delete' && w.read.length > 0) {
      const r = await w.mailbox.remove(w.read.map((m) => m.ref));
      if (r.ok) removed = r.removed;
      else removeError = `${r.reason}: ${r.message}`;
    }
    tenants.push({
      tenantId: w.tenant.id,
      pending: w.pending,
      outcomes: w.outcomes,
      removed,
      removeError,
      mailboxError: w.mailboxError,
      claimedElsewhere: w.claimedElsewhere,
    });
  }
  return { tenants, reports };
}
