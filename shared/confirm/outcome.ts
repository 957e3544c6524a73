/**
 * Round-trip confirmation as a check outcome (pure): what finding a probe earns from what the probe mailbox showed.
 *
 * Outcomes (finding codes, docs/findings.md "Probe confirmation"):
 * - `delivered` (pass): found in the Inbox (or another folder a user rule chose) within `lateAfterMs` of sending.
 * - `delivered-late` (warn): found, but it took longer than `lateAfterMs` (the hops say where the time went).
 * - `delivered-junk` (warn): found in the Junk Email folder.
 * - `auth-failing` (fail): found, and the Authentication-Results header Exchange Online added says SPF is not `pass`
 *   or DMARC is not `pass` (`bestguesspass`, Microsoft's "no DMARC record, but it would pass", counts as pass). A
 *   verdict the receiver did not give (intra-organisation mail has none) is not evaluated, never failing.
 * - `not-delivered` (fail): not found once `deadlineMs` has passed since sending. Before that the probe is still
 *   pending: no outcome, it is looked for again next time.
 * - `confirmation-unknown` (unknown): the mailbox could not be read (unreachable, login or token refused,
 *   throttled): that says nothing about delivery, so it opens and closes nothing and the probe stays outstanding.
 *
 * Incidents: one subject per probe path (`submission:app@contoso.com`, `relay:scanner@contoso.com`); per run the
 * newest confirmed probe of a path is its observation. `not-delivered` and `auth-failing` are the problems that open.
 */
import { type CheckOutcome, type Finding, finding, type JsonValue, statusOf } from '../domain/outcome.ts';
import type { Observation } from '../incidents/policy.ts';
import { encodeContent } from '../monitor/observe.ts';
import { findingTitle } from '../monitor/titles.ts';
import type { MailboxFailure, MailboxMessage } from '../ports/probe-mailbox.ts';
import { type AuthVerdicts, type MessageEvidence, messageEvidence } from './evidence.ts';

export const CONFIRMATION_CHECK = 'probe-confirmation' as const;
export const DEFAULT_LATE_AFTER_MS = 10 * 60_000;
export const DEFAULT_DEADLINE_MS = 30 * 60_000;

/** A probe Exchange Online accepted and nobody has confirmed yet. */
export interface OutstandingProbe {
  readonly tenantId: string;
  readonly probeId: string;
  /** Without angle brackets. */
  readonly messageId: string;
  /** ISO 8601 UTC. */
  readonly sentAt: string;
  readonly kind: 'relay' | 'submission';
  readonly from: string;
  readonly to: string;
}

export interface ConfirmPolicy {
  readonly lateAfterMs: number;
  readonly deadlineMs: number;
  readonly trustedAuthservIds?: readonly string[];
}

export type ProbeLook =
  | { readonly kind: 'found'; readonly message: MailboxMessage }
  | { readonly kind: 'absent' }
  | { readonly kind: 'failed'; readonly failure: MailboxFailure };

export type ConfirmationCode =
  | 'delivered'
  | 'delivered-late'
  | 'delivered-junk'
  | 'auth-failing'
  | 'not-delivered'
  | 'confirmation-unknown';

/** The incident subject of a probe: its path. */
export function probePath(p: Pick<OutstandingProbe, 'kind' | 'from'>): string {
  return `${p.kind}:${p.from.toLowerCase()}`;
}

/** SPF or DMARC verdicts that fail, as `spf=softfail`, `dmarc=fail`; empty when nothing failed or nothing was said. */
export function failingVerdicts(auth: AuthVerdicts): string[] {
  const out: string[] = [];
  if (auth.spf && auth.spf.result !== 'pass') out.push(`spf=${auth.spf.result}`);
  if (auth.dmarc && auth.dmarc.result !== 'pass' && auth.dmarc.result !== 'bestguesspass') {
    out.push(`dmarc=${auth.dmarc.result}`);
  }
  return out;
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m < 1 ? `${Math.round(ms / 1000)} s` : `${m < 10 ? m.toFixed(1) : Math.round(m)} min`;
}

