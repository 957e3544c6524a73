/**
 * The dispatch of one schedule slot: which jobs are due, enqueued. Every tenant's domain checks are due every slot;
 * the blocklist sweep every `blocklistEverySlots` slots (DNSBL operators count queries per day, and a listing rarely
 * needs a 5-minute reaction), split into `blocklistShards` jobs by a hash of the IP.
 *
 * Enqueueing the same slot twice (a retried schedule) enqueues jobs with the same run ids: the workers' writes and
 * sends are idempotent per run id, so the second copy writes and sends nothing new.
 */
import type { RelaywatchConfig } from '../config/schema.ts';
import { blocklistJob, type MonitorJob, scheduleSlot, tenantJob } from '../domain/jobs.ts';
import type { JobQueue } from '../ports/job-queue.ts';

export interface DispatchSettings {
  /** The schedule's interval; a slot is the scheduled time floored to it. */
  readonly intervalMinutes: number;
  /** Blocklist jobs every this many slots (1: every slot). */
  readonly blocklistEverySlots: number;
  /** Blocklist jobs per due slot (shards of the unique IPs). */
  readonly blocklistShards: number;
}

export interface DispatchResult {
  readonly slot: string;
  readonly jobs: readonly MonitorJob[];
  readonly failed: readonly { readonly job: MonitorJob; readonly error: string }[];
}

/** The jobs due at a slot (pure). */
export function dueJobs(config: RelaywatchConfig, slot: Date, settings: DispatchSettings): MonitorJob[] {
  const jobs: MonitorJob[] = config.tenants.map((t) => tenantJob(slot, t.id));
  const index = Math.floor(slot.getTime() / (settings.intervalMinutes * 60_000));
  const sweep = config.tenants.some((t) => t.relayIps.length > 0 || t.domains.length > 0);
  if (sweep && index % Math.max(1, settings.blocklistEverySlots) === 0) {
    for (let i = 0; i < settings.blocklistShards; i++) jobs.push(blocklistJob(slot, i, settings.blocklistShards));
  }
  return jobs;
}

export async function dispatchCycle(args: {
  readonly config: RelaywatchConfig;
  /** The scheduled time (the schedule's, not the clock's: a late invocation still belongs to its slot). */
  readonly scheduledAt: Date;
  readonly settings: DispatchSettings;
  readonly queue: JobQueue;
}): Promise<DispatchResult> {
  const slot = scheduleSlot(args.scheduledAt, args.settings.intervalMinutes);
  const jobs = dueJobs(args.config, slot, args.settings);
  const failed = await args.queue.enqueue(jobs);
  return { slot: slot.toISOString(), jobs, failed };
}
