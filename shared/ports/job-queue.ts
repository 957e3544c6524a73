/** Where the dispatch puts monitoring jobs (SQS in AWS). */
import type { MonitorJob } from '../domain/jobs.ts';

export interface JobQueue {
  /**
   * Enqueue jobs (the adapter batches them: SQS takes 10 per request). Resolves to the jobs that could not be
   * enqueued after the adapter's retries, with why; an empty list when every job was accepted.
   */
  enqueue(jobs: readonly MonitorJob[]): Promise<readonly { readonly job: MonitorJob; readonly error: string }[]>;
}
