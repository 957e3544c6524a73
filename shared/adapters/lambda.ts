/**
 * The Lambda functions' adapters, built from their environment: the parts that live as long as the container (the
 * config source with its ETag cache, the DynamoDB store, the Secrets Manager source with its TTL cache, the job
 * queue) and the parts of one invocation (the runtime of `createRuntime`: a DNS stack with its per-run cache, the
 * blocklist plans, the notifiers with their secrets resolved: `lambda-runtime.ts`, imported by the worker only, so the
 * dispatch and ingest bundles hold no DNS, SPF or probe code). Handlers call these and nothing else picks adapters.
 *
 * The environment is parsed with zod at cold start; a missing or malformed variable fails the init with every
 * problem named (the function never starts half configured). Secrets never come from environment values: only the
 * names of the bucket, table, queue and endpoints do.
 */
import * as z from 'zod';
import { loadManagedSecrets } from '../config/managed-secrets.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import type { SecretSources } from '../config/secrets.ts';
import { DEFAULT_CONFIG_KEY, ENV } from '../deploy/constants.ts';
import type { ConfigSource } from '../ports/config-source.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { Store } from '../ports/stores.ts';
import { S3ConfigSource, s3Client } from './config/s3-config-source.ts';
import { SqsJobQueue, sqsClient } from './queue/sqs-job-queue.ts';
import { SecretsManagerSource } from './secrets/secrets-manager-source.ts';
import { DynamoDbStore } from './store/dynamodb-store.ts';

const name = z.string().trim().min(1);
const url = z.url({ protocol: /^https?$/ });

const common = {
  [ENV.configBucket]: name,
  [ENV.configKey]: name.default(DEFAULT_CONFIG_KEY),
  [ENV.table]: name,
  [ENV.dynamodbEndpoint]: url.optional(),
  [ENV.s3Endpoint]: url.optional(),
  [ENV.secretsManagerEndpoint]: url.optional(),
  AWS_REGION: name.optional(),
};

export const WorkerEnvSchema = z.object(common);
export const IngestEnvSchema = z.object(common);
export const DispatchEnvSchema = z.object({
  ...common,
  [ENV.jobQueueUrl]: url,
  [ENV.sqsEndpoint]: url.optional(),
  [ENV.scheduleMinutes]: z.coerce.number().int().min(1).max(1440).default(15),
  [ENV.blocklistEverySlots]: z.coerce.number().int().min(1).max(1000).default(4),
  [ENV.blocklistShards]: z.coerce.number().int().min(1).max(100).default(1),
});

export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;
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
function localCredentials(endpoint: string | undefined, env: Readonly<Record<string, string | undefined>>) {
  return endpoint && !env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
}

export interface ContainerDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: SecretSource;
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

export function containerDeps(
  env: z.infer<typeof WorkerEnvSchema>,
  raw: Readonly<Record<string, string | undefined>> = process.env,
): ContainerDeps {
  const region = env.AWS_REGION ?? 'us-east-1';
  const config = configSource(env, raw);
  const ddb = env[ENV.dynamodbEndpoint];
  const creds = localCredentials(ddb, raw);
  const store = new DynamoDbStore({
    tableName: env[ENV.table],
    region,
    ...(ddb ? { endpoint: ddb } : {}),
    ...(creds ? { credentials: creds } : {}),
  });
  const sm = env[ENV.secretsManagerEndpoint];
  const smCreds = localCredentials(sm, raw);
  const secrets = new SecretsManagerSource({
    region,
    ...(sm ? { endpoint: sm } : {}),
    ...(smCreds ? { credentials: smCreds } : {}),
  });
  return { config, store, secrets };
}

export function jobQueue(env: DispatchEnv, raw: Readonly<Record<string, string | undefined>> = process.env): JobQueue {
  const endpoint = env[ENV.sqsEndpoint];
  return new SqsJobQueue(
    sqsClient({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: localCredentials(endpoint, raw) }),
    env[ENV.jobQueueUrl],
  );
}

/** The secrets of a config: Secrets Manager references loaded ahead (grouped by secret name). No environment values. */
export async function lambdaSecrets(config: RelaywatchConfig, source: SecretSource): Promise<SecretSources> {
  return { env: {}, managed: await loadManagedSecrets(config, source) };
}
