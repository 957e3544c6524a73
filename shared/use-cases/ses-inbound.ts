/**
 * Confirmation on arrival for probes addressed to a receiving domain on the MSP's own AWS account: an SES receipt rule
 * stores the raw message in S3 and invokes a function, which hands the bytes here. Pure parsing plus one use case;
 * the handler (S3 read, env, wiring) belongs to the serverless functions and only calls these.
 *
 * - `parseSesInbound(raw, meta)`: the header block only (a probe's body says nothing), as a `MailboxMessage`: SES
 *   writes its own `Authentication-Results: amazonses.com; …` on top (trusted by its authserv-id, see evidence.ts),
 *   `X-SES-Spam-Verdict: FAIL` counts as the junk folder (SES has no folders), the arrival time is the S3 event's
 *   (else SES's topmost Received date).
 * - `confirmInbound(arrival, deps)`: matches the message to an outstanding probe of the tenant its
 *   `X-Relaywatch-Probe` header names, by Message-ID (the header is written by whoever sent the message: it only
 *   says where to look; the Message-ID of a probe we recorded is what counts), and records the outcome.
 */
import { headerFields, hopsOf } from '../confirm/evidence.ts';
import { type ConfirmPolicy, confirmationOutcome } from '../confirm/outcome.ts';
import type { CheckOutcome } from '../domain/outcome.ts';
import { bareMessageId, MAX_HEADER_BYTES, type MailboxMessage } from '../ports/probe-mailbox.ts';
import type { ResultStore } from '../ports/stores.ts';
import { type ConfirmClaims, outstandingProbes } from './confirm-probes.ts';
import type { TenantReport } from './run-checks.ts';

export const SES_AUTHSERV_ID = 'amazonses.com';

export interface InboundArrival {
  readonly message: MailboxMessage;
  /** From the X-Relaywatch-Probe header (untrusted: where to look, not proof). */
  readonly claimed: { readonly tenantId: string; readonly probeId: string } | null;
}

/** The header block of a raw RFC 5322 message, bounded. */
function headerBlock(raw: Uint8Array | string): string {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = end >= 0 ? text.slice(0, end) : text;
  return `${block.slice(0, MAX_HEADER_BYTES).replace(/\r?\n/g, '\r\n')}\r\n`;
}

/** @throws TypeError when the message has no usable Message-ID (not a probe; the caller drops it). */
export function parseSesInbound(
  raw: Uint8Array | string,
  meta: { readonly objectKey: string; readonly receivedAt?: string | null },
): InboundArrival {
  const headers = headerBlock(raw);
  const fields = headerFields(headers);
  const mid = fields.find((f) => f.key === 'message-id')?.value ?? '';
  const messageId = bareMessageId(mid);
  const spam =
    fields
      .find((f) => f.key === 'x-ses-spam-verdict')
      ?.value.trim()
      .toUpperCase() ?? null;
  const topReceived = hopsOf(fields).at(-1)?.at ?? null;
  const claim = fields.find((f) => f.key === 'x-relaywatch-probe')?.value ?? '';
  const tenant = /(?:^|;\s*)tenant=([^;\s]+)/.exec(claim)?.[1];
  const probe = /(?:^|;\s*)probe=([^;\s]+)/.exec(claim)?.[1];
  return {
    message: {
      ref: `s3:${meta.objectKey}`,
      messageId,
      folder: spam === 'FAIL' ? 'junk' : 'inbox',
      folderName: spam === 'FAIL' ? 'SES spam verdict FAIL' : 'SES inbound',
      receivedAt: meta.receivedAt ?? topReceived,
      headers,
    },
    claimed: tenant && probe ? { tenantId: tenant, probeId: probe } : null,
  };
}

export interface InboundDeps {
  readonly results: Pick<ResultStore, 'history'>;
  /** The tenant's confirmation policy by id; undefined for a tenant that is not configured. */
  readonly policyOf: (tenantId: string) => { readonly name: string; readonly policy: ConfirmPolicy } | undefined;
  readonly now: () => Date;
  readonly lookbackMs?: number;
  readonly record: (reports: readonly TenantReport[]) => Promise<void>;
  /** The verdict's claim, when the poller may confirm the same probe at the same time (confirm-probes.ts). */
  readonly claims?: ConfirmClaims | undefined;
  /** Told why a message is not recorded (for a log line); nothing is written then. */
  readonly dropped?: ((reason: string) => void) | undefined;
}

/** The recorded outcome, or null when the message is not an outstanding probe of a configured tenant. */
export async function confirmInbound(arrival: InboundArrival, deps: InboundDeps): Promise<CheckOutcome | null> {
  const drop = (reason: string) => {
    deps.dropped?.(reason);
    return null;
  };
  if (!arrival.claimed) return drop('no X-Relaywatch-Probe header: not a probe');
  const tenant = deps.policyOf(arrival.claimed.tenantId);
  if (!tenant) return drop('the tenant it names is not configured');
  const now = deps.now();
  const since = new Date(now.getTime() - (deps.lookbackMs ?? 48 * 3_600_000));
  const probe = (await outstandingProbes(deps.results, arrival.claimed.tenantId, since)).find(
    (p) => p.messageId === arrival.message.messageId,
  );
  if (!probe) return drop('no outstanding probe of the tenant has its Message-ID (confirmed already, or not ours)');
  const policy: ConfirmPolicy = {
    ...tenant.policy,
    trustedAuthservIds: [...(tenant.policy.trustedAuthservIds ?? []), SES_AUTHSERV_ID],
  };
  const outcome = confirmationOutcome(probe, { kind: 'found', message: arrival.message }, policy, now);
  if (!outcome) return drop('no verdict');
  if (deps.claims && !(await deps.claims.take(probe.tenantId, probe.probeId))) {
    return drop("another run holds or has recorded this probe's verdict");
  }
  await deps.record([
    { id: probe.tenantId, name: tenant.name, status: outcome.status, domains: [], checks: [outcome] },
  ]);
  await deps.claims?.done(probe.tenantId, probe.probeId);
  return outcome;
}
