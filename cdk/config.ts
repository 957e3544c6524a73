/**
 * The stage configuration of a deployment: what differs between one MSP's `prod` and its `dev`, validated before any
 * construct is created so a typo fails `cdk synth` with the path of the bad key instead of a CloudFormation rollback.
 *
 * Where it comes from (first found wins): `cdk synth -c stageConfig=path/to/stage.json`, else the `relaywatch` object
 * in `cdk.json`'s context, else `cdk/stages/example.json` (the example that CI synthesises).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const minutes = (min: number, max: number, dflt: number) => z.number().int().min(min).max(max).default(dflt);

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
        /**
         * One monitoring cycle: every tenant's SPF/MX checks and submission probe (each probe sends a real message).
         * Dispatch derives the slot, and with it every job id, from the schedule's scheduled time.
         */
        cycleMinutes: minutes(5, 1440, 60),
        /** The blocklist sweep of every unique sending IP, every this many cycles (DNSBL operators count per day). */
        blocklistEveryCycles: z.number().int().min(1).max(288).default(1),
        /** Blocklist jobs per sweep (shards of the unique IPs, each one worker). */
        blocklistShards: z.number().int().min(1).max(100).default(1),
        /** Flexible window (minutes) spreading each run's start, so the MSP's load and DNSBL queries are smoothed. */
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
            /** Which functions read it. */
            readers: z.array(z.enum(['worker', 'ingest'])).min(1),
          })
          .strict(),
      )
      .default([]),
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
        /** Names from `secrets` the confirmation functions read (the Graph reader's client secret, the alert routes'). */
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

/** Validate a stage config; every problem is listed with its path. */
export function parseStageConfig(input: unknown, source: string): StageConfig {
  const parsed = stageConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
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
