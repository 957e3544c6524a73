/**
 * The job queue on SQS: `SendMessageBatch` of at most 10 jobs (SQS's limit), batches sent in parallel; entries SQS
 * reports as failed are sent once more, then returned with the reason. The job's run id is the batch entry id's
 * source and a message attribute, so a redelivered or re-dispatched job is recognisable in the logs.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jobId, type MonitorJob } from '../../domain/jobs.ts';
import type { JobQueue } from '../../ports/job-queue.ts';

export const SQS_BATCH = 10;

export class SqsJobQueue implements JobQueue {
  readonly #client: SQSClient;
  readonly #url: string;

  constructor(client: SQSClient, queueUrl: string) {
    this.#client = client;
    this.#url = queueUrl;
  }

  async enqueue(jobs: readonly MonitorJob[]): Promise<readonly { job: MonitorJob; error: string }[]> {
    const batches: MonitorJob[][] = [];
    for (let i = 0; i < jobs.length; i += SQS_BATCH) batches.push(jobs.slice(i, i + SQS_BATCH));
    const failed = await Promise.all(batches.map((b) => this.#send(b, 1)));
    return failed.flat();
  }

  async #send(batch: readonly MonitorJob[], retries: number): Promise<{ job: MonitorJob; error: string }[]> {
    // Entry ids: letters, digits, - and _ only, unique in the batch.
    const entries = batch.map((job, i) => ({ id: `j${i}`, job }));
    let out: { Failed?: { Id?: string; Message?: string; Code?: string }[] };
    try {
      out = await this.#client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#url,
          Entries: entries.map((e) => ({
            Id: e.id,
            MessageBody: JSON.stringify(e.job),
            MessageAttributes: { runId: { DataType: 'String', StringValue: jobId(e.job) } },
          })),
        }),
      );
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (retries > 0) return this.#send(batch, retries - 1);
      return batch.map((job) => ({ job, error }));
    }
    const failedIds = new Map((out.Failed ?? []).map((f) => [f.Id, `${f.Code ?? 'Failed'}: ${f.Message ?? ''}`]));
    const again = entries.filter((e) => failedIds.has(e.id));
    if (again.length === 0) return [];
    if (retries > 0)
      return this.#send(
        again.map((e) => e.job),
        retries - 1,
      );
    return again.map((e) => ({ job: e.job, error: failedIds.get(e.id) ?? 'failed' }));
  }
}

export function sqsClient(
  o: {
    endpoint?: string | undefined;
    region?: string | undefined;
    credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  } = {},
): SQSClient {
  return new SQSClient({
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
  });
}
