/**
 * Monitoring jobs: what the dispatch function enqueues and a worker runs, and their deterministic identity.
 *
 Each check group has its own schedule and interval (`SCHEDULE_GROUPS` in shared/deploy/constants.ts); a slot is
 * the group's scheduled time floored to the group's interval. A slot of
 * - the `checks` group has one `tenant` job per tenant: its domain checks (SPF, MX);
 * - the `blocklists` group has one job per shard of the MSP's sending IPs (`shard.index` of `shard.count`, by a hash
 *   of the IP): every unique IP is asked once per sweep however many tenants share it, and its verdicts are attached
 *   to every tenant that uses it. One shard (the default) also means one zone health check per sweep;
 * - the `probes` group has one `probe` job per tenant with a submission probe (each sends a real message, so it
 *   runs less often than the checks).
 *
 * The run id is derived from (slot, scope, check group): a job delivered twice (SQS is at-least-once), or after a
 * newer one, carries the same run id, so its results (keyed by run id), events (ids derived from it) and decisions
 * (the incident policy ignores an observation of the run a state has already seen) write nothing new, and the alert
 * step's claims send nothing new.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ScheduleGroup } from '../deploy/constants.ts';

export const JOB_SCHEMA = 'relaywatch.job/v1';

/** The group a run id is derived for (`domains` is the SPF/MX checks: the name keeps their run ids as they were). */
export type CheckGroup = 'domains' | 'blocklists' | 'probes';

export interface TenantJob {
  readonly schema: typeof JOB_SCHEMA;
  readonly kind: 'tenant';
  /** ISO 8601 UTC: the start of the schedule slot. */
  readonly slot: string;
  readonly tenantId: string;
  readonly runId: string;
}

export interface BlocklistJob {
  readonly schema: typeof JOB_SCHEMA;
  readonly kind: 'blocklists';
  readonly slot: string;
  readonly shard: { readonly index: number; readonly count: number };
  readonly runId: string;
}

/** A tenant's submission probe (the `probes` schedule group). */
export interface ProbeJob {
  readonly schema: typeof JOB_SCHEMA;
  readonly kind: 'probe';
  readonly slot: string;
  readonly tenantId: string;
  readonly runId: string;
}

export type MonitorJob = TenantJob | BlocklistJob | ProbeJob;

/** The slot a time falls in: floored to `intervalMinutes` since the epoch. */
export function scheduleSlot(at: Date, intervalMinutes: number): Date {
  if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1) {
    throw new RangeError(`intervalMinutes must be a whole number >= 1, got ${intervalMinutes}`);
  }
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError('not a valid date');
  const step = intervalMinutes * 60_000;
  return new Date(Math.floor(t / step) * step);
}

/** `20261127T180000Z-<10 hex>`: sorts by slot; the same (slot, scope, group) always gives the same id. */
export function runIdFor(slot: Date, scope: string, group: CheckGroup): string {
  const stamp = slot
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${createHash('sha256').update(`${scope}\0${group}`).digest('hex').slice(0, 10)}`;
}

export function tenantJob(slot: Date, tenantId: string): TenantJob {
  return {
    schema: JOB_SCHEMA,
    kind: 'tenant',
    slot: slot.toISOString(),
    tenantId,
    runId: runIdFor(slot, `tenant:${tenantId}`, 'domains'),
  };
}

export function probeJob(slot: Date, tenantId: string): ProbeJob {
  return {
    schema: JOB_SCHEMA,
    kind: 'probe',
    slot: slot.toISOString(),
    tenantId,
    runId: runIdFor(slot, `tenant:${tenantId}`, 'probes'),
  };
}

export function blocklistJob(slot: Date, index: number, count: number): BlocklistJob {
  return {
    schema: JOB_SCHEMA,
    kind: 'blocklists',
    slot: slot.toISOString(),
    shard: { index, count },
    runId: runIdFor(slot, `shard:${index}/${count}`, 'blocklists'),
  };
}

/** The schedule group a job belongs to (the log key and the metric dimension of the worker). */
export function scheduleGroupOf(job: MonitorJob): ScheduleGroup {
  return job.kind === 'tenant' ? 'checks' : job.kind === 'probe' ? 'probes' : 'blocklists';
}

/** Which shard an IP belongs to (stable across processes). */
export function shardOf(ip: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('sha256').update(ip).digest().readUInt32BE(0) % count;
}

/** A stable id for a job (the SQS message deduplication and the log key): its run id. */
export function jobId(job: MonitorJob): string {
  return job.runId;
}

const slot = z.iso.datetime({ offset: false });
export const MonitorJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    schema: z.literal(JOB_SCHEMA),
    kind: z.literal('tenant'),
    slot,
    tenantId: z.string().min(1).max(64),
    runId: z.string().min(1).max(100),
  }),
  z.strictObject({
    schema: z.literal(JOB_SCHEMA),
    kind: z.literal('probe'),
    slot,
    tenantId: z.string().min(1).max(64),
    runId: z.string().min(1).max(100),
  }),
  z.strictObject({
    schema: z.literal(JOB_SCHEMA),
    kind: z.literal('blocklists'),
    slot,
    shard: z
      .strictObject({ index: z.number().int().min(0), count: z.number().int().min(1).max(1000) })
      .refine((s) => s.index < s.count, 'index must be below count'),
    runId: z.string().min(1).max(100),
  }),
]);

/** Thrown for a job body that is not a job (a bug or a foreign message: it goes to the DLQ). */
export class InvalidJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidJobError';
  }
}

/** Parse a job body; the run id must be the one its identity derives (a job cannot name another run). */
export function parseJob(body: string): MonitorJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new InvalidJobError('the job body is not JSON', { cause: err });
  }
  const r = MonitorJobSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InvalidJobError(`invalid job at ${i?.path.join('.') || '(body)'}: ${i?.message ?? 'invalid'}`);
  }
  const job = r.data;
  const at = new Date(job.slot);
  const expected =
    job.kind === 'tenant'
      ? tenantJob(at, job.tenantId).runId
      : job.kind === 'probe'
        ? probeJob(at, job.tenantId).runId
        : blocklistJob(at, job.shard.index, job.shard.count).runId;
  if (job.runId !== expected) throw new InvalidJobError(`job run id ${job.runId} does not match its slot and scope`);
  return job;
}
