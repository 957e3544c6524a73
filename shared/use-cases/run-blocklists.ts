/**
 * The blocklist stage of a monitoring cycle: gather each tenant's sending IPs (its relay entries, every address of a
 * range, and the single addresses its own SPF records authorise: not Microsoft's or other providers' includes), ask
 * every zone once per unique IP however many tenants share it, and attach a `blocklist` check per IP to every tenant
 * that uses the IP.
 *
 * Domain zones (`scope: domain`) are asked, in the same run and with the same health checks, for each tenant's
 * sender domains (its domains and the domains of the addresses its probes send as: the relay sender, the submission
 * mailbox), once per unique domain, and give a `domain-blocklist` check per domain, after the IP checks.
 */
import { type BlocklistRun, type QueryBudget, runBlocklists, type ZonePlan } from '../blocklist/engine.ts';
import { blocklistOutcome, domainBlocklistOutcome } from '../checks/blocklist.ts';
import { expandEntry } from '../domain/ip.ts';
import { worstStatus } from '../domain/outcome.ts';
import type { TenantReport, TenantToCheck } from './run-checks.ts';

export interface BlocklistStage {
  readonly plans: readonly ZonePlan[];
  readonly budget?: QueryBudget;
  readonly maxConcurrent?: number;
  readonly perZoneConcurrency?: number;
  /** The zone ids a tenant's IPs are judged on (a tenant may switch zones off); all zones when undefined. */
  readonly zonesFor?: (tenantId: string) => ReadonlySet<string> | undefined;
  /** Only the IPs this keeps are asked and attached (one shard of a fan-out); all when undefined. */
  readonly ipFilter?: (ip: string) => boolean;
}

/** The addresses a tenant sends from, in a stable order without duplicates. */
export function sendingIps(tenant: TenantToCheck, report: TenantReport | undefined): string[] {
  const out = new Set<string>();
  for (const entry of tenant.relayIps) for (const ip of expandEntry(entry)) out.add(ip);
  for (const d of report?.domains ?? []) {
    for (const c of d.checks) {
      const own = c.kind === 'spf' ? c.details?.ownAddresses : undefined;
      if (Array.isArray(own)) for (const ip of own) if (typeof ip === 'string') out.add(ip);
    }
  }
  return [...out];
}

/** The domains a tenant sends as (its domains, then the probes' sender domains), lower case, without duplicates. */
export function senderDomains(tenant: TenantToCheck): string[] {
  const out = new Set<string>();
  for (const d of tenant.domains) out.add(d.name.toLowerCase().replace(/\.$/, ''));
  for (const address of [tenant.relaySender, tenant.submission?.mailbox]) {
    const at = address?.lastIndexOf('@') ?? -1;
    if (address !== undefined && at > 0)
      out.add(
        address
          .slice(at + 1)
          .toLowerCase()
          .replace(/\.$/, ''),
      );
  }
  return [...out].filter((d) => d !== '');
}

export async function attachBlocklists(
  tenants: readonly TenantToCheck[],
  reports: readonly TenantReport[],
  stage: BlocklistStage,
): Promise<{ reports: TenantReport[]; run: BlocklistRun }> {
  const byTenant = new Map(
    tenants.map((t) => [
      t.id,
      sendingIps(
        t,
        reports.find((r) => r.id === t.id),
      ),
    ]),
  );
  if (stage.ipFilter) for (const [t, ips] of byTenant) byTenant.set(t, ips.filter(stage.ipFilter));
  const all = [...new Set([...byTenant.values()].flat())];
  const hasDomainZones = stage.plans.some((p) => p.zone.scope === 'domain');
  const domainsByTenant = new Map(tenants.map((t) => [t.id, hasDomainZones ? senderDomains(t) : []]));
  const started = performance.now();
  const run = await runBlocklists({
    ips: all,
    domains: [...new Set([...domainsByTenant.values()].flat())],
    plans: stage.plans,
    ...(stage.budget ? { budget: stage.budget } : {}),
    ...(stage.maxConcurrent ? { maxConcurrent: stage.maxConcurrent } : {}),
    ...(stage.perZoneConcurrency ? { perZoneConcurrency: stage.perZoneConcurrency } : {}),
  });
  const elapsed = performance.now() - started;
  const byIp = new Map(run.ips.map((r) => [r.ip, r]));
  const byDomain = new Map(run.domains.map((r) => [r.domain, r]));
  const out = reports.map((report): TenantReport => {
    const ips = byTenant.get(report.id) ?? [];
    const allowed = stage.zonesFor?.(report.id);
    const checks = ips.flatMap((ip) => {
      const r = byIp.get(ip);
      if (!r) return [];
      const mine = allowed ? { ...r, zones: r.zones.filter((z) => allowed.has(z.zoneId)) } : r;
      return [blocklistOutcome(mine, elapsed)];
    });
    const domainChecks = (domainsByTenant.get(report.id) ?? []).flatMap((domain) => {
      const r = byDomain.get(domain);
      if (!r) return [];
      const mine = allowed ? { ...r, zones: r.zones.filter((z) => allowed.has(z.zoneId)) } : r;
      return [domainBlocklistOutcome(mine, elapsed)];
    });
    const all = [...report.checks, ...checks, ...domainChecks];
    return {
      ...report,
      checks: all,
      status: worstStatus([...report.domains.map((d) => d.status), ...all.map((c) => c.status)]),
    };
  });
  return { reports: out, run };
}
