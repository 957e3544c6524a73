/**
 * The Lambda functions' environment and the adapters every function builds from it without secrets of the config:
 * the environment schemas (parsed with zod at cold start; a missing or malformed variable fails the init with every
 * problem named), the config source with its ETag cache and the store of the deployed document's retention, the job
 * queue, the report bucket and the report link's key. The dispatch and report-link functions import this module
 * alone: they never resolve a config's secret references, so their bundles hold neither the SSM client (not even as
 * a lazy chunk) nor the config's secret loaders. The other functions import `lambda.ts`, which re-exports this and adds
 * the container's secret backends (`containerDeps`, `lambdaSecrets`, `routeSecrets`).
 *
 * Secrets never come from environment values: only the names of the bucket, table, queue and endpoints do.
 */
import * as z from 'zod';
import {
  DEFAULT_CONFIG_KEY,
  DIGEST_RUN,
  ENV,
  GROUP_DEFAULT_MINUTES,
  GROUP_INTERVAL_ENV,
  RETIRED_ENV,
  type ScheduleGroup,
  SSM_ENDPOINT_ENV,
} from '../deploy/constants.ts';
import type { ConfigSource } from '../ports/config-source.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import { MAX_PRESIGN_SECONDS, type ReportBucket } from '../ports/report-bucket.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import { DEFAULT_RETENTION_DAYS, type Store } from '../ports/stores.ts';
import type { DispatchSettings } from '../use-cases/dispatch-cycle.ts';
import { S3ConfigSource, s3Client } from './config/s3-config-source.ts';
import { SqsJobQueue, sqsClient } from './queue/sqs-job-queue.ts';
import { S3ReportBucket } from './report/s3-report-bucket.ts';
import { SecretsManagerSource } from './secrets/secrets-manager-source.ts';

const name = z.string().trim().min(1);
const url = z.url({ protocol: /^https?$/ });

const common = {
  [ENV.configBucket]: name,
  [ENV.configKey]: name.default(DEFAULT_CONFIG_KEY),
  [ENV.table]: name,
  [ENV.dynamodbEndpoint]: url.optional(),
  [ENV.s3Endpoint]: url.optional(),
  [ENV.secretsManagerEndpoint]: url.optional(),
  [SSM_ENDPOINT_ENV]: url.optional(),
  AWS_REGION: name.optional(),
};

export const WorkerEnvSchema = z.object(common);
export const IngestEnvSchema = z.object(common);
const groupMinutes = (g: ScheduleGroup) => z.coerce.number().int().min(1).max(1440).default(GROUP_DEFAULT_MINUTES[g]);
/** The variables of the former single schedule: refused with their replacement named (docs/deploy.md, "Upgrading"). */
const retired = Object.fromEntries(
  Object.entries(RETIRED_ENV).map(([name, instead]) => [
    name,
    z.never({ error: `is no longer read (one schedule per check group now): set ${instead} instead` }).optional(),
  ]),
);
export const DispatchEnvSchema = z.object({
  ...common,
  [ENV.jobQueueUrl]: url,
  [ENV.sqsEndpoint]: url.optional(),
  [GROUP_INTERVAL_ENV.checks]: groupMinutes('checks'),
  [GROUP_INTERVAL_ENV.blocklists]: groupMinutes('blocklists'),
  [GROUP_INTERVAL_ENV.probes]: groupMinutes('probes'),
  [ENV.blocklistShards]: z.coerce.number().int().min(1).max(100).default(1),
  ...retired,
});

export const DigestEnvSchema = z.object({
  ...common,
  // The report link serves `reports/<week>.html` only (shared/digest/report-link.ts): no other prefix is reachable.
  [ENV.reportPrefix]: z
    .literal(DIGEST_RUN.reportPrefix, { error: `the report link serves ${DIGEST_RUN.reportPrefix} only` })
    .default(DIGEST_RUN.reportPrefix),
  [ENV.reportUrlSeconds]: z.coerce.number().int().min(60).max(MAX_PRESIGN_SECONDS).default(DIGEST_RUN.reportUrlSeconds),
  [ENV.reportLinkSecret]: name,
  [ENV.reportLinkBaseUrl]: url,
});

/** The report-link function: the report bucket (the config bucket) and the HMAC key's secret name. */
export const ReportLinkEnvSchema = z.object({
  [ENV.configBucket]: name,
  [ENV.s3Endpoint]: url.optional(),
  [ENV.secretsManagerEndpoint]: url.optional(),
  [ENV.reportLinkSecret]: name,
  AWS_REGION: name.optional(),
});
export type ReportLinkEnv = z.infer<typeof ReportLinkEnvSchema>;

/**
 * The report link's HMAC key, read from Secrets Manager (cached per container for 5 minutes, so a rotated key is used
 * within minutes; outstanding links signed with the old key then stop working).
 */
