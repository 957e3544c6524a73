/** sendOncePerRecipient on the real claim semantics (an in-memory SQLite store). */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import type { SendDigest } from '../../../shared/use-cases/build-digest.ts';
import {
  type ClaimTally,
  claimKey,
  MSP_CLAIM_TENANT,
  sendOncePerRecipient,
} from '../../../shared/use-cases/send-digest-once.ts';

const NOW = new Date('2026-11-23T07:00:00.000Z');
let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

function setup(owner = 'digest/2026-W47/req-1') {
  store ??= openSqliteStore({ path: ':memory:' });
  const sent: { audience: string; to: readonly string[] }[] = [];
  let fail = false;
  const send: SendDigest = async (audience, message) => {
    if (fail) return { ok: false, detail: 'email: 421 try later' };
    sent.push({ audience, to: message.to });
    return { ok: true, detail: 'accepted' };
  };
  const tally: ClaimTally = { sent: 0, alreadySent: 0, held: 0 };
  const once = sendOncePerRecipient(
    send,
    { deliveries: store.deliveries, week: '2026-W47', owner, now: () => NOW, leaseMs: 45_000 },
    tally,
  );
  return { once, sent, tally, failNext: (v: boolean) => (fail = v) };
}

const message = (to: string[]) => ({ subject: 's', html: '<p>h</p>', text: 't', to });

describe('sendOncePerRecipient', () => {
  it('sends one copy per mailbox, whatever the case, and records each as delivered', async () => {
    const { once, sent, tally } = setup();
    const r = await once('msp', message(['NOC@msp.example', 'noc@msp.example', 'boss@msp.example']));
    expect(r.ok).toBe(true);
    expect(sent).toEqual([{ audience: 'msp', to: ['noc@msp.example', 'boss@msp.example'] }]);
    expect(tally).toEqual({ sent: 2, alreadySent: 0, held: 0 });
    const claim = await store!.deliveries.get(MSP_CLAIM_TENANT, claimKey('2026-W47', 'msp', 'Noc@MSP.example'));
    expect(claim?.deliveredAt).toBe(NOW.toISOString());
  });

  it('leaves out a recipient sent by an earlier attempt, and sends a new one', async () => {
    const first = setup();
    await first.once('contoso', message(['it@contoso.example']));
    const retry = setup('digest/2026-W47/req-2');
    const r = await retry.once('contoso', message(['it@contoso.example', 'cio@contoso.example']));
    expect(r).toEqual({ ok: true, detail: 'accepted; 1 already sent earlier' });
    expect(retry.sent).toEqual([{ audience: 'contoso', to: ['cio@contoso.example'] }]);
    const nothing = await setup('digest/2026-W47/req-3').once('contoso', message(['it@contoso.example']));
    expect(nothing).toEqual({ ok: true, detail: 'already sent to all 1 recipient(s) by an earlier attempt' });
  });

  it('releases the claims of a failed send, so the next attempt sends at once', async () => {
    const first = setup();
    first.failNext(true);
    expect((await first.once('contoso', message(['it@contoso.example']))).ok).toBe(false);
    expect(first.tally.sent).toBe(0);
    const retry = setup('digest/2026-W47/req-2');
    expect((await retry.once('contoso', message(['it@contoso.example']))).ok).toBe(true);
    expect(retry.sent).toHaveLength(1);
  });

  it('does not send to a recipient another run holds, and reports the e-mail as not sent', async () => {
    const other = 'digest/2026-W47/req-9';
    store = openSqliteStore({ path: ':memory:' });
    await store.deliveries.claim('contoso', claimKey('2026-W47', 'contoso', 'it@contoso.example'), other, NOW, 45_000);
    const { once, sent, tally } = setup();
    const r = await once('contoso', message(['it@contoso.example']));
    expect(r).toEqual({ ok: false, detail: '1 recipient(s) held by another run that is sending now' });
    expect(sent).toEqual([]);
    expect(tally.held).toBe(1);
  });
});
