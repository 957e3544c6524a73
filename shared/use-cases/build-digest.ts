/**
 * The weekly digest, composed from the stores: read each tenant's week (check results, events, incidents), compose
 * the model (`shared/digest/model.ts`) and render the MSP-wide digest, the per-tenant digests and the report page.
 * Every I/O crossing is a parameter (the store's read side, the clock, the sender), so the CLI and the Lambda digest
 * function call the same code.
 *
 * Tenant isolation: a per-tenant digest is rendered from that tenant's `TenantDigest` alone; the MSP-wide parts
 * (totals, other tenants' rows) are never passed to it.
 */
import { BASIC_AUTH_OFF_BY_DEFAULT } from '../checks/submission-config.ts';
import { DEFAULT_MSP_LIMITS, type MspDigestLimits, mspDigestHtml, tenantDigestHtml } from '../digest/email-html.ts';
import { mspDigestText, tenantDigestText } from '../digest/email-text.ts';
import {
  composeTenant,
  type DigestMeta,
  type MspTotals,
  mspTotals,
  type TenantDigest,
  type TenantHistory,
  type TenantInput,
} from '../digest/model.ts';
import type { DigestRecipients } from '../digest/plan.ts';
import { reportPageHtml } from '../digest/report-page.ts';
import type { Week } from '../digest/week.ts';
import type { CheckRecord, EventRecord, IncidentRecord, IncidentStore, Page, ResultStore } from '../ports/stores.ts';

/** What the digest reads: nothing it could write. */
export interface DigestStore {
  readonly results: Pick<ResultStore, 'history' | 'events'>;
  readonly incidents: Pick<IncidentStore, 'list'>;
}

export interface DigestSettings {
  readonly agentSilenceHours: number;
  readonly certificateWarningDays: number;
}

export interface BuildDigestInput {
  readonly store: DigestStore;
  readonly tenants: readonly TenantInput[];
  readonly week: Week;
  readonly msp: DigestMeta['msp'];
  readonly reportUrl?: string | null;
  readonly settings: DigestSettings;
  readonly now: () => Date;
  /** Tenants read at once (default 8). */
  readonly concurrency?: number;
}

export interface BuiltDigest {
  readonly meta: DigestMeta;
  readonly tenants: readonly TenantDigest[];
  readonly totals: MspTotals;
}

async function all<T>(fetch: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetch(cursor);
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== null);
  return out;
}

/** One tenant's week from the store: results and events in [start, end), every incident. */
export async function readTenantWeek(store: DigestStore, tenantId: string, week: Week): Promise<TenantHistory> {
  const since = new Date(week.startMs).toISOString();
  const until = new Date(week.endMs).toISOString();
  const [checks, events, incidents] = await Promise.all([
    all<CheckRecord>((cursor) =>
      store.results.history(tenantId, { since, until, limit: 1000, ...(cursor ? { cursor } : {}) }),
    ),
    all<EventRecord>((cursor) => store.results.events(tenantId, { since, limit: 1000, ...(cursor ? { cursor } : {}) })),
    all<IncidentRecord>((cursor) => store.incidents.list(tenantId, { limit: 1000, ...(cursor ? { cursor } : {}) })),
  ]);
  return { checks, events: events.filter((e) => e.at < until), incidents };
}

/** Read and compose every tenant's week (a few tenants at a time), plus the MSP-wide totals. */
export async function buildDigest(input: BuildDigestInput): Promise<BuiltDigest> {
  const now = input.now();
  const meta: DigestMeta = {
    msp: input.msp,
    week: input.week,
    generatedAt: now.toISOString(),
    reportUrl: input.reportUrl ?? null,
  };
  const opts = {
    basicAuthOffAt: BASIC_AUTH_OFF_BY_DEFAULT,
    agentSilenceHours: input.settings.agentSilenceHours,
    certificateWarningDays: input.settings.certificateWarningDays,
    nowMs: now.getTime(),
  };
  const out: TenantDigest[] = new Array(input.tenants.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= input.tenants.length) return;
      const t = input.tenants[i]!;
      const history = await readTenantWeek(input.store, t.id, input.week);
      out[i] = composeTenant(t, history, input.week, opts);
    }
  };
  const n = Math.max(1, Math.min(input.concurrency ?? 8, input.tenants.length));
  await Promise.all(Array.from({ length: n }, worker));
  return { meta, tenants: out, totals: mspTotals(out) };
}

export interface RenderedDigest {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** The per-tenant digest: rendered from this tenant's model only. */
export function renderTenantDigest(d: TenantDigest, meta: DigestMeta): RenderedDigest {
  return {
    subject: `${meta.msp.name}: weekly mail health for ${d.tenant.name} (${meta.week.id})`,
    html: tenantDigestHtml(d, meta),
    text: tenantDigestText(d, meta),
  };
}

export function renderMspDigest(built: BuiltDigest, limits: MspDigestLimits = DEFAULT_MSP_LIMITS): RenderedDigest {
  const { totals, meta } = built;
  return {
    subject: `${meta.msp.name}: weekly mail health, ${totals.needingAttention} of ${totals.tenants} tenants need attention (${meta.week.id})`,
    html: mspDigestHtml(built.tenants, totals, meta, limits),
    text: mspDigestText(built.tenants, totals, meta, limits),
  };
}

export function renderReport(built: BuiltDigest): string {
  return reportPageHtml(built.tenants, built.totals, built.meta);
}

export interface DigestDelivery {
  /** `msp` or the tenant id. */
  readonly audience: string;
  readonly to: readonly string[];
  readonly ok: boolean;
  readonly detail: string;
}

export type SendDigest = (
  audience: string,
  message: RenderedDigest & { readonly to: readonly string[] },
) => Promise<{ ok: boolean; detail: string }>;

/** Send the MSP-wide digest and each per-tenant digest that has recipients. Returns what happened per e-mail. */
export async function sendDigests(
  built: BuiltDigest,
  recipients: DigestRecipients,
  send: SendDigest,
  only?: { readonly msp: boolean; readonly tenantIds: ReadonlySet<string> | null },
): Promise<DigestDelivery[]> {
  const out: DigestDelivery[] = [];
  if (recipients.msp && (only?.msp ?? true)) {
    const r = await send('msp', { ...renderMspDigest(built), to: recipients.msp.to });
    out.push({ audience: 'msp', to: recipients.msp.to, ...r });
  }
  for (const d of built.tenants) {
    if (only?.tenantIds && !only.tenantIds.has(d.tenant.id)) continue;
    const to = recipients.tenants.get(d.tenant.id) ?? [];
    if (to.length === 0) continue;
    const r = await send(d.tenant.id, { ...renderTenantDigest(d, built.meta), to });
    out.push({ audience: d.tenant.id, to, ...r });
  }
  return out;
}
