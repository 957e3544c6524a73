/** A real agent report (agentCycle + runProbe over a scripted prober), as the agent would post it. */
import type { ProbeRequest, ProbeResult, SmtpProber, TranscriptEntry } from '../../shared/ports/smtp-prober.ts';
import { classify, type SmtpReply } from '../../shared/probe/diagnosis.ts';
import { type AgentReport, agentCycle } from '../../shared/use-cases/agent-cycle.ts';
import { runProbe } from '../../shared/use-cases/run-probe.ts';
import { ZoneFake } from './zone-fake.ts';

export function scriptedProber(final: SmtpReply, stage: 'rcpt' | 'data-end' = 'data-end'): SmtpProber {
  return {
    async probe(_request: ProbeRequest): Promise<ProbeResult> {
      const transcript: TranscriptEntry[] = [
        { stage: 'connect', at: 0, note: 'connected to 127.0.0.1:25' },
        { stage, at: 5, reply: [...final.lines] },
      ];
      return {
        transcript,
        tls: null,
        diagnosis: classify({ stage, reply: final }),
        timings: {},
        messageId: 'm@x',
        queueId: null,
      };
    },
  };
}

export const OK_REPLY: SmtpReply = {
  code: 250,
  enhanced: '2.6.0',
  text: 'queued',
  lines: ['250 2.6.0 queued'],
  truncated: false,
};
export const BANNED_REPLY: SmtpReply = {
  code: 550,
  enhanced: '5.7.606',
  text: 'Access denied, banned sending IP [203.0.113.7]. To request removal from this list please visit https://sender.office.com/',
  lines: [
    '550 5.7.606 Access denied, banned sending IP [203.0.113.7]. To request removal from this list please visit https://sender.office.com/',
  ],
  truncated: false,
};

export async function agentReportFixture(
  reply: SmtpReply = OK_REPLY,
  o: { agentId?: string; tenantId?: string; at?: Date } = {},
): Promise<AgentReport> {
  const now = o.at ?? new Date('2026-11-27T18:00:00.000Z');
  const tenant = {
    id: o.tenantId ?? 'contoso',
    name: 'Contoso',
    domains: [{ name: 'contoso.example', expectedMx: 'contoso-example.mail.protection.outlook.com' }],
    probeRecipients: ['probe@contoso.example'],
    relayIps: ['203.0.113.7'],
    relay: { sender: 'scanner@contoso.example', port: 25, tls: 'if-offered' as const },
  };
  return agentCycle({ id: o.agentId ?? 'contoso-hq' }, tenant, {
    now: () => now,
    discoverEgress: async () => ({
      ok: true,
      ip: '203.0.113.7',
      method: 'dns:a + dns:b',
      confirmedBy: ['dns:a', 'dns:b'],
      attempts: [],
    }),
    probe: () =>
      runProbe(
        'relay',
        tenant,
        { ehloName: 'scanner.contoso.example' },
        {
          prober: scriptedProber(reply, reply.code >= 500 ? 'rcpt' : 'data-end'),
          resolver: new ZoneFake({}),
          tokens: {
            getToken: async () => ({ ok: false, reason: 'network', aadsts: null, message: 'unused', retryable: true }),
          },
          now: () => now,
        },
      ),
  });
}
