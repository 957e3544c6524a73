/**
 * One monitoring cycle over some tenants: every domain check for every domain, concurrently (the DNS layer bounds the
 * real concurrency and de-duplicates shared names such as spf.protection.outlook.com). Pure orchestration: it stores
 * and sends nothing; the caller decides what to do with the report.
 */
import { type SubmissionSettings, submissionConfigOutcome } from '../checks/submission-config.ts';
import type { CheckContext, DomainCheck } from '../checks/types.ts';
import { type CheckOutcome, finding, worstStatus } from '../domain/outcome.ts';
import type { DomainReport, TenantReport } from '../domain/reports.ts';

export type { DomainReport, TenantReport } from '../domain/reports.ts';

export interface TenantToCheck {
  readonly id: string;
  readonly name: string;
  readonly domains: readonly { readonly name: string; readonly expectedMx?: string | undefined }[];
  readonly relayIps: readonly string[];
  /** The MAIL FROM/From address of the relay probe, when the tenant has one (its domain is checked on domain lists). */
  readonly relaySender?: string | undefined;
  /** Authenticated submission settings, when the tenant uses SMTP AUTH. */
  readonly submission?: SubmissionSettings | undefined;
}

export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly tenantId: string;
  readonly domain: string;
}

export interface RunChecksInput {
  readonly tenants: readonly TenantToCheck[];
  readonly checks: readonly DomainCheck[];
  readonly ctx: CheckContext;
  readonly onProgress?: (p: RunProgress) => void;
  /** The date the configuration is judged at (Microsoft's Basic-auth timeline); default: now. */
  readonly today?: Date;
}

/** Run a check, turning a bug (a thrown error) into an `unknown` outcome so one broken check cannot sink the cycle. */
async function runGuarded(
  check: DomainCheck,
  target: Parameters<DomainCheck['run']>[0],
  ctx: CheckContext,
): Promise<CheckOutcome> {
  const started = ctx.now();
  try {
    return await check.run(target, ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      kind: check.kind,
      subject: target.domain,
      status: 'unknown',
      findings: [finding('check-crashed', 'unknown', `The ${check.kind} check failed unexpectedly: ${message}`)],
      durationMs: ctx.now() - started,
    };
  }
}

export async function runChecks(input: RunChecksInput): Promise<TenantReport[]> {
  const total = input.tenants.reduce((n, t) => n + t.domains.length, 0);
  let done = 0;
  return Promise.all(
    input.tenants.map(async (tenant): Promise<TenantReport> => {
      const domains = await Promise.all(
        tenant.domains.map(async (d): Promise<DomainReport> => {
          const target = {
            domain: d.name,
            relayIps: tenant.relayIps,
            ...(d.expectedMx ? { expectedMx: d.expectedMx } : {}),
          };
          const checks = await Promise.all(input.checks.map((c) => runGuarded(c, target, input.ctx)));
          done++;
          input.onProgress?.({ done, total, tenantId: tenant.id, domain: d.name });
          return { domain: d.name, status: worstStatus(checks.map((c) => c.status)), checks };
        }),
      );
      const submission = submissionConfigOutcome(tenant.name, tenant.submission, input.today ?? new Date());
      const checks = submission ? [submission] : [];
      return {
        id: tenant.id,
        name: tenant.name,
        status: worstStatus([...domains.map((d) => d.status), ...checks.map((c) => c.status)]),
        domains,
        checks,
      };
    }),
  );
}
