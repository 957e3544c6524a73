/**
 * The probe behind test/fixtures/confirm/ses-inbound-probe.eml, stored as it was sent: the SES-inbound use-case test
 * and the ses-inbound function's test start from it.
 */
import type { SqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { observe } from '../../shared/monitor/observe.ts';
import { classify, parseReply } from '../../shared/probe/diagnosis.ts';
import type { ProbeReport } from '../../shared/use-cases/run-probe.ts';

export const SES_PROBE_RAW = new URL('../fixtures/confirm/ses-inbound-probe.eml', import.meta.url);
export const SES_PROBE_MESSAGE_ID = 'relaywatch.5d0c2a9e-1f4b-4c53-9a77-3b1f0f7e2c11@contoso.example';
export const SES_PROBE_ID = '20261127T180000Z-3f9a1c2b';

/** An in-memory store holding the fixture probe's submission result (Contoso, accepted with 250 Queued). */
export async function storeWithSesProbe(): Promise<SqliteStore> {
  const store = openSqliteStore({ path: ':memory:' });
  const report: ProbeReport = {
    kind: 'submission',
    tenantId: 'contoso',
    tenantName: 'Contoso',
    probeId: SES_PROBE_ID,
    startedAt: '2026-11-27T18:00:00.000Z',
    target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
    from: 'app@contoso.example',
    to: 'probe@probes.msp.example',
    auth: null,
    result: {
      transcript: [],
      tls: null,
      diagnosis: classify({ stage: 'data-end', reply: parseReply('250 2.6.0 Queued mail for delivery') }),
      timings: {},
      messageId: SES_PROBE_MESSAGE_ID,
      queueId: null,
    },
    findings: [],
  };
  const { checks } = observe(
    [{ id: 'contoso', name: 'Contoso', status: 'pass', domains: [], checks: [probeOutcome(report)] }],
    { runId: 'run-1', at: report.startedAt },
  );
  await store.results.putChecks(checks);
  return store;
}
