/**
 * Run the checks of a set of tenants: every domain check (SPF, MX) of every domain, then the blocklists of their
 * sending IPs (each unique IP asked once however many tenants share it, zones health-checked once), then the
 * authenticated-submission probes. The CLI's `check` and the Lambda worker call this; it stores and sends nothing.
 *
 * Each stage is optional: `blocklists: null` skips the sweep (`--no-blocklists`, or a worker job of the domain
 * group), `probes: null` the probes. A stage's adapters are built by the composition root (`shared/adapters/runtime.ts`).
 */
import type { BlocklistRun, QueryBudget, ZoneHealth } from '../blocklist/engine.ts';
import type { BlocklistSetup } from '../blocklist/zone-selection.ts';
import { ALL_DOMAIN_CHECKS } from '../checks/registry.ts';
import type { CheckContext, DomainCheck } from '../checks/types.ts';
import type { DnsResolver } from '../ports/dns-resolver.ts';
import type { SmtpProber } from '../ports/smtp-prober.ts';
import type { TokenProvider } from '../ports/token-provider.ts';
import { attachBlocklists, type BlocklistStage, sendingIps } from './run-blocklists.ts';
import { type RunProgress, runChecks, type TenantReport, type TenantToCheck } from './run-checks.ts';
import { type ProbeTenant, runProbe } from './run-probe.ts';
import { attachSubmissionProbes } from './run-probes.ts';

export type CheckStage =
  | { readonly stage: 'domains'; readonly domains: number; readonly tenants: number }
  | { readonly stage: 'blocklists'; readonly zones: number }
  | { readonly stage: 'probes' };

export interface BlocklistStageDeps extends Omit<BlocklistStage, 'plans'> {
  /** Builds the plans (the blocklist resolver stack is built only when the sweep runs). */
  readonly setup: () => BlocklistSetup | Promise<BlocklistSetup>;
  /** Called after the sweep. */
  readonly afterSweep?: () => Promise<void>;
  /**
   * Reserve the sweep's DNSBL budget before any query is sent (the store's shared counter): called with the number
   * of unique IPs to ask and the zone ids; its budget replaces `budget`.
   */
  readonly reserve?: (ips: number, zoneIds: readonly string[]) => Promise<QueryBudget>;
}

export interface SubmissionProbeDeps {
  /** The tenants as the probes need them (secrets resolved when a probe runs). */
  readonly tenants: () => Promise<readonly ProbeTenant[]>;
  readonly prober: SmtpProber;
  readonly tokens: TokenProvider;
  readonly resolver: DnsResolver;
  readonly now: () => Date;
  /** The EHLO name for a tenant's probe. */
  readonly ehloName: (tenant: ProbeTenant) => string;
  readonly ca?: string | undefined;
}

export interface CheckTenantsInput {
  readonly tenants: readonly TenantToCheck[];
  readonly ctx: CheckContext;
  /** Default: every domain check of the registry. */
  readonly checks?: readonly DomainCheck[];
  /** The date the configuration is judged at (Basic-auth timeline). */
  readonly today: Date;
  readonly blocklists?: BlocklistStageDeps | null;
  readonly probes?: SubmissionProbeDeps | null;
  readonly onProgress?: (p: RunProgress) => void;
  readonly onStage?: (s: CheckStage) => void;
}

export interface CheckedBlocklists {
  /** The resolvers the zones were asked through. */
  readonly resolvers: string;
  readonly questions: number;
  readonly health: readonly ZoneHealth[];
  /** Every IP's verdicts, for callers that attach them elsewhere (the blocklist job of a fan-out). */
  readonly run: BlocklistRun;
}

export interface CheckTenantsResult {
  readonly reports: readonly TenantReport[];
  readonly blocklists: CheckedBlocklists | null;
}

export async function checkTenants(input: CheckTenantsInput): Promise<CheckTenantsResult> {
  input.onStage?.({
    stage: 'domains',
    domains: input.tenants.reduce((n, t) => n + t.domains.length, 0),
    tenants: input.tenants.length,
  });
  let reports: TenantReport[] = await runChecks({
    tenants: input.tenants,
    checks: input.checks ?? ALL_DOMAIN_CHECKS,
    ctx: input.ctx,
    today: input.today,
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  });
  let blocklists: CheckedBlocklists | null = null;
  if (input.blocklists) {
    const { setup, afterSweep, reserve, ...stage } = input.blocklists;
    const built = await setup();
    if (reserve) {
      const current = reports;
      const keep = stage.ipFilter ?? (() => true);
      const ips = new Set(
        input.tenants.flatMap((t) =>
          sendingIps(
            t,
            current.find((r) => r.id === t.id),
          ).filter(keep),
        ),
      );
      stage.budget = await reserve(
        ips.size,
        built.plans.map((p) => p.zone.id),
      );
    }
    input.onStage?.({ stage: 'blocklists', zones: built.plans.length });
    const attached = await attachBlocklists(input.tenants, reports, { ...stage, plans: built.plans });
    reports = attached.reports;
    blocklists = {
      resolvers: built.description,
      questions: attached.run.questions,
      health: attached.run.health,
      run: attached.run,
    };
    await afterSweep?.();
  }
  if (input.probes) {
    const p = input.probes;
    input.onStage?.({ stage: 'probes' });
    const tenants = await p.tenants();
    reports = await attachSubmissionProbes(reports, tenants, (t) =>
      runProbe(
        'submission',
        t,
        { ehloName: p.ehloName(t), ...(p.ca ? { ca: p.ca } : {}) },
        { prober: p.prober, resolver: p.resolver, tokens: p.tokens, now: p.now },
      ),
    );
  }
  return { reports, blocklists };
}