export function reportLinkSecret(
  env: ReportLinkEnv,
  raw: Readonly<Record<string, string | undefined>> = process.env,
  source?: SecretSource,
): () => Promise<string> {
  const endpoint = env[ENV.secretsManagerEndpoint];
  const creds = localCredentials(endpoint, raw);
  const sm =
    source ??
    new SecretsManagerSource({
      region: env.AWS_REGION ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      ...(creds ? { credentials: creds } : {}),
    });
  return () => sm.get(env[ENV.reportLinkSecret]);
}

/** Dispatch's slot arithmetic from its environment. */
export function dispatchSettings(env: DispatchEnv): DispatchSettings {
  return {
    intervals: {
      checks: env[GROUP_INTERVAL_ENV.checks],
      blocklists: env[GROUP_INTERVAL_ENV.blocklists],
      probes: env[GROUP_INTERVAL_ENV.probes],
    },
    blocklistShards: env[ENV.blocklistShards],
  };
}

export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;
export type DigestEnv = z.infer<typeof DigestEnvSchema>;
export type DispatchEnv = z.infer<typeof DispatchEnvSchema>;

export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** Parse the function's environment; every problem named by variable. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.infer<S> {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${String(i.path[0] ?? '(environment)')}: ${i.message}`);
  throw new EnvironmentError(`invalid environment: ${problems.join('; ')}`);
}

/** Local endpoints (DynamoDB Local, stand-ins) get dummy credentials when none are set; AWS uses its chain. */
export function localCredentials(endpoint: string | undefined, env: Readonly<Record<string, string | undefined>>) {
  return endpoint && !env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
}

/** The deployed config document (S3), cached per container by ETag. */
export function configSource(
  env: z.infer<typeof WorkerEnvSchema>,
  raw: Readonly<Record<string, string | undefined>> = process.env,
): ConfigSource {
  return new S3ConfigSource(
    s3Client({
      endpoint: env[ENV.s3Endpoint],
      region: env.AWS_REGION ?? 'us-east-1',
      credentials: localCredentials(env[ENV.s3Endpoint], raw),
    }),
    { bucket: env[ENV.configBucket], key: env[ENV.configKey] },
  );
}

/**
 * The store of the deployed document: every handler starts an invocation with `config.load()`, and the returned
 * source makes `store` the one for that document's `state.retentionDays` (raw results, resolved incidents and delivery
 * claims expire after it), built by `storeFor` once per period seen (a DynamoDbStore sharing the container's client:
 * a cheap object). Before the first load the store has the default period. `store.close()` closes them, then calls
 * `release`. A Lambda container runs one invocation at
 * a time, so what an invocation writes gets the retention of the document it loaded.
 */
export function documentStore(
  source: ConfigSource,
  storeFor: (retentionDays: number) => Store,
  /** After every store closed (the shared client's release). */
  release: () => void = () => {},
): { readonly config: ConfigSource; readonly store: Store } {
  const stores = new Map<number, Store>();
  const forDays = (days: number): Store => {
    let s = stores.get(days);
    if (s === undefined) {
      s = storeFor(days);
      stores.set(days, s);
    }
    return s;
  };
  let current = forDays(DEFAULT_RETENTION_DAYS);
  const config: ConfigSource = {
    load: async () => {
      const snapshot = await source.load();
      current = forDays(snapshot.loaded.config.state.retentionDays);
      return snapshot;
    },
  };
  const store: Store = {
    get results() {
      return current.results;
    },
    get states() {
      return current.states;
    },
    get incidents() {
      return current.incidents;
    },
    get budget() {
      return current.budget;
    },
    get nonces() {
      return current.nonces;
    },
    get deliveries() {
      return current.deliveries;
    },
    writeDecision: (write) => current.writeDecision(write),
    prune: (now) => current.prune(now),
    close: async () => {
      try {
        await Promise.all([...stores.values()].map((s) => s.close()));
      } finally {
        release();
      }
    },
  };
  return { config, store };
}

export function jobQueue(env: DispatchEnv, raw: Readonly<Record<string, string | undefined>> = process.env): JobQueue {
  const endpoint = env[ENV.sqsEndpoint];
  return new SqsJobQueue(
    sqsClient({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: localCredentials(endpoint, raw) }),
    env[ENV.jobQueueUrl],
  );
}

/** The report pages: the config bucket, written (digest) or pre-signed (report-link) with the function's role. */
export function reportBucket(
  env: Pick<DigestEnv, typeof ENV.configBucket | typeof ENV.s3Endpoint | 'AWS_REGION'>,
  raw: Readonly<Record<string, string | undefined>> = process.env,
): ReportBucket {
  const endpoint = env[ENV.s3Endpoint];
  return new S3ReportBucket(
    s3Client({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: localCredentials(endpoint, raw) }),
    env[ENV.configBucket],
  );
}
