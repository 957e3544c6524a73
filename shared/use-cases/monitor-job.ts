/**
 * One monitoring job of a fan-out (see `shared/domain/jobs.ts`), as a worker runs it: check, then record observations,
 * decide incidents and notify (claim-before-send) for the tenants the job covers.
 *
 * - A `tenant` job checks one tenant's domains (SPF, MX).
 * - A `probe` job runs one tenant's submission probe (its own schedule: each probe sends a real message); its report
 *   holds only the probe check, so the domain states are left as they are.
 * - A `blocklists` job takes the sending IPs of every tenant (relay entries and the single addresses their own SPF
 *   authorises: the SPF check runs for that, its results are not recorded here), keeps its shard of the unique IPs,
 *   reserves the DNSBL budget in the store, asks each IP once, and records a `blocklist` check per IP for every
 *   tenant that uses it.
 *
 * Results carry the slot time and the job's run id, so a redelivered job writes and sends nothing new.
 */

import type { BlocklistSetup } from '../blocklist/zone-selection.ts';
import { spfCheck } from '../checks/spf.ts';
import type { CheckContext } from '../checks/types.ts';
import { blocklistZones } from '../config/blocklists.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import { tenantsToCheck } from '../config/tenants.ts';
import { type MonitorJob, shardOf } from '../domain/jobs.ts';
import { worstStatus } from '../domain/outcome.ts';
import type { TenantReport } from '../domain/reports.ts';
import type { Notifier } from '../notify/alert.ts';
import { tenantAlerting } from '../notify/routing.ts';
import type { Store } from '../ports/stores.ts';
import { alertBuilder } from './alert-builder.ts';
import { checkTenants, type SubmissionProbeDeps } from './check-tenants.ts';
import { type CycleResult, recordCycle } from './record-cycle.ts';
import { reserveBudget } from './reserve-budget.ts';
import { attachBlocklists, sendingIps } from './run-blocklists.ts';

export interface MonitorJobDeps {
  readonly config: RelaywatchConfig;
  readonly checkContext: CheckContext;
  /** The blocklist plans (zones of the config, keys resolved). */
  readonly blocklists: () => BlocklistSetup;
  readonly store: Store;
  readonly notifierFor: (routeId: string) => Notifier | { readonly error: string };
  /** The submission probes, or null when this deployment does not probe from the worker. */
  readonly probes: Omit<SubmissionProbeDeps, 'tenants'> | null;
  readonly probeTenants: SubmissionProbeDeps['tenants'];
  readonly now: () => Date;
  /**
   * Who claims this job's deliveries: unique per delivery of the message (an SQS message may be handed to two
   * workers at once when its visibility timeout runs out), so two copies never both hold a claim. Default the run id.
   */
  readonly owner?: string;
}

export interface MonitorJobResult {
  readonly runId: string;
  /** The tenants whose observations were recorded. */
  readonly tenants: readonly string[];
  /** The reports recorded (for metrics: one count per outcome status). */
  readonly reports: readonly TenantReport[];
  readonly cycle: CycleResult | null;
  /** Why nothing was checked (the tenant left the config since the job was enqueued). */
  readonly skipped: string | null;
}

