/**
 * The stage configuration of a deployment: what differs between one MSP's `prod` and its `dev`, validated before any
 * construct is created so a typo fails `cdk synth` with the path of the bad key instead of a CloudFormation rollback.
 *
 * Where it comes from (first found wins): `cdk synth -c stageConfig=path/to/stage.json`, else the `relaywatch` object
 * in `cdk.json`'s context, else `cdk/stages/example.json` (the example that CI synthesises).
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { GROUP_DEFAULT_MINUTES, SCHEDULE_GROUPS, type ScheduleGroup } from '../shared/deploy/constants.ts';

const minutes = (min: number, max: number, dflt: number) => z.number().int().min(min).max(max).default(dflt);

/** One check group's schedule: its interval, and whether it runs at all (a disabled schedule is kept, paused). */
const groupSchedule = (group: ScheduleGroup) =>
  z
    .object({
      minutes: minutes(5, 1440, GROUP_DEFAULT_MINUTES[group]),
      enabled: z.boolean().default(true),
    })
    .strict();

const ianaTimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not an IANA time zone (e.g. Europe/Berlin, America/New_York)' },
);

/** The functions a stage secret or SSM parameter can be granted to. */
export const SECRET_READERS = ['worker', 'ingest', 'digest'] as const;
export const stageConfigSchema = z
  .object({
    /** Lower-case stage name: part of every resource name (`relaywatch-<stage>-…`). */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'lower-case letters, digits and "-", starting with a letter, at most 20'),
    /** The address alerts and digests come from; an SES identity is created for it (or for its domain). */
    alertSender: z.email({ message: 'an e-mail address such as relaywatch@msp.example' }),
    /** Verify the sender's whole domain (DKIM records to publish) instead of the single address. */
    verifySenderDomain: z.boolean().default(false),
    /** Where alarms go (an e-mail subscription to the alarm topic; confirm the subscription mail once). */
    alarmEmail: z.email().optional(),
    schedules: z
      .object({
        /** Every tenant's SPF/MX checks. Dispatch derives the slot, and with it every job id, from the scheduled time. */
        checks: groupSchedule('checks').prefault({}),
        /** The blocklist sweep of every unique sending IP (DNSBL operators count queries per day). */
        blocklists: groupSchedule('blocklists')
          .extend({
            /** Blocklist jobs per sweep (shards of the unique IPs, each one worker). */
            shards: z.number().int().min(1).max(100).default(1),
          })
          .prefault({}),
        /** The submission probes: each sends a real message through Exchange Online, so they run less often. */
        probes: groupSchedule('probes').prefault({}),
        /**
         * Flexible window (minutes) spreading each run's start, so the MSP's load and DNSBL queries are smoothed; it
         * must be shorter than every group's interval (a window as long as the interval would merge two runs).
         */
        flexibleWindowMinutes: minutes(0, 60, 5),
        digest: z
          .object({
            enabled: z.boolean().default(true),
            /** Day of the week, in the time zone below. */
            day: z.enum(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']).default('MON'),
            hour: z.number().int().min(0).max(23).default(7),
            minute: z.number().int().min(0).max(59).default(0),
            timeZone: ianaTimeZone.default('UTC'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .superRefine((s, ctx) => {
        for (const g of SCHEDULE_GROUPS) {
          if (s[g].enabled && s.flexibleWindowMinutes >= s[g].minutes) {
            ctx.addIssue({
              code: 'custom',
              path: ['flexibleWindowMinutes'],
              message: `must be shorter than the ${g} interval (${s[g].minutes} minutes)`,
            });
          }
        }
      })
      .prefault({}),
    /** The key of the config document in the config bucket (the bucket itself is created by the data stack). */
    configKey: z.string().min(1).default('relaywatch.yaml'),
    /**
     * Secrets Manager secrets the config references (`{ secretsManager: NAME, key: K }`): a few grouped secrets, never
     * one per tenant (each secret is billed per month). `create: true` creates it empty (put the value after deploy);
     * otherwise it is imported by name.
     */
    secrets: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'a Secrets Manager secret name'),
            create: z.boolean().default(true),
            /** Which functions read it (`digest`: the password of an SMTP route the weekly digest is sent through). */
            readers: z.array(z.enum(SECRET_READERS)).min(1),
          })
          .strict(),
      )
      .default([]),
    /**
     * SSM Parameter Store SecureString parameters the config references (`{ ssm: /path }`): created outside the stack
     * (`aws ssm put-parameter --type SecureString`, docs/deploy.md), read with decryption by the listed functions only.
     * Encrypted with the account's default key `alias/aws/ssm` (its key policy already lets the account's roles
     * decrypt through SSM) unless `kmsKeyArn` names a customer managed key, which is then granted `kms:Decrypt` only
     * through SSM and only for that parameter.
     */
    parameters: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(
                /^\/[A-Za-z0-9_.\-/]{1,1010}$/,
                'an SSM parameter name with its leading slash, such as /relaywatch/prod/dqs-key',
              ),
            readers: z.array(z.enum(SECRET_READERS)).min(1),
            kmsKeyArn: z
              .string()
              .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:…:key/…)')
              .optional(),
          })
          .strict(),
      )
      .default([])
      .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, 'each parameter is listed once'),
    worker: z
      .object({
        /** Concurrent worker invocations at most: bounds DNS and DNSBL query rates (SQS maximum concurrency, 2–1000). */
        maxConcurrency: z.number().int().min(2).max(1000).default(10),
        /** Jobs per invocation. */
        batchSize: z.number().int().min(1).max(10).default(5),
        timeoutSeconds: z.number().int().min(30).max(900).default(300),
        memoryMb: z.number().int().min(256).max(10240).default(1024),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        /** Steady requests per second across all agents, and the burst above it. */
        rateLimit: z.number().int().min(1).max(10000).default(20),
        burstLimit: z.number().int().min(1).max(5000).default(40),
      })
      .strict()
      .prefault({}),
    /**
     * Run the worker in a VPC with a NAT gateway: a fixed egress IP (to register with Spamhaus DQS or Barracuda, or to
     * reach a private resolver named in the config document's `blocklists.resolvers`). Off by default: it costs a NAT gateway (about $32/month plus data) and changes nothing
     * for port 25, which AWS blocks from Lambda regardless (relay probes run on site agents).
     */
    vpc: z
      .object({
        enabled: z.boolean().default(false),
        natGateways: z.number().int().min(1).max(3).default(1),
        maxAzs: z.number().int().min(1).max(3).default(2),
      })
      .strict()
      .prefault({}),
    /**
     * Stack traces of the functions mapped to the TypeScript sources at run time (NODE_OPTIONS=--enable-source-maps),
     * off by default: Node then reads and parses the source maps of the files it loads at every cold start (about
     * 80–100 ms of CPU for the worker, docs/dependencies.md "The Lambda bundles"). The maps are beside every bundle
     * either way: `node cdk/symbolicate.ts` maps a stack trace from the logs afterwards (docs/deploy.md).
     */
    sourceMapsAtRuntime: z.boolean().default(false),
    /** Log retention in days for every function and the API access log. */
    logRetentionDays: z
      .union([z.literal(7), z.literal(14), z.literal(30), z.literal(60), z.literal(90), z.literal(180), z.literal(365)])
      .default(30),
    /**
     * Round-trip confirmation (issue 13), off by default: the scheduled poller of the tenants' probe mailboxes, and
     * optionally SES receiving for probes addressed to a domain of the MSP (cdk/constructs/confirmation.ts).
     */
    confirm: z
      .object({
        enabled: z.boolean().default(false),
        /** How often outstanding probes are looked for (each look is one Graph request per probe). */
        pollMinutes: minutes(1, 60, 5),
        /** Names from `secrets` or `parameters` the confirmation functions read (the Graph reader's, the routes'). */
        secrets: z.array(z.string().min(1)).default([]),
        /** SES receiving: a receipt rule set (activate it once, docs/deploy.md) storing probe mail in the data bucket. */
        sesInbound: z
          .object({
            /** The receiving domain (its MX points to inbound-smtp.<region>.amazonaws.com). */
            domain: z
              .string()
              .toLowerCase()
              .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a domain name'),
            /** Key prefix of the stored messages in the data (config) bucket. */
            bucketPrefix: z
              .string()
              .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/, 'a key prefix ending in "/", e.g. inbound/')
              .default('inbound/'),
            /**
             * Days the stored messages are kept before S3 expires them (a lifecycle rule on the prefix; their older
             * versions go a day later). ses-inbound reads each one as it arrives: what stays is for looking into a probe.
             */
            retainDays: z.number().int().min(1).max(3650).default(14),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type StageConfig = z.output<typeof stageConfigSchema>;

export class StageConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StageConfigError';
  }
}

/** The keys of the former single cycle schedule, and what replaced each (docs/deploy.md, "Upgrading"). */
const RETIRED_SCHEDULE_KEYS: Readonly<Record<string, string>> = {
  cycleMinutes: 'replaced by schedules.checks.minutes and schedules.probes.minutes (one schedule per check group)',
  blocklistEveryCycles: 'replaced by schedules.blocklists.minutes (the sweep has its own schedule)',
  blocklistShards: 'moved to schedules.blocklists.shards',
};

function retiredKeyProblems(input: unknown): string[] {
  const schedules = typeof input === 'object' && input !== null ? (input as { schedules?: unknown }).schedules : null;
  if (typeof schedules !== 'object' || schedules === null) return [];
  return Object.keys(schedules)
    .filter((k) => Object.hasOwn(RETIRED_SCHEDULE_KEYS, k))
    .map((k) => `  schedules.${k}: ${RETIRED_SCHEDULE_KEYS[k]}`);
}

/** Validate a stage config; every problem is listed with its path. */
export function parseStageConfig(input: unknown, source: string): StageConfig {
  const parsed = stageConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = [
    ...retiredKeyProblems(input),
    ...parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`),
  ];
  throw new StageConfigError(`invalid stage config in ${source}:\n${problems.join('\n')}`);
}

/** Read a stage config file (JSON). */
export function loadStageConfigFile(path: string): StageConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StageConfigError(`cannot read the stage config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StageConfigError(`the stage config ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseStageConfig(json, path);
}
