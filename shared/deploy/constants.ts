/**
 * Names that the code and the infrastructure must agree on: the DynamoDB table's key and index attributes, the
 * environment variables the Lambda handlers read, the functions, queue and metric names the CDK app deploys and alarms on. The CDK app (`cdk/`) may import
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

/** Time-ordered history of checks, events and a tenant's runs, and a tenant's active incidents (sparse), projection ALL. */
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

/** Environment variables the Lambda functions read (parsed with zod at cold start: functions/env.ts). */
export const ENV = {
  /** The bucket and key of the configuration document (the same YAML as the CLI's). */
  configBucket: 'RELAYWATCH_CONFIG_BUCKET',
  configKey: 'RELAYWATCH_CONFIG_KEY',
  /** The DynamoDB table. */
  table: 'RELAYWATCH_TABLE',
  /** The SQS queue URL of monitoring jobs (dispatch only). */
  jobQueueUrl: 'RELAYWATCH_JOB_QUEUE_URL',
  /** How many shards of unique IPs per blocklist sweep (dispatch). */
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

/** A function's folder under `functions/` (the keys of {@link FUNCTIONS}). */
export type FunctionName = keyof typeof FUNCTIONS;

// --- Schedules per check group (h-cdk) --------------------------------------------------------------------------

/**
 * The check groups, each on its own EventBridge Scheduler schedule with its own interval: `checks` (every tenant's
 * SPF/MX), `blocklists` (the sweep of the unique sending IPs), `probes` (the submission probes: each sends a real
 * message). The schedule's input names the group; dispatch enqueues only that group's jobs.
 */
export const SCHEDULE_GROUPS = ['checks', 'blocklists', 'probes'] as const;
export type ScheduleGroup = (typeof SCHEDULE_GROUPS)[number];

/** Each group's interval in minutes (dispatch floors the scheduled time to it: the slot, and with it the run ids). */
export const GROUP_INTERVAL_ENV = {
  checks: 'RELAYWATCH_CHECKS_MINUTES',
  blocklists: 'RELAYWATCH_BLOCKLIST_MINUTES',
  probes: 'RELAYWATCH_PROBE_MINUTES',
} as const satisfies Readonly<Record<ScheduleGroup, string>>;

/** The default interval of each group (the stage config and dispatch's environment agree on these). */
export const GROUP_DEFAULT_MINUTES: Readonly<Record<ScheduleGroup, number>> = {
  checks: 60,
  blocklists: 60,
  probes: 240,
};

/**
 * The variables of the single cycle schedule these replace: dispatch refuses to start when one is set, naming its
 * replacement, so a deployment that still sets them does not silently run on defaults.
 */
export const RETIRED_ENV: Readonly<Record<string, string>> = {
  RELAYWATCH_SCHEDULE_MINUTES: `${GROUP_INTERVAL_ENV.checks} and ${GROUP_INTERVAL_ENV.probes}`,
  RELAYWATCH_BLOCKLIST_EVERY_SLOTS: GROUP_INTERVAL_ENV.blocklists,
};

/** The only dimension besides `service` on the per-group job metric (never the tenant: series are billed). */
export const GROUP_DIMENSION = 'group';

/** Endpoint override for SSM Parameter Store (`{ ssm: /path }` secret references) in local runs and tests. */
export const SSM_ENDPOINT_ENV = 'RELAYWATCH_SSM_ENDPOINT';
