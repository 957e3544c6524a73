/** SES inbound: a raw message from S3 parsed into a probe arrival and confirmed against a stored probe. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { TenantReport } from '../../../shared/use-cases/run-checks.ts';
import { confirmInbound, parseSesInbound } from '../../../shared/use-cases/ses-inbound.ts';
import { SES_PROBE_ID, SES_PROBE_MESSAGE_ID, SES_PROBE_RAW, storeWithSesProbe } from '../../support/ses-probe.ts';

const RAW = SES_PROBE_RAW;
const MESSAGE_ID = SES_PROBE_MESSAGE_ID;
const PROBE_ID = SES_PROBE_ID;
const storeWithProbe = storeWithSesProbe;

describe('SES inbound', () => {
  it('parses the raw message: Message-ID, the claimed probe, SES as the folder, the S3 event time', async () => {
    const a = parseSesInbound(await readFile(RAW), {
      objectKey: 'inbound/abc',
      receivedAt: '2026-11-27T18:00:41.500Z',
    });
    expect(a.claimed).toEqual({ tenantId: 'contoso', probeId: PROBE_ID });
    expect(a.message).toMatchObject({
      ref: 's3:inbound/abc',
      messageId: MESSAGE_ID,
      folder: 'inbox',
      receivedAt: '2026-11-27T18:00:41.500Z',
    });
    expect(a.message.headers).not.toContain('automated delivery probe');
  });

  it('takes the arrival time from SES’s Received header without an event time, and a spam FAIL as junk', async () => {
    const raw = (await readFile(RAW, 'utf8')).replace('X-SES-Spam-Verdict: PASS', 'X-SES-Spam-Verdict: FAIL');
    const a = parseSesInbound(raw, { objectKey: 'k' });
    expect(a.message.receivedAt).toBe('2026-11-27T18:00:41.000Z');
    expect(a.message.folder).toBe('junk');
  });

  it('confirms the stored probe with SES’s verdicts (the forged amazonses.com header below is ignored)', async () => {
    const store = await storeWithProbe();
    try {
      const recorded: TenantReport[] = [];
      const arrival = parseSesInbound(await readFile(RAW), { objectKey: 'k', receivedAt: '2026-11-27T18:00:41.000Z' });
      const outcome = await confirmInbound(arrival, {
        results: store.results,
        policyOf: (id) =>
          id === 'contoso' ? { name: 'Contoso', policy: { lateAfterMs: 600_000, deadlineMs: 1_800_000 } } : undefined,
        now: () => new Date('2026-11-27T18:00:42Z'),
        record: async (reports) => {
          recorded.push(...reports);
        },
      });
      expect(outcome?.findings.map((f) => f.code)).toEqual(['delivered']);
      expect(outcome?.details).toMatchObject({
        latencyMs: 41_000,
        auth: {
          source: 'trusted',
          authservId: 'amazonses.com',
          spf: { result: 'pass', ip: '52.101.69.1' },
          dkim: [{ result: 'pass', domain: '@contoso.example' }],
          dmarc: { result: 'pass', headerFrom: 'contoso.example' },
          ignored: 1,
        },
      });
      expect(recorded.map((r) => r.checks.map((c) => c.subject))).toEqual([[PROBE_ID]]);
    } finally {
      await store.close();
    }
  });

  it('ignores a message that is not an outstanding probe (unknown tenant, or a Message-ID we never sent)', async () => {
    const store = await storeWithProbe();
    try {
      const deps = {
        results: store.results,
        policyOf: (id: string) =>
          id === 'contoso' ? { name: 'Contoso', policy: { lateAfterMs: 600_000, deadlineMs: 1_800_000 } } : undefined,
        now: () => new Date('2026-11-27T18:01:00Z'),
        record: async () => {
          throw new Error('must not record');
        },
      };
      const raw = await readFile(RAW, 'utf8');
      const other = parseSesInbound(raw.replace(MESSAGE_ID, 'someone-else@contoso.example'), { objectKey: 'k' });
      expect(await confirmInbound(other, deps)).toBeNull();
      const stranger = parseSesInbound(raw.replace('tenant=contoso', 'tenant=fabrikam'), { objectKey: 'k' });
      expect(await confirmInbound(stranger, deps)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('refuses a message without a Message-ID', () => {
    expect(() => parseSesInbound('Subject: x\r\n\r\nbody', { objectKey: 'k' })).toThrow(TypeError);
  });
});
