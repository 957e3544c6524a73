/**
 * Exactly-once digest e-mail per (week, audience, recipient) across retried and overlapping runs of the scheduled
 * digest (an EventBridge Scheduler retry, Lambda's own async retries, a duplicate delivery): the alerts' claim-before-
 * send (`DeliveryStore`) applied to the digest. Before an e-mail goes out, each recipient's claim is taken; only the
 * recipients whose claim this run holds get it (one e-mail to all of them); on success every claim is completed, on
 * failure released so the next attempt sends at once. A recipient already delivered, or held by a run that is sending
 * right now, is left out and reported.
 *
 * Claim keys: tenant id = the tenant (per-tenant digest) or {@link MSP_CLAIM_TENANT} (the MSP-wide one, which belongs to
 * no tenant); key = `digest/<week>/<audience>/<recipient, lower case>`. The store expires claims after its retention
 * period, long after the week is over.
 */
import type { DeliveryStore } from '../ports/stores.ts';
import type { SendDigest } from './build-digest.ts';

/** The claims' tenant id for the MSP-wide digest ('#' cannot start a tenant id, so no tenant can collide with it). */
export const MSP_CLAIM_TENANT = '#msp';

export interface DigestClaims {
  readonly deliveries: Pick<DeliveryStore, 'claim' | 'complete' | 'release'>;
  /** The week id (`2026-W47`): the run's deterministic identity. */
  readonly week: string;
  /** This invocation (e.g. `digest/2026-W47/<request id>`). */
  readonly owner: string;
  readonly now: () => Date;
  /** How long a claim protects a send in progress: longer than one e-mail's send takes. */
  readonly leaseMs: number;
}

export interface ClaimTally {
  /** Recipients this run sent to. */
  sent: number;
  /** Recipients left out: already sent by an earlier attempt. */
  alreadySent: number;
  /** Recipients left out: another run holds their claim right now. */
  held: number;
}

export function claimKey(week: string, audience: string, recipient: string): string {
  return `digest/${week}/${audience}/${recipient.trim().toLowerCase()}`;
}

/**
 * Wrap a sender so each recipient is claimed first. The wrapped sender answers ok when nothing was left to do (all
 * recipients already delivered), and not ok when a recipient is held by another run (that run reports its own result).
 */
export function sendOncePerRecipient(send: SendDigest, claims: DigestClaims, tally: ClaimTally): SendDigest {
  return async (audience, message) => {
    const tenant = audience === 'msp' ? MSP_CLAIM_TENANT : audience;
    const mine: string[] = [];
    const held: string[] = [];
    let done = 0;
    // One claim (and one copy) per mailbox: the same address twice, in any case, is one recipient.
    const unique = [...new Map(message.to.map((to) => [to.trim().toLowerCase(), to] as const)).values()];
    for (const to of unique) {
      const outcome = await claims.deliveries.claim(
        tenant,
        claimKey(claims.week, audience, to),
        claims.owner,
        claims.now(),
        claims.leaseMs,
      );
      if (outcome.status === 'claimed') mine.push(to);
      else if (outcome.status === 'delivered') done++;
      else held.push(to);
    }
    tally.alreadySent += done;
    tally.held += held.length;
    if (mine.length === 0) {
      return held.length === 0
        ? { ok: true, detail: `already sent to all ${done} recipient(s) by an earlier attempt` }
        : { ok: false, detail: `${held.length} recipient(s) held by another run that is sending now` };
    }
    let result: { ok: boolean; detail: string };
    try {
      result = await send(audience, { ...message, to: mine });
    } catch (err) {
      result = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    for (const to of mine) {
      const key = claimKey(claims.week, audience, to);
      if (result.ok) await claims.deliveries.complete(tenant, key, claims.owner, claims.now());
      else await claims.deliveries.release(tenant, key, claims.owner);
    }
    if (result.ok) tally.sent += mine.length;
    const notes = [
      done > 0 ? `${done} already sent earlier` : '',
      held.length > 0 ? `${held.length} held by another run` : '',
    ].filter(Boolean);
    return { ok: result.ok && held.length === 0, detail: [result.detail, ...notes].join('; ') };
  };
}
