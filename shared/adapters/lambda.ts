/**
 * The Lambda functions' adapters, built from their environment: the parts that live as long as the container (the
 * config source with its ETag cache, the DynamoDB client and the store of the deployed document's retention, the
 * Secrets Manager source with its TTL cache, the job queue; the worker's DNS answer cache, `workerContainer()`) and the
 * parts of one invocation (the runtime of `createRuntime`: a DNS stack with its per-run cache, the blocklist plans,
 * the notifiers with their secrets resolved: `lambda-runtime.ts`, imported by the worker only, so the dispatch and
 * ingest bundles hold no DNS, SPF or probe code). Handlers call these and nothing else picks adapters.
 *
 * The environment schemas (parsed with zod at cold start; a missing or malformed variable fails the init with every
 * problem named, so the function never starts half configured) and the adapters that need no secret of the config
 * are in `lambda-env.ts`, re-exported here; the dispatch and report-link functions import that module alone, so
 * their bundles hold no SSM client. This module adds the container's secret backends (Secrets Manager and SSM, each
 * with its TTL cache). Secrets never come from environment values: only the names of the bucket, table, queue and
 * endpoints do.
 */
import { loadManagedSecrets, loadParameterSecrets } from '../config/managed-secrets.ts';
import type { AlertRouteConfig, RelaywatchConfig } from '../config/schema.ts';
import type { SecretSources } from '../config/secrets.ts';
import { ENV, SSM_ENDPOINT_ENV } from '../deploy/constants.ts';
import type { ConfigSource } from '../ports/config-source.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { Store } from '../ports/stores.ts';
import { configSource, documentStore, localCredentials, type WorkerEnv } from './lambda-env.ts';
import { SecretsManagerSource } from './secrets/secrets-manager-source.ts';
import { SsmParameterSource } from './secrets/ssm-parameter-source.ts';
import { DynamoDbStore, dynamoDbClient } from './store/dynamodb-store.ts';

export * from './lambda-env.ts';

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

export function containerDeps(
  env: WorkerEnv,
  raw: Readonly<Record<string, string | undefined>> = process.env,
): ContainerDeps {
  const region = env.AWS_REGION ?? 'us-east-1';
  const ddb = env[ENV.dynamodbEndpoint];
  const creds = localCredentials(ddb, raw);
  const client = dynamoDbClient({
    region,
    ...(ddb ? { endpoint: ddb } : {}),
    ...(creds ? { credentials: creds } : {}),
  });
  const { config, store } = documentStore(
    configSource(env, raw),
    (retentionDays) => new DynamoDbStore({ tableName: env[ENV.table], client, retentionDays }),
    () => client.destroy(),
  );
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

/**
 * The secrets of the e-mail routes the digest sends through, and nothing else of the config (the digest function is
 * granted no other secret; an SES route needs none).
 */
export async function routeSecrets(
  routes: readonly AlertRouteConfig[],
  backends: SecretBackends,
): Promise<SecretSources> {
  const [managed, parameters] = await Promise.all([
    loadManagedSecrets(routes, backends.secretsManager),
    loadParameterSecrets(routes, backends.ssm),
  ]);
  return { env: {}, managed, parameters };
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
