/**
 * Names that the code and the infrastructure must agree on: the DynamoDB table's key and index attributes, the
 * environment variables the Lambda handlers read, and the functions the CDK app deploys. The CDK app (`cdk/`) may import
 * from `shared/` only constants like these and config types, so a renamed attribute or variable breaks the build
 * instead of a deployment.
 */

/** The single table's primary key attributes (both strings). */
export const TABLE_PARTITION_KEY = 'PK';
export const TABLE_SORT_KEY = 'SK';

/** Sparse index of open incidents (`GSI1PK = 'OPEN'`), projection ALL. */
export const GSI1 = 'GSI1';
export const GSI1_PARTITION_KEY = 'GSI1PK';
export const GSI1_SORT_KEY = 'GSI1SK';

/** Time-ordered history of checks, events and runs, projection ALL. */
export const GSI2 = 'GSI2';
export const GSI2_PARTITION_KEY = 'GSI2PK';
export const GSI2_SORT_KEY = 'GSI2SK';

/** DynamoDB TTL attribute (epoch seconds) on items that expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Every (index name, partition key, sort key) the store queries; the data stack defines exactly these. */
export const TABLE_INDEXES = [
  { indexName: GSI1, partitionKey: GSI1_PARTITION_KEY, sortKey: GSI1_SORT_KEY },
  { indexName: GSI2, partitionKey: GSI2_PARTITION_KEY, sortKey: GSI2_SORT_KEY },
] as const;

/**
 * The Lambda functions, by folder under `functions/` (each exports `handler` from `functions/<name>/handler.ts`).
 * dispatch: scheduled, enqueues jobs; worker: SQS jobs (checks, blocklist sweep, probes) then the alert step;
 * ingest: the site agents' signed reports behind the HTTP API.
 */
export const FUNCTIONS = ['dispatch', 'worker', 'ingest'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** What a schedule asks dispatch to enqueue (the schedule's input names one). */
export const CHECK_GROUPS = ['checks', 'blocklists', 'probes'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

/** Environment variables the handlers read (each handler parses its own with zod at cold start). */
export const ENV = {
  /** The DynamoDB table. */
  tableName: 'RELAYWATCH_TABLE',
  /** The S3 bucket and key of the validated config document (`relaywatch config push`). */
  configBucket: 'RELAYWATCH_CONFIG_BUCKET',
  configKey: 'RELAYWATCH_CONFIG_KEY',
  /** The SQS job queue dispatch writes to. */
  jobQueueUrl: 'RELAYWATCH_JOB_QUEUE_URL',
  /** The deployment stage (`prod`, `dev`, …): a metric dimension, never a tenant. */
  stage: 'RELAYWATCH_STAGE',
  /** SES configuration set for alert and digest mail. */
  sesConfigurationSet: 'RELAYWATCH_SES_CONFIGURATION_SET',
  /** Optional private resolver for DNSBL queries (`udp://10.0.0.2:53`): DNSBL operators refuse shared resolvers. */
  blocklistResolver: 'RELAYWATCH_BLOCKLIST_RESOLVER',
} as const;

/** CloudWatch metric namespace and the metric a finished cycle emits (the "no cycle finished" alarm watches it). */
export const METRIC_NAMESPACE = 'relaywatch';
export const CYCLE_COMPLETED_METRIC = 'CycleCompleted';
