/**
 * One cycle of the site agent: find the site's public egress IP, run the relay probe for the site's tenant, and
 * put both into one report (`relaywatch.agent-report/v1`) for the ingest endpoint.
 *
 * The egress IP matters twice. Exchange Online's inbound connector and the domain's SPF record trust a *configured*
 * public IP; when the ISP changes the site's address, the probe starts failing with 5.7.64 TenantAttribution or SPF
 * errors. The report compares the discovered address with the tenant's configured relay IPs and says so before
 * anybody has to guess. An address that cannot be discovered is `unknown`, never a failure.
 */

import type { EgressResult } from '../agent/egress-ip.ts';
import { AGENT_REPORT_SCHEMA } from '../domain/agent-report.ts';
import { ipInEntries } from '../domain/ip.ts';
import type { Finding } from '../domain/outcome.ts';
import type { ProbeReport } from './run-probe.ts';

export { AGENT_REPORT_SCHEMA };

export interface AgentReport<P = ProbeReport> {
  readonly schema: typeof AGENT_REPORT_SCHEMA;
  readonly agentId: string;
  readonly tenant: { readonly id: string; readonly name: string };
  /** ISO 8601 UTC, when the cycle started. */
  readonly at: string;
  readonly egress: EgressResult;
  readonly findings: readonly Finding[];
  readonly probe: P;
  /** Ok probes held back since the last accepted report (see the wire schema); absent when none. */
  readonly unpostedOk?: number;
}

export interface AgentCycleDeps {
  readonly discoverEgress: () => Promise<EgressResult>;
  readonly probe: () => Promise<ProbeReport>;
  readonly now: () => Date;
}

/** Findings about the egress IP against the tenant's configured relay entries (single IPs or small ranges). */
export function egressFindings(egress: EgressResult, relayIps: readonly string[]): Finding[] {
  if (!egress.ok) {
    return [
      {
        code: 'agent-egress-ip-unknown',
        severity: 'unknown',
        message: `the site's public IP could not be discovered (${egress.attempts.map((a) => `${a.method}: ${a.detail}`).join('; ')}); the relay probe ran anyway`,
        evidence: { attempts: egress.attempts.map((a) => a.method) },
      },
    ];
  }
  if (relayIps.length === 0) {
    return [
      {
        code: 'agent-egress-ip-not-configured',
        severity: 'warning',
        message: `the site sends from ${egress.ip}, but the tenant lists no relayIps: add ${egress.ip} to relayIps so that SPF and blocklists are checked for it`,
        evidence: { ip: egress.ip },
      },
    ];
  }
  if (ipInEntries(egress.ip, relayIps)) {
    return [
      {
        code: 'agent-egress-ip-ok',
        severity: 'info',
        message: `the site sends from ${egress.ip}, one of the tenant's relay IPs`,
        evidence: { ip: egress.ip },
      },
    ];
  }
  return [
    {
      code: 'agent-egress-ip-changed',
      severity: 'warning',
      message: `the site now sends from ${egress.ip}, which is not among the tenant's relay IPs (${relayIps.join(', ')}): if the ISP changed the address, update the inbound connector in Exchange Online, the SPF record (ip4:/ip6:) and relayIps, or relayed mail will be refused (5.7.64 TenantAttribution) or fail SPF`,
      evidence: { ip: egress.ip, configured: [...relayIps] },
    },
  ];
}

/** One agent cycle. Never rejects for what DNS or SMTP servers do (see the probe's error contract). */
export async function agentCycle(
  agent: { readonly id: string },
  tenant: { readonly id: string; readonly name: string; readonly relayIps: readonly string[] },
  deps: AgentCycleDeps,
): Promise<AgentReport> {
  const at = deps.now().toISOString();
  // The egress lookup and the probe are independent: run them side by side.
  const [egress, probe] = await Promise.all([deps.discoverEgress(), deps.probe()]);
  return {
    schema: AGENT_REPORT_SCHEMA,
    agentId: agent.id,
    tenant: { id: tenant.id, name: tenant.name },
    at,
    egress,
    findings: egressFindings(egress, tenant.relayIps),
    probe,
  };
}