export async function runMonitorJob(job: MonitorJob, deps: MonitorJobDeps): Promise<MonitorJobResult> {
  const all = tenantsToCheck(deps.config);
  const slot = new Date(job.slot);
  let reports: readonly TenantReport[];
  if (job.kind === 'tenant' || job.kind === 'probe') {
    const tenant = all.find((t) => t.id === job.tenantId);
    if (!tenant) {
      return {
        runId: job.runId,
        tenants: [],
        reports: [],
        cycle: null,
        skipped: `tenant ${job.tenantId} is no longer in the config`,
      };
    }
    if (job.kind === 'probe' && (!deps.probes || !tenant.submission)) {
      return {
        runId: job.runId,
        tenants: [],
        reports: [],
        cycle: null,
        skipped: deps.probes
          ? `tenant ${job.tenantId} has no submission probe in the config`
          : 'this deployment does not run submission probes',
      };
    }
    if (job.kind === 'probe') {
      // A probe sends a real message: a redelivered job (or a second manual dispatch of the slot) whose probe result
      // is recorded already sends none. Results carry the slot as their time, so this asks only this slot's.
      const recorded = await deps.store.results.history(job.tenantId, {
        check: 'probe-submission',
        since: job.slot,
        limit: 20,
      });
      if (recorded.items.some((c) => c.runId === job.runId)) {
        return {
          runId: job.runId,
          tenants: [],
          reports: [],
          cycle: null,
          skipped: `the probe of run ${job.runId} is recorded already: no second probe message`,
        };
      }
    }
    const probes = job.kind === 'probe' && deps.probes ? { ...deps.probes, tenants: deps.probeTenants } : null;
    const checked = await checkTenants({
      tenants: [tenant],
      ctx: deps.checkContext,
      today: slot,
      // A probe job runs no domain check: its report carries the probe only.
      ...(job.kind === 'probe' ? { checks: [] } : {}),
      blocklists: null,
      probes,
    });
    reports =
      job.kind === 'probe'
        ? checked.reports.map((r) => {
            // The submission settings' own check (the Basic-auth timeline) is the checks group's to record.
            const checks = r.checks.filter((c) => c.kind === 'probe-submission');
            return { ...r, domains: [], checks, status: worstStatus(checks.map((c) => c.status)) };
          })
        : checked.reports;
  } else {
    const { index, count } = job.shard;
    const inShard = (ip: string) => shardOf(ip, count) === index;
    // The SPF check gives each tenant's own authorised addresses; its verdicts are the tenant jobs' to record.
    const spf = await checkTenants({ tenants: all, ctx: deps.checkContext, checks: [spfCheck], today: slot });
    const ips = new Set(
      all.flatMap((t) =>
        sendingIps(
          t,
          spf.reports.find((r) => r.id === t.id),
        ).filter(inShard),
      ),
    );
    const setup = deps.blocklists();
    const limits = deps.config.blocklists?.dailyBudget ?? {};
    const budget =
      Object.keys(limits).length > 0
        ? await reserveBudget(
            deps.store.budget,
            limits,
            setup.plans.map((p) => p.zone.id),
            ips.size,
            deps.now(),
          )
        : undefined;
    const perTenant = new Map(
      deps.config.tenants.map((t) => [t.id, new Set(blocklistZones(deps.config, t.id).map((z) => z.id))]),
    );
    const bl = deps.config.blocklists;
    const swept = await attachBlocklists(all, spf.reports, {
      plans: setup.plans,
      ipFilter: inShard,
      zonesFor: (id) => perTenant.get(id),
      ...(budget ? { budget } : {}),
      ...(bl?.concurrency ? { maxConcurrent: bl.concurrency } : {}),
      ...(bl?.perZoneConcurrency ? { perZoneConcurrency: bl.perZoneConcurrency } : {}),
    });
    // Only the blocklist checks are this job's: drop the domain reports, keep tenants with an IP in the shard.
    reports = swept.reports
      .map((r) => ({ ...r, domains: [], status: worstStatus(r.checks.map((c) => c.status)) }))
      .filter((r) => r.checks.some((c) => c.kind === 'blocklist'));
  }
  const covered = new Set(reports.map((r) => r.id));
  const cycle = await recordCycle({
    reports,
    tenants: tenantAlerting(deps.config).filter((t) => covered.has(t.id)),
    incidents: deps.config.incidents,
    store: deps.store,
    runId: job.runId,
    source: 'lambda',
    startedAt: slot,
    now: deps.now,
    notifierFor: deps.notifierFor,
    alertFor: alertBuilder(deps.config),
    ...(job.kind !== 'blocklists' ? { runTenant: job.tenantId } : {}),
    // The run rides in the results' BatchWriteItem: one request less per job (see CycleInput.runWithResults).
    runWithResults: true,
    ...(deps.owner ? { owner: deps.owner } : {}),
  });
  return { runId: job.runId, tenants: [...covered], reports, cycle, skipped: null };
}
