/** Fakes for the Lambda functions' make…() unit tests: a config source, a recording logger and metrics. */
import type { Context, SQSRecord } from 'aws-lambda';
import { configJson } from '../../shared/config/document.ts';
import { type LoadedConfig, parseConfig, readConfigDocument } from '../../shared/config/load.ts';
import type { ConfigSnapshot, ConfigSource } from '../../shared/ports/config-source.ts';

export class FakeConfigSource implements ConfigSource {
  text: string;
  loads = 0;
  constructor(text: string) {
    this.text = text;
  }
  async load(): Promise<ConfigSnapshot> {
    this.loads++;
    const loaded: LoadedConfig = parseConfig(this.text, 'fake.yaml');
    return { loaded, etag: `"${this.text.length}"` };
  }
}

export class RecordingLogger {
  readonly keys = new Map<string, string>();
  readonly lines: { level: string; message: string; keys: Record<string, string>; extra: unknown }[] = [];
  appendKeys(keys: Record<string, string>): void {
    for (const [k, v] of Object.entries(keys)) this.keys.set(k, v);
  }
  removeKeys(keys: string[]): void {
    for (const k of keys) this.keys.delete(k);
  }
  #log(level: string, message: unknown, extra: unknown): void {
    this.lines.push({ level, message: String(message), keys: Object.fromEntries(this.keys), extra });
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args[0], args[1]);
  }
  info(...args: unknown[]): void {
    this.#log('info', args[0], args[1]);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args[0], args[1]);
  }
  error(...args: unknown[]): void {
    this.#log('error', args[0], args[1]);
  }
}

export class RecordingMetrics {
  readonly added: { name: string; value: number; group?: string }[] = [];
  addMetric(name: string, _unit: 'Count', value: number): void {
    this.added.push({ name, value });
  }
  addGroupMetric(name: string, group: string, value: number): void {
    this.added.push({ name, value, group });
  }
  /** The total of a metric with the group dimension. */
  groupTotal(name: string, group: string): number {
    return this.added.filter((m) => m.name === name && m.group === group).reduce((n, m) => n + m.value, 0);
  }
  total(name: string): number {
    return this.added.filter((m) => m.name === name && m.group === undefined).reduce((n, m) => n + m.value, 0);
  }
}

export const LAMBDA_CONTEXT = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The first lines of the functions' unit-test configs: the version and the lab MSP. */
export const LAB_MSP_LINES = `version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }`;

/** An `alerts:` section with one signed webhook route (`HOOK_URL`, `HOOK_SECRET`), every alert's default. */
export const HOOK_ALERTS = `alerts:
  routes:
    - { id: hook, webhook: { url: { env: HOOK_URL }, secret: { env: HOOK_SECRET } } }
  default: [hook]`;

/**
 * One SQS record as the Lambda event source mapping hands it to the worker (first delivery), for the job queue of
 * `region`; `messageId` is what a partial batch response names.
 */
export function sqsRecord(body: string, messageId: string, region = 'eu-west-1'): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'dispatch',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${region}:000000000000:relaywatch-jobs`,
    awsRegion: region,
  };
}

/** A YAML configuration in the form the functions read: the compact JSON `relaywatch config push` uploads. */
export function pushedDocument(yaml: string, sourceName = 'relaywatch.yaml'): string {
  return configJson(readConfigDocument(yaml, sourceName).document);
}
