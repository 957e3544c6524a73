/**
 * The dispatch of one schedule slot of one check group: which jobs are due, enqueued. Each group has its own schedule
 * and interval (`SCHEDULE_GROUPS`): the `checks` group enqueues every tenant's domain checks (SPF, MX), the
 * `blocklists` group the sweep of the unique sending IPs split into `blocklistShards` jobs by a hash of the IP (DNSBL
 * operators count queries per day), the `probes` group one submission probe per tenant that has one (each sends a
 * real message, so it runs less often). The slot is the scheduled time floored to the group's interval.
 *
 * Enqueueing the same slot twice (a retried schedule) enqueues jobs with the same run ids: the workers' writes and
 * sends are idempotent per run id, so the second copy writes and sends nothing new.
 */
import type { RelaywatchConfig } from '../config/schema.ts';
import type { ScheduleGroup } from '../deploy/constants.ts';
import { blocklistJob, type MonitorJob, probeJob, scheduleSlot, tenantJob } from '../domain/jobs.ts';
import type { JobQueue } from '../ports/job-queue.ts';

export interface DispatchSettings {
  /** Each group's interval in minutes; a group's slot is its scheduled time floored to it. */
  readonly intervals: Readonly<Record<ScheduleGroup, number>>;
  /** Blocklist jobs per sweep (shards of the unique IPs). */
  readonly blocklistShards: number;
}

export interface DispatchResult {
  readonly group: ScheduleGroup;
  readonly slot: string;
  readonly jobs: readonly MonitorJob[];
  readonly failed: readonly { readonly job: MonitorJob; readonly error: string }[];
}

/**
 * The jobs of a group due at a slot (pure). The config document has no per-tenant probe interval: every tenant with
 * a submission probe is probed on the `probes` schedule.
 */
export function dueJobs(
  config: RelaywatchConfig,
  group: ScheduleGroup,
  slot: Date,
  settings: Pick<DispatchSettings, 'blocklistShards'>,
): MonitorJob[] {
  switch (group) {
    case 'checks':
      return config.tenants.map((t) => tenantJob(slot, t.id));
    case 'probes':
      // A probe needs its submission settings and somewhere to send (the probe recipients).
      return config.tenants
        .filter((t) => t.submission !== undefined && (t.probeRecipients?.length ?? 0) > 0)
        .map((t) => probeJob(slot, t.id));
    case 'blocklists': {
      const sweep = config.tenants.some((t) => t.relayIps.length > 0 || t.domains.length > 0);
      if (!sweep) return [];
      const shards = Math.max(1, settings.blocklistShards);
      return Array.from({ length: shards }, (_, i) => blocklistJob(slot, i, shards));
    }
  }
}

export async function dispatchCycle(args: {
  readonly config: RelaywatchConfig;
  readonly group: ScheduleGroup;
  /** The scheduled time (the schedule's, not the clock's: a late invocation still belongs to its slot). */
  readonly scheduledAt: Date;
  readonly settings: DispatchSettings;
  readonly queue: JobQueue;
}): Promise<DispatchResult> {
  const slot = scheduleSlot(args.scheduledAt, args.settings.intervals[args.group]);
  const jobs = dueJobs(args.config, args.group, slot, args.settings);
  const failed = jobs.length > 0 ? await args.queue.enqueue(jobs) : [];
  return { group: args.group, slot: slot.toISOString(), jobs, failed };
}
