/**
 * makeSesInbound with fakes: the real raw message of the fixtures behind a recording S3 reader, an SES receipt event
 * of the documented shape, an in-memory SQLite store holding the accepted probe, recording logger and metrics.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { makeSesInbound } from '../../../functions/ses-inbound/ses-inbound.ts';
import type { RawRead } from '../../../shared/adapters/mailbox/s3-raw-message.ts';
import { CONFIRMATION_CHECK } from '../../../shared/confirm/outcome.ts';
import { CONFIRM_METRICS } from '../../../shared/deploy/constants.ts';
import { FakeConfigSource, LAMBDA_CONTEXT, RecordingLogger, RecordingMetrics } from '../../support/lambda-fakes.ts';
import { sesEvent } from '../../support/ses-event.ts';
import { SES_PROBE_ID, SES_PROBE_MESSAGE_ID, SES_PROBE_RAW, storeWithSesProbe } from '../../support/ses-probe.ts';

const RAW = SES_PROBE_RAW;
const MESSAGE_ID = SES_PROBE_MESSAGE_ID;
const PROBE_ID = SES_PROBE_ID;
const storeWithProbe = storeWithSesProbe;
const SES_ID = 'o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1';
const CONFIG = `
version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example] }
`;
const SPAM = `Return-Path: <bulk@spam.example>
Received: from mx.spam.example (mx.spam.example [198.51.100.9]) by inbound-smtp.eu-west-1.amazonaws.com with SMTP id spam0001 for probe@probes.msp.example; Fri, 27 Nov 2026 18:10:00 +0000 (UTC)
X-SES-Spam-Verdict: FAIL
Authentication-Results: amazonses.com; spf=fail smtp.mailfrom=spam.example; dmarc=none header.from=spam.example;
From: Deals <bulk@spam.example>
To: probe@probes.msp.example
Subject: You won
Message-ID: <win-123@spam.example>

Click here.
`;

async function setup(objects: Record<string, string | RawRead>) {
  const store = await storeWithProbe();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const reads: string[] = [];
  const handler = makeSesInbound({
    config: new FakeConfigSource(CONFIG),
    store,
    secrets: async () => ({ env: {} }),
    messages: {
      keyOf: (id) => `inbound/${id}`,
      read: async (id) => {
        reads.push(id);
        const o = objects[id];
        if (o === undefined) return { ok: false, reason: `s3://data/inbound/${id}: NoSuchKey (HTTP 404)` };
        if (typeof o !== 'string') return o;
        return { ok: true, bytes: Buffer.from(o), totalBytes: o.length, truncated: false };
      },
    },
    notifiers: async () => () => ({ error: 'no routes in this test' }),
    logger,
    metrics,
    now: () => new Date('2026-11-27T18:00:43Z'),
  });
  const confirmations = async () => (await store.results.history('contoso', { check: CONFIRMATION_CHECK })).items;
  return { store, logger, metrics, reads, handler, confirmations };
}

const event = (raw: string, messageId = SES_ID, headersTruncated = false) =>
  sesEvent(raw, {
    messageId,
    timestamp: '2026-11-27T18:00:41.500Z',
    recipient: 'probe@probes.msp.example',
    headersTruncated,
  });

describe('makeSesInbound', () => {
  it('reads the stored message, confirms the probe with SES’s verdicts and records it', async () => {
    const raw = await readFile(RAW, 'utf8');
    const h = await setup({ [SES_ID]: raw });
    const summary = await h.handler(event(raw), LAMBDA_CONTEXT);
    expect(summary).toEqual({
      confirmed: [{ messageId: SES_ID, probeId: PROBE_ID, outcomes: ['delivered'] }],
      dropped: [],
    });
    expect(h.reads).toEqual([SES_ID]);
    const [c] = await h.confirmations();
    expect(c).toMatchObject({ subject: PROBE_ID, status: 'pass', codes: ['delivered'], runId: `ses-${SES_ID}` });
    expect(c?.detail).toMatchObject({
      folder: 'inbox',
      arrivedAt: '2026-11-27T18:00:41.500Z',
      latencyMs: 41_500,
      auth: {
        source: 'trusted',
        authservId: 'amazonses.com',
        spf: { result: 'pass', ip: '52.101.69.1' },
        dkim: [expect.objectContaining({ result: 'pass' })],
        dmarc: expect.objectContaining({ result: 'pass' }),
        ignored: 1,
      },
    });
    expect(h.metrics.total(CONFIRM_METRICS.inbound.confirmed)).toBe(1);
    expect(h.metrics.total(CONFIRM_METRICS.outcomes.delivered)).toBe(1);
  });

  it('drops spam to the receiving domain with a log line and no write, without reading S3', async () => {
    const h = await setup({ spam1: SPAM });
    const summary = await h.handler(event(SPAM, 'spam1'), LAMBDA_CONTEXT);
    expect(summary.dropped).toEqual([{ messageId: 'spam1', reason: 'no X-Relaywatch-Probe header: not a probe' }]);
    expect(h.reads).toEqual([]);
    expect(h.logger.lines.filter((l) => l.message === 'inbound message dropped')).toHaveLength(1);
    expect(await h.confirmations()).toEqual([]);
    expect((await h.store.results.runs({ tenantId: 'contoso' })).items).toEqual([]);
    expect(h.metrics.total(CONFIRM_METRICS.inbound.dropped)).toBe(1);
  });

  it('reads S3 when the event’s headers are truncated, and still drops a message that is no probe', async () => {
    const h = await setup({ spam2: SPAM });
    const summary = await h.handler(event(SPAM, 'spam2', true), LAMBDA_CONTEXT);
    expect(h.reads).toEqual(['spam2']);
    expect(summary.dropped.map((d) => d.reason)).toEqual(['no X-Relaywatch-Probe header: not a probe']);
    expect(await h.confirmations()).toEqual([]);
  });

  it('drops a probe header naming a probe we never sent (forged or stale), writing nothing', async () => {
    const raw = (await readFile(RAW, 'utf8')).replace(MESSAGE_ID, 'forged.1@contoso.example');
    const h = await setup({ [SES_ID]: raw });
    const summary = await h.handler(event(raw), LAMBDA_CONTEXT);
    expect(summary.dropped[0]?.reason).toMatch(/no outstanding probe/);
    expect(await h.confirmations()).toEqual([]);
  });

  it('records a retried event once: the second delivery finds the probe confirmed', async () => {
    const raw = await readFile(RAW, 'utf8');
    const h = await setup({ [SES_ID]: raw });
    await h.handler(event(raw), LAMBDA_CONTEXT);
    const again = await h.handler(event(raw), LAMBDA_CONTEXT);
    expect(again.confirmed).toEqual([]);
    expect(await h.confirmations()).toHaveLength(1);
  });

  it('fails the invocation when the stored message cannot be read (SES’s asynchronous invoke retries it)', async () => {
    const raw = await readFile(RAW, 'utf8');
    const h = await setup({});
    await expect(h.handler(event(raw), LAMBDA_CONTEXT)).rejects.toThrow(/NoSuchKey/);
    expect(h.metrics.total(CONFIRM_METRICS.inbound.failed)).toBe(1);
    expect(h.logger.keys.size).toBe(0);
  });
});
