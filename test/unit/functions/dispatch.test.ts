import { describe, expect, it } from 'vitest';
import { makeDispatch } from '../../../functions/dispatch/dispatch.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import type { MonitorJob } from '../../../shared/domain/jobs.ts';
import type { JobQueue } from '../../../shared/ports/job-queue.ts';
import { FakeConfigSource, RecordingLogger, RecordingMetrics } from '../../support/lambda-fakes.ts';

const CONFIG = `
version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example], relayIps: [203.0.113.7] }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example], relayIps: [203.0.113.7] }
`;

class RecordingQueue implements JobQueue {
  readonly jobs: MonitorJob[] = [];
  failTenant: string | null = null;
  async enqueue(jobs: readonly MonitorJob[]) {
    const failed = jobs.filter((j) => j.kind === 'tenant' && j.tenantId === this.failTenant);
    this.jobs.push(...jobs.filter((j) => !failed.includes(j)));
    return failed.map((job) => ({ job, error: 'InternalError' }));
  }
}

function setup() {
  const queue = new RecordingQueue();
  const metrics = new RecordingMetrics();
  const dispatch = makeDispatch({
    config: new FakeConfigSource(CONFIG),
    queue,
    settings: { intervalMinutes: 15, blocklistEverySlots: 4, blocklistShards: 2 },
    logger: new RecordingLogger(),
    metrics,
    now: () => new Date('2026-11-27T23:59:00Z'),
  });
  return { queue, metrics, dispatch };
}

describe('makeDispatch', () => {
  it('enqueues a job per tenant and the blocklist shards on a sweep slot, for the slot of the scheduled time', async () => {
    const { queue, metrics, dispatch } = setup();
    const r = await dispatch({ time: '2026-11-27T18:07:42Z' });
    expect(r.slot).toBe('2026-11-27T18:00:00.000Z');
    expect(
      queue.jobs.map((j) => (j.kind === 'tenant' ? j.tenantId : `shard ${j.shard.index}/${j.shard.count}`)),
    ).toEqual(['contoso', 'fabrikam', 'shard 0/2', 'shard 1/2']);
    expect(metrics.total(METRICS.jobsEnqueued)).toBe(4);
  });

  it('enqueues the same run ids for a retried tick, and no sweep off the sweep slots', async () => {
    const { queue, dispatch } = setup();
    await dispatch({ time: '2026-11-27T18:07:42Z' });
    await dispatch({ scheduledTime: '2026-11-27T18:14:59Z' });
    const ids = queue.jobs.map((j) => j.runId);
    expect(ids.slice(0, 4)).toEqual(ids.slice(4));
    await dispatch({ time: '2026-11-27T18:15:00Z' });
    expect(queue.jobs.slice(8).map((j) => j.kind)).toEqual(['tenant', 'tenant']);
  });

  it('uses the clock when the event carries no time', async () => {
    const { dispatch } = setup();
    expect((await dispatch({})).slot).toBe('2026-11-27T23:45:00.000Z');
  });

  it('fails after enqueueing the rest when some jobs could not be enqueued, and counts them', async () => {
    const { queue, metrics, dispatch } = setup();
    queue.failTenant = 'fabrikam';
    await expect(dispatch({ time: '2026-11-27T18:00:00Z' })).rejects.toThrow(/1 of 4 job\(s\) could not be enqueued/);
    expect(queue.jobs).toHaveLength(3);
    expect(metrics.total(METRICS.jobsNotEnqueued)).toBe(1);
  });
});
