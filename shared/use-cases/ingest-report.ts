/**
 * An agent's report, accepted by the ingest, through the same record/decide/notify path as the monitoring cycle: the
 * relay probe becomes a `probe-relay` check of the agent's tenant (with the egress-IP findings), stored, observed by
 * the incident policy, and alerted like any other check.
 *
 * The agent's diagnosis is not trusted: the reply it quotes is classified again here (`classify()` is pure), so a
 * report cannot turn a 5.7.606 refusal into `ok`. The run id is derived from (agent, report time): the same report
 * posted twice (a retry with a fresh signature) writes and sends nothing new.
 */
import { createHash } from 'node:crypto';
import { probeOutcome } from '../checks/probe-outcome.ts';
import type { AgentReportWire } from '../domain/agent-report.ts';
import { finding, worstStatus } from '../domain/outcome.ts';
import type { TenantReport } from '../domain/reports.ts';
import { classify } from '../probe/diagnosis.ts';
import type { ProbeReport } from './run-probe.ts';

export function agentRunId(agentId: string, at: string): string {
  const stamp = at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-agent-${createHash('sha256').update(`${agentId}\0${at}`).digest('hex').slice(0, 10)}`;
}

/** The report as the tenant's report of one `probe-relay` check. */
export function agentTenantReport(report: AgentReportWire, tenantName: string): TenantReport {
  const d = report.probe.result.diagnosis;
  const diagnosis = classify({
    stage: d.stage,
    ...(d.reply ? { reply: d.reply } : {}),
    ...(d.failure ? { failure: d.failure } : {}),
    ...(d.detail ? { detail: d.detail } : {}),
  });
  const probe: ProbeReport = {
    ...report.probe,
    result: { ...report.probe.result, diagnosis },
  } as ProbeReport;
  const outcome = probeOutcome(probe, 'probe-relay');
  const egress = report.findings
    .filter((f) => f.severity !== 'info')
    .map((f) => finding(f.code, f.severity, f.message));
  const withEgress = egress.length > 0 ? { ...outcome, findings: [...outcome.findings, ...egress] } : outcome;
  // The ok probes the agent held back (unchanged since its last accepted report) ride with this result, so the
  // digest counts them (`unpostedOk` in the stored detail; shared/digest/model.ts).
  const check =
    report.unpostedOk !== undefined
      ? { ...withEgress, details: { ...withEgress.details, unpostedOk: report.unpostedOk } }
      : withEgress;
  return {
    id: report.tenant.id,
    name: tenantName,
    status: worstStatus([check.status]),
    domains: [],
    checks: [check],
  };
}
