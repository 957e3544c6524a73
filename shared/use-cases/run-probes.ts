/**
 * The probe stage of a monitoring cycle: the authenticated-submission probe of every tenant that has `submission`
 * and a probe recipient, attached to the tenant's report as a `probe-submission` check. (Relay probes run at the
 * customer site, through the agent.) A probe the configuration cannot run (a secret that is not set) is an `unknown`
 * check saying why: it never opens an incident, and the other tenants are probed.
 */
import { probeOutcome } from '../checks/probe-outcome.ts';
import { type CheckOutcome, finding, worstStatus } from '../domain/outcome.ts';
import { Semaphore } from '../domain/semaphore.ts';
import type { TenantReport } from './run-checks.ts';
import { type ProbeReport, ProbeSetupError, type ProbeTenant } from './run-probe.ts';

export async function attachSubmissionProbes(
  reports: readonly TenantReport[],
  tenants: readonly ProbeTenant[],
  probe: (tenant: ProbeTenant) => Promise<ProbeReport>,
  concurrency = 4,
): Promise<TenantReport[]> {
  const byId = new Map(tenants.map((t) => [t.id, t]));
  const gate = new Semaphore(concurrency);
  return Promise.all(
    reports.map(async (r) => {
      const t = byId.get(r.id);
      if (!t?.submission || t.probeRecipients.length === 0) return r;
      const mailbox = t.submission.mailbox;
      let outcome: CheckOutcome;
      const release = await gate.acquire();
      try {
        outcome = probeOutcome(await probe(t), 'probe-submission');
      } catch (err) {
        if (!(err instanceof ProbeSetupError)) throw err;
        outcome = {
          kind: 'probe-submission',
          subject: mailbox,
          status: 'unknown',
          findings: [finding('probe-not-run', 'unknown', `The submission probe did not run: ${err.message}.`)],
          durationMs: 0,
        };
      } finally {
        release();
      }
      const checks = [...r.checks, outcome];
      return { ...r, checks, status: worstStatus([...r.domains.map((d) => d.status), ...checks.map((c) => c.status)]) };
    }),
  );
}
