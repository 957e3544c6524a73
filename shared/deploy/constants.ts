/**
 * The names the deployment and the code share: environment variables, function names, the job queue, the table's
 * keys and indexes. The CDK app (cdk/) imports only this file and config types from shared/. No imports here.
 */

/** Environment variables the Lambda functions read (parsed with zod at cold start: functions/env.ts). */
export const ENV = {
  /** The bucket and key of the configuration document (the same YAML as the CLI's). */
  configBucket: 'RELAYWATCH_CONFIG_BUCKET',
  configKey: 'RELAYWATCH_CONFIG_KEY',
  /** The DynamoDB table. */
  table: 'RELAYWATCH_TABLE',
  /** The SQS queue URL of monitoring jobs (dispatch only). */
  jobQueueUrl: 'RELAYWATCH_JOB_QUEUE_URL',
  /** The schedule's interval in minutes (dispatch). */
  scheduleMinutes: 'RELAYWATCH_SCHEDULE_MINUTES',
  /** Blocklist jobs every N slots, and how many shards of unique IPs per sweep (dispatch). */
  blocklistEverySlots: 'RELAYWATCH_BLOCKLIST_EVERY_SLOTS',
  blocklistShards: 'RELAYWATCH_BLOCKLIST_SHARDS',
  /** Endpoint overrides for local runs and tests (DynamoDB Local, an S3 or SQS stand-in); unset in AWS. */
  dynamodbEndpoint: 'RELAYWATCH_DYNAMODB_ENDPOINT',
  s3Endpoint: 'RELAYWATCH_S3_ENDPOINT',
  sqsEndpoint: 'RELAYWATCH_SQS_ENDPOINT',
  secretsManagerEndpoint: 'RELAYWATCH_SECRETS_MANAGER_ENDPOINT',
  /** Powertools: the service name in logs and the metrics namespace. */
  powertoolsService: 'POWERTOOLS_SERVICE_NAME',
  powertoolsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

export const DEFAULT_CONFIG_KEY = 'relaywatch.yaml';
export const METRICS_NAMESPACE = 'Relaywatch';

/** Function names (one folder each under functions/). */
export const FUNCTIONS = {
  dispatch: 'relaywatch-dispatch',
  worker: 'relaywatch-worker',
  ingest: 'relaywatch-ingest',
} as const;

/** The job queue and its dead-letter queue; the worker reports partial batch failures. */
export const QUEUES = {
  jobs: 'relaywatch-jobs',
  jobsDeadLetter: 'relaywatch-jobs-dlq',
  /** Deliveries before a job goes to the DLQ. */
  maxReceiveCount: 3,
} as const;

/** The single table's key schema, indexes and TTL attribute (see shared/adapters/store/dynamodb-store.ts). */
export const TABLE = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: {
    /** Sparse: open incidents of every tenant. */
    openIncidents: { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** Time order of checks and events, a tenant's runs, and a tenant's active incidents (sparse). */
    byTenant: { name: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  },
  ttlAttribute: 'expiresAt',
} as const;

/** Metric names (one per outcome status, and per job outcome); the tenant is never a dimension. */
export const METRICS = {
  checks: { pass: 'ChecksPass', warn: 'ChecksWarn', fail: 'ChecksFail', unknown: 'ChecksUnknown' },
  jobs: { ok: 'JobsSucceeded', failed: 'JobsFailed', skipped: 'JobsSkipped' },
  jobsEnqueued: 'JobsEnqueued',
  jobsNotEnqueued: 'JobsNotEnqueued',
  alertsSent: 'AlertsSent',
  alertsFailed: 'AlertsFailed',
  ingest: { accepted: 'IngestAccepted', rejected: 'IngestRejected' },
} as const;