function verdictText(auth: AuthVerdicts): string {
  if (auth.source === null) return 'no Authentication-Results from Exchange Online (not evaluated)';
  const parts = [
    auth.spf ? `spf=${auth.spf.result}${auth.spf.ip ? ` (IP ${auth.spf.ip})` : ''}` : 'spf not evaluated',
    ...auth.dkim.map((d) => `dkim=${d.result}${d.domain && d.domain !== 'none' ? ` (${d.domain})` : ''}`),
    auth.dmarc ? `dmarc=${auth.dmarc.result}${auth.dmarc.action ? ` action=${auth.dmarc.action}` : ''}` : null,
    auth.compauth
      ? `compauth=${auth.compauth.result}${auth.compauth.reason ? ` reason=${auth.compauth.reason}` : ''}`
      : null,
  ];
  return parts.filter((p): p is string => p !== null).join(', ');
}

function slowestHop(e: MessageEvidence): { by: string | null; delayMs: number } | null {
  let best: { by: string | null; delayMs: number } | null = null;
  for (const h of e.hops)
    if (h.delayMs !== null && (!best || h.delayMs > best.delayMs)) best = { by: h.by, delayMs: h.delayMs };
  return best;
}

/**
 * The outcome of one probe, or null while it is pending (not found, deadline not reached). `now` is the time of the
 * look. Never throws for what the mailbox returned.
 */
export function confirmationOutcome(
  probe: OutstandingProbe,
  look: ProbeLook,
  policy: ConfirmPolicy,
  now: Date,
): CheckOutcome | null {
  const sent = Date.parse(probe.sentAt);
  const path = probePath(probe);
  const base = {
    probeId: probe.probeId,
    messageId: probe.messageId,
    path,
    kind: probe.kind,
    from: probe.from,
    to: probe.to,
    sentAt: probe.sentAt,
  };
  const outcome = (findings: Finding[], details: Record<string, JsonValue>): CheckOutcome => ({
    kind: CONFIRMATION_CHECK,
    subject: probe.probeId,
    status: statusOf(findings),
    findings,
    details: { ...base, outcome: findings[0]?.code ?? 'delivered', ...details },
    durationMs: 0,
  });

  if (look.kind === 'failed') {
    return outcome(
      [
        finding(
          'confirmation-unknown',
          'unknown',
          `Could not look for probe ${probe.probeId} in the probe mailbox (${look.failure.reason}): ${look.failure.message}. That says nothing about delivery; it is looked for again next time.`,
          { reason: look.failure.reason },
        ),
      ],
      { mailboxError: look.failure.reason },
    );
  }

  if (look.kind === 'absent') {
    const waited = now.getTime() - sent;
    if (waited < policy.deadlineMs) return null;
    return outcome(
      [
        finding(
          'not-delivered',
          'error',
          `The ${probe.kind} probe ${probe.probeId} from ${probe.from} to ${probe.to}, accepted at ${probe.sentAt}, has not arrived after ${minutes(waited)} (deadline ${minutes(policy.deadlineMs)}): Exchange Online accepted it but did not deliver it (quarantine, a transport rule, or a delay).`,
          { waitedMs: waited },
        ),
      ],
      { waitedMs: waited, folder: 'not-found' },
    );
  }

  const m = look.message;
  const e = messageEvidence(
    m.headers,
    policy.trustedAuthservIds ? { trustedAuthservIds: policy.trustedAuthservIds } : {},
  );
  const lastHop = [...e.hops].reverse().find((h) => h.at !== null)?.at ?? null;
  const arrivedAt = m.receivedAt ?? lastHop ?? now.toISOString();
  const arrivalFrom = m.receivedAt ? 'mailbox' : lastHop ? 'received-header' : 'found';
  const latencyMs = Math.max(0, Date.parse(arrivedAt) - sent);
  const failing = failingVerdicts(e.auth);
  const findings: Finding[] = [];
  const where =
    m.folder === 'junk' ? 'the Junk Email folder' : m.folder === 'inbox' ? 'the Inbox' : `folder ${m.folderName}`;
  if (failing.length > 0) {
    findings.push(
      finding(
        'auth-failing',
        'error',
        `The ${probe.kind} probe from ${probe.from} arrived, but Exchange Online's authentication failed: ${failing.join(', ')} (${verdictText(e.auth)}). Receivers junk or reject such mail; fix SPF/DKIM/DMARC for the sender domain.`,
        { verdicts: failing },
      ),
    );
  }
  if (m.folder === 'junk') {
    findings.push(
      finding(
        'delivered-junk',
        'warning',
        `The ${probe.kind} probe from ${probe.from} was delivered to the Junk Email folder (SCL ${e.spam.scl ?? 'not given'}${e.spam.cat ? `, CAT ${e.spam.cat}` : ''}).`,
      ),
    );
  }
  if (latencyMs > policy.lateAfterMs) {
    const slow = slowestHop(e);
    findings.push(
      finding(
        'delivered-late',
        'warning',
        `The ${probe.kind} probe from ${probe.from} took ${minutes(latencyMs)} to arrive (threshold ${minutes(policy.lateAfterMs)})${slow ? `; the longest hop was ${minutes(slow.delayMs)} before ${slow.by ?? 'an unnamed host'}` : ''}.`,
        { latencyMs },
      ),
    );
  }
  if (findings.length === 0) {
    findings.push(
      finding(
        'delivered',
        'info',
        `The ${probe.kind} probe from ${probe.from} arrived in ${where} after ${minutes(latencyMs)} (${verdictText(e.auth)}).`,
        { latencyMs },
      ),
    );
  }
  return outcome(findings, {
    folder: m.folder,
    folderName: m.folderName,
    arrivedAt,
    arrivalFrom,
    latencyMs,
    auth: {
      source: e.auth.source,
      authservId: e.auth.authservId,
      spf: e.auth.spf ? { ...e.auth.spf } : null,
      dkim: e.auth.dkim.map((d) => ({ ...d })),
      dmarc: e.auth.dmarc ? { ...e.auth.dmarc } : null,
      compauth: e.auth.compauth ? { ...e.auth.compauth } : null,
      ignored: e.auth.ignored,
    },
    spam: { ...e.spam },
    hops: e.hops.map((h) => ({ ...h })),
  });
}

