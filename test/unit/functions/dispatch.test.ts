import { describe, expect, it } from 'vitest';
import { makeDispatch } from '../../../functions/dispatch/dispatch.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import { type MonitorJob, parseJob } from '../../../shared/domain/jobs.ts';
import type { JobQueue } from '../../../shared/ports/job-queue.ts';
import { FakeConfigSource, RecordingLogger, RecordingMetrics } from '../../support/lambda-fakes.ts';

const CONFIG = `
version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example], relayIps: [203.0.113.7] }
  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example]
    relayIps: [203.0.113.7]
    probeRecipients: [probe@fabrikam.example]
    submission: { auth: basic, mailbox: scanner@fabrikam.example, password: { env: FABRIKAM_SMTP } }
`;

class RecordingQueue implements JobQueue {
  readonly jobs: MonitorJob[] = [];
  failTenant: string | null = null;
  async enqueue(jobs: readonly MonitorJob[]) {
    const failed = jobs.filter((j) => j.kind !== 'blocklists' && j.tenantId === this.failTenant);
    this.jobs.push(...jobs.filter((j) => !failed.includes(j)));
    return failed.map((job) => ({ job, error: 'InternalError' }));
  }
}

const label = (j: MonitorJob) =>
  j.kind === 'blocklists' ? `shard ${j.shard.index}/${j.shard.count}` : `${j.kind} ${j.tenantId}`;

function setup() {
  const queue = new RecordingQueue();
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const dispatch = makeDispatch({
    config: new FakeConfigSource(CONFIG),
    queue,
    settings: { intervals: { checks: 15, blocklists: 60, probes: 240 }, blocklistShards: 2 },
    logger,
    metrics,
    now: () => new Date('2026-11-27T23:59:00Z'),
  });
  return { queue, metrics, logger, dispatch };
}

describe('makeDispatch', () => {
  it("enqueues only the named group's jobs, for the group's slot of the scheduled time", async () => {
    const { queue, metrics, dispatch } = setup();
    const checks = await dispatch({ group: 'checks', scheduledTime: '2026-11-27T18:07:42Z' });
    expect(checks.runs.map((r) => [r.group, r.slot])).toEqual([['checks', '2026-11-27T18:00:00.000Z']]);
    expect(queue.jobs.map(label)).toEqual(['tenant contoso', 'tenant fabrikam']);

    await dispatch({ group: 'blocklists', scheduledTime: '2026-11-27T18:07:42Z' });
    expect(queue.jobs.slice(2).map(label)).toEqual(['shard 0/2', 'shard 1/2']);

    const probes = await dispatch({ group: 'probes', scheduledTime: '2026-11-27T18:07:42Z' });
    // Only the tenant with a submission probe; the slot is floored to the probes' 240 minutes.
    expect(queue.jobs.slice(4).map(label)).toEqual(['probe fabrikam']);
    expect(probes.runs[0]?.slot).toBe('2026-11-27T16:00:00.000Z');
    expect(queue.jobs.map((j) => parseJob(JSON.stringify(j)).runId)).toEqual(queue.jobs.map((j) => j.runId));

    // Counted per group only: no series without the group.
    expect(metrics.total(METRICS.jobsEnqueued)).toBe(0);
    expect(metrics.groupTotal(METRICS.jobsEnqueued, 'checks')).toBe(2);
    expect(metrics.groupTotal(METRICS.jobsEnqueued, 'blocklists')).toBe(2);
    expect(metrics.groupTotal(METRICS.jobsEnqueued, 'probes')).toBe(1);
  });

  it('enqueues the same run ids for a retried or late tick of the same slot, and new ones for the next slot', async () => {
    const { queue, dispatch } = setup();
    await dispatch({ group: 'probes', scheduledTime: '2026-11-27T16:00:00Z' });
    // The scheduler's retry of the same tick, and a late delivery still inside the slot.
    await dispatch({ group: 'probes', scheduledTime: '2026-11-27T16:00:00Z' });
    await dispatch({ group: 'probes', time: '2026-11-27T19:59:59Z' });
    const ids = queue.jobs.map((j) => j.runId);
    expect(new Set(ids).size).toBe(1);
    await dispatch({ group: 'probes', scheduledTime: '2026-11-27T20:00:00Z' });
    expect(queue.jobs[3]?.runId).not.toBe(ids[0]);
    expect(queue.jobs[3]?.slot).toBe('2026-11-27T20:00:00.000Z');
  });

  it('dispatches every group, each for its own slot, when the event names none (a manual invoke)', async () => {
    const { queue, dispatch } = setup();
    const r = await dispatch({});
    expect(r.runs.map((x) => [x.group, x.slot])).toEqual([
      ['checks', '2026-11-27T23:45:00.000Z'],
      ['blocklists', '2026-11-27T23:00:00.000Z'],
      ['probes', '2026-11-27T20:00:00.000Z'],
    ]);
    expect(queue.jobs.map(label)).toEqual([
      'tenant contoso',
      'tenant fabrikam',
      'shard 0/2',
      'shard 1/2',
      'probe fabrikam',
    ]);
  });

  it('refuses an unknown group without enqueueing anything', async () => {
    const { queue, dispatch } = setup();
    await expect(dispatch({ group: 'cycle', scheduledTime: '2026-11-27T18:00:00Z' })).rejects.toThrow(
      /unknown check group "cycle" in the schedule input: expected one of checks, blocklists, probes/,
    );
    expect(queue.jobs).toEqual([]);
  });

  it('counts a group with nothing to enqueue as dispatched (zero), so its alarm sees dispatch ran', async () => {
    const queue = new RecordingQueue();
    const metrics = new RecordingMetrics();
    const dispatch = makeDispatch({
      config: new FakeConfigSource(CONFIG.replace(/\n {4}probeRecipients: .*\n {4}submission: .*\n/, '\n')),
      queue,
      settings: { intervals: { checks: 60, blocklists: 60, probes: 240 }, blocklistShards: 1 },
      logger: new RecordingLogger(),
      metrics,
      now: () => new Date(),
    });
    const r = await dispatch({ group: 'probes', scheduledTime: '2026-11-27T16:00:00Z' });
    expect(r.jobs).toEqual([]);
    expect(metrics.added).toContainEqual({ name: METRICS.jobsEnqueued, value: 0, group: 'probes' });
  });

  it('fails after enqueueing the rest when some jobs could not be enqueued, and counts them', async () => {
    const { queue, metrics, dispatch } = setup();
    queue.failTenant = 'fabrikam';
    await expect(dispatch({ group: 'checks', time: '2026-11-27T18:00:00Z' })).rejects.toThrow(
      /1 of 2 job\(s\) could not be enqueued/,
    );
    expect(queue.jobs.map(label)).toEqual(['tenant contoso']);
    expect(metrics.total(METRICS.jobsNotEnqueued)).toBe(1);
  });
});
