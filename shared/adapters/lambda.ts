/**
 * The Lambda functions' adapters, built from their environment: the parts that live as long as the container (the
 * config source with its ETag cache, the DynamoDB store, the Secrets Manager source with its TTL cache, the job
 * queue) and the parts of one invocation (the runtime of `createRuntime`: a DNS stack with its per-run cache, the
 * blocklist plans, the notifiers with their secrets resolved). Handlers call these and nothing else picks adapters.
 *
 * The environment is parsed with zod at cold start; a missing or malformed variable fails the init with every
 * problem named (the function never starts half configured). Secrets never come from environment values: only the
 * names of the bucket, table, queue and endpoints do.
 */
import { z } from 'zod';
import { blocklistZones } from '../config/blocklists.ts';
import { loadManagedSecrets, loadParameterSecrets } from '../config/managed-secrets.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import { resolveBlocklistKeys, type SecretSources } from '../config/secrets.ts';
import { probeTenants } from '../config/tenants.ts';
import {
  DEFAULT_CONFIG_KEY,
  ENV,
  GROUP_DEFAULT_MINUTES,
  GROUP_INTERVAL_ENV,
  RETIRED_ENV,
  type ScheduleGroup,
  SSM_ENDPOINT_ENV,
} from '../deploy/constants.ts';
import type { ConfigSource } from '../ports/config-source.ts';
import type { JobQueue } from '../ports/job-queue.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { Store } from '../ports/stores.ts';
import type { DispatchSettings } from '../use-cases/dispatch-cycle.ts';
import type { MonitorJobDeps } from '../use-cases/monitor-job.ts';
import { S3ConfigSource, s3Client } from './config/s3-config-source.ts';
import { SqsJobQueue, sqsClient } from './queue/sqs-job-queue.ts';
import { createRuntime } from './runtime.ts';
import { SecretsManagerSource } from './secrets/secrets-manager-source.ts';
import { SsmParameterSource } from './secrets/ssm-parameter-source.ts';
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

/** Where `{ secretsManager }` and `{ ssm }` references are read (each cached per container with a TTL). */
export interface SecretBackends {
  readonly secretsManager: SecretSource;
  readonly ssm: SecretSource;
}

export interface ContainerDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: SecretBackends;
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
  const secretsManager = new SecretsManagerSource({
    region,
    ...(sm ? { endpoint: sm } : {}),
    ...(smCreds ? { credentials: smCreds } : {}),
  });
  const ssmEndpoint = env[SSM_ENDPOINT_ENV];
  const ssmCreds = localCredentials(ssmEndpoint, raw);
  const ssm = new SsmParameterSource({
    region,
    ...(ssmEndpoint ? { endpoint: ssmEndpoint } : {}),
    ...(ssmCreds ? { credentials: ssmCreds } : {}),
  });
  return { config, store, secrets: { secretsManager, ssm } };
}

export function jobQueue(env: DispatchEnv, raw: Readonly<Record<string, string | undefined>> = process.env): JobQueue {
  const endpoint = env[ENV.sqsEndpoint];
  return new SqsJobQueue(
    sqsClient({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: localCredentials(endpoint, raw) }),
    env[ENV.jobQueueUrl],
  );
}

/**
 * The secrets of a config: Secrets Manager references (grouped by secret name) and SSM parameters loaded ahead, in
 * parallel. No environment values. A bare source is Secrets Manager alone (`{ ssm }` references then say SSM is not
 * used here).
 */
export async function lambdaSecrets(
  config: RelaywatchConfig,
  backends: SecretBackends | SecretSource,
): Promise<SecretSources> {
  if (!('secretsManager' in backends)) return { env: {}, managed: await loadManagedSecrets(config, backends) };
  const [managed, parameters] = await Promise.all([
    loadManagedSecrets(config, backends.secretsManager),
    loadParameterSecrets(config, backends.ssm),
  ]);
  return { env: {}, managed, parameters };
}

export interface InvocationRuntime extends Omit<MonitorJobDeps, 'config' | 'store' | 'now'> {
  close(): Promise<void>;
}

/** What one worker invocation needs for a config: DNS, blocklist plans, notifiers, probes. `close()` releases it. */
export async function invocationRuntime(config: RelaywatchConfig, secrets: SecretSources): Promise<InvocationRuntime> {
  const blocklistResolvers = config.blocklists?.resolvers;
  const runtime = createRuntime({
    dns: { specs: config.dns.resolvers, timeoutMs: config.dns.timeoutMs, concurrency: config.dns.concurrency },
    ...(blocklistResolvers?.length
      ? {
          blocklistDns: {
            specs: blocklistResolvers,
            timeoutMs: config.dns.timeoutMs,
            concurrency: config.dns.concurrency,
          },
        }
      : {}),
    blocklists: {
      zones: blocklistZones(config),
      explicit: false,
      keys: Object.fromEntries(resolveBlocklistKeys(config, secrets).keys),
    },
    alerts: { config, sources: async () => secrets },
  });
  const notifiers = await runtime.notifiers();
  return {
    checkContext: runtime.checkContext,
    blocklists: () => runtime.blocklists(),
    notifierFor: (id) => notifiers.notifierFor(id),
    probes: {
      prober: runtime.prober(),
      tokens: runtime.tokens(),
      resolver: runtime.dns.resolver,
      now: () => new Date(),
      ehloName: (t) =>
        (t.submission?.mailbox ?? 'relaywatch@relaywatch.invalid').split('@').pop() ?? 'relaywatch.invalid',
    },
    probeTenants: () => probeTenants(config, async () => secrets),
    close: () => runtime.close(),
  };
}
