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

/**
 * Time-ordered events and the runs without a tenant (and, until TTL removes them, the check results and tenant runs
 * of the layout before, which were ordered here; new ones are ordered by their base key and have no entry).
 * Projection INCLUDE of {@link GSI2_PROJECTED_ATTRIBUTES} only (the old history's `check` filter): the store reads
 * the items themselves from the table (BatchGetItem).
 */
export const GSI2 = 'GSI2';
export const GSI2_PARTITION_KEY = 'GSI2PK';
export const GSI2_SORT_KEY = 'GSI2SK';
export const GSI2_PROJECTED_ATTRIBUTES = ['check'] as const;

/** Sparse index of a tenant's active incidents (open, or owing a RESOLVED), projection ALL: the alert step's one Query. */
export const GSI3 = 'GSI3';
export const GSI3_PARTITION_KEY = 'GSI3PK';
export const GSI3_SORT_KEY = 'GSI3SK';

/** DynamoDB TTL attribute (epoch seconds) on items that expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Every (index name, partition key, sort key) the store queries; the data stack defines exactly these. */
export const TABLE_INDEXES: readonly {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes projected (INCLUDE), or 'ALL'. */
  readonly projection: 'ALL' | readonly string[];
}[] = [
  { indexName: GSI1, partitionKey: GSI1_PARTITION_KEY, sortKey: GSI1_SORT_KEY, projection: 'ALL' },
  { indexName: GSI2, partitionKey: GSI2_PARTITION_KEY, sortKey: GSI2_SORT_KEY, projection: GSI2_PROJECTED_ATTRIBUTES },
  { indexName: GSI3, partitionKey: GSI3_PARTITION_KEY, sortKey: GSI3_SORT_KEY, projection: 'ALL' },
];

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
  /** The digest function: the key prefix of the weekly report pages in the config bucket, the link's lifetime (s). */
  reportPrefix: 'RELAYWATCH_REPORT_PREFIX',
  reportUrlSeconds: 'RELAYWATCH_REPORT_URL_SECONDS',
  /** The report link: the Secrets Manager name of its HMAC key (digest, report-link), the API's base URL (digest). */
  reportLinkSecret: 'RELAYWATCH_REPORT_LINK_SECRET',
  reportLinkBaseUrl: 'RELAYWATCH_REPORT_LINK_BASE_URL',
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
  digest: 'relaywatch-digest',
  /** The digest e-mail's durable report link: verifies it and redirects to a fresh pre-signed S3 GET. */
  'report-link': 'relaywatch-report-link',
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
  digest: { sent: 'DigestRecipientsSent', failed: 'DigestsFailed', alreadySent: 'DigestRecipientsAlreadySent' },
} as const;

/**
 * The weekly digest run: the report pages' key prefix in the config bucket (the only prefix the digest function may
 * write), the function's timeout (the most Lambda allows: 1,000 tenants are sent one e-mail after the other) and the
 * claim lease. A claim is held from just before one e-mail's send to just after it (the notifiers time out after
 * 10 s), so 45 s covers a live send with room, and a run that died mid-send blocks that recipient for less than the
 * minute before Lambda's first retry.
 */
export const DIGEST_RUN = {
  reportPrefix: 'reports/',
  timeoutSeconds: 900,
  leaseSeconds: 45,
  /** The e-mail link's lifetime (the report link token's): seven days. */
  reportUrlSeconds: 604_800,
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

// --- Round-trip confirmation (optional functions: deployed only when the stage enables them) --------------------

/** The optional confirmation functions (folders under functions/), apart from {@link FUNCTIONS}: off by default. */
export const CONFIRM_FUNCTIONS = {
  confirm: 'relaywatch-confirm',
  'ses-inbound': 'relaywatch-ses-inbound',
} as const;
export type ConfirmFunctionName = keyof typeof CONFIRM_FUNCTIONS;

export const CONFIRM_ENV = {
  /** The SES receiving domain: probes addressed to it are confirmed on arrival by ses-inbound, not polled. */
  sesInboundDomain: 'RELAYWATCH_SES_INBOUND_DOMAIN',
  /** Where the SES receipt rule's S3 action stores messages: the bucket and the key prefix (ses-inbound). */
  sesInboundBucket: 'RELAYWATCH_SES_INBOUND_BUCKET',
  sesInboundPrefix: 'RELAYWATCH_SES_INBOUND_PREFIX',
  /** The Entra ID login host for the mailboxes' app-only tokens (sovereign clouds, tests); default Microsoft's. */
  authorityHost: 'RELAYWATCH_ENTRA_AUTHORITY_HOST',
  /** A PEM file of an extra CA to trust for Graph, IMAP and Entra ID (a TLS-inspecting proxy, tests). */
  caFile: 'RELAYWATCH_EXTRA_CA_FILE',
} as const;

/** One metric per confirmation outcome, and per SES inbound message fate. */
export const CONFIRM_METRICS = {
  outcomes: {
    delivered: 'ConfirmDelivered',
    'delivered-late': 'ConfirmDeliveredLate',
    'delivered-junk': 'ConfirmDeliveredJunk',
    'auth-failing': 'ConfirmAuthFailing',
    'not-delivered': 'ConfirmNotDelivered',
    'confirmation-unknown': 'ConfirmUnknown',
  },
  pending: 'ConfirmPending',
  claimedElsewhere: 'ConfirmClaimedElsewhere',
  inbound: { confirmed: 'InboundConfirmed', dropped: 'InboundDropped', failed: 'InboundFailed' },
} as const;

/** The HTTP API route of the digest's report link (functions/report-link/; the token: shared/digest/report-link.ts). */
export const REPORT_LINK_ROUTE = '/v1/reports/{week}';