const REMEDIATION: Record<string, readonly string[]> = {
  'not-delivered': [
    'Run a message trace in the Exchange admin center for the probe’s Message-ID: it says whether the message was quarantined, dropped by a transport rule, or is still queued.',
    'Check quarantine (Microsoft Defender portal → Review → Quarantine) and release the probe if it is there; then fix what put it there.',
  ],
  'auth-failing': [
    'Make SPF pass for the IP Exchange Online saw: add it (ip4:/ip6:) or the sending service’s include: to the sender domain’s SPF record.',
    'Publish DKIM for the sender domain (Microsoft Defender portal → Email authentication settings) and a DMARC record that aligns.',
  ],
};

/** One observation per probe path: the newest confirmed probe of the path (checks in sending order). */
export function confirmationObservations(
  tenantId: string,
  checks: readonly CheckOutcome[],
  run: { readonly runId: string; readonly at: string },
): Observation[] {
  const newest = new Map<string, CheckOutcome>();
  for (const c of checks) {
    if (c.kind !== CONFIRMATION_CHECK || c.status === 'unknown') continue;
    const path = typeof c.details?.path === 'string' ? c.details.path : c.subject;
    const prev = newest.get(path);
    const sentOf = (x: CheckOutcome) => (typeof x.details?.sentAt === 'string' ? x.details.sentAt : '');
    if (!prev || sentOf(c) >= sentOf(prev)) newest.set(path, c);
  }
  return [...newest.entries()].map(([path, c]) => {
    const main = c.findings.find((f) => f.severity === 'error') ?? c.findings[0];
    const problem = main && main.severity === 'error' ? main.code : 'ok';
    return {
      tenantId,
      check: CONFIRMATION_CHECK,
      subject: path,
      status: c.status,
      problem,
      severity: 'critical',
      title: findingTitle(
        problem === 'ok' ? (main?.code ?? 'delivered') : problem,
        { subject: path, ips: [], hosts: [] },
        `Probe confirmation for ${path}: ${problem}`,
      ).slice(0, 200),
      detail: encodeContent({
        what: main?.message ?? `Probe confirmation for ${path}: ${c.status}`,
        why:
          problem === 'auth-failing'
            ? 'Mail from this path fails SPF or DMARC at Exchange Online: it is junked or quarantined, and receivers outside the tenant may reject it.'
            : 'Exchange Online accepted the probe but it never reached the mailbox: the devices’ or applications’ mail on this path is disappearing the same way.',
        remediation: REMEDIATION[problem] ?? [],
        links: [],
        evidence: typeof c.details?.messageId === 'string' ? `Message-ID <${c.details.messageId}>` : null,
      }),
      runId: run.runId,
      at: run.at,
    };
  });
}
