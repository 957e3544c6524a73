/**
 * The confirmation functions' adapters (confirm, ses-inbound), beside the monitoring functions' in lambda.ts: their
 * environment schemas, the probe mailboxes of a config (Graph or IMAP, app-only tokens through one msal provider per
 * container), the alert routes' notifiers, and the S3 reader of the messages an SES receipt rule stored. Handlers
 * call these and nothing else picks adapters.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { ProbeMailboxConfig, RelaywatchConfig } from '../config/schema.ts';
import type { SecretSources } from '../config/secrets.ts';
import { CONFIRM_ENV, ENV } from '../deploy/constants.ts';
import type { Notifier } from '../notify/alert.ts';
import { routeNotifiers } from '../notify/routing.ts';
import type { ProbeMailbox } from '../ports/probe-mailbox.ts';
import { s3Client } from './config/s3-config-source.ts';
import { EnvironmentError, WorkerEnvSchema } from './lambda.ts';
import { mailboxFor } from './mailbox/open-mailbox.ts';
import { S3RawMessages } from './mailbox/s3-raw-message.ts';
import { lazyTokenProvider } from './oauth/lazy-token-provider.ts';

const name = z.string().trim().min(1);
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name');
const mailboxSettings = {
  [CONFIRM_ENV.sesInboundDomain]: domain.optional(),
  [CONFIRM_ENV.authorityHost]: z.url({ protocol: /^https$/ }).optional(),
  [CONFIRM_ENV.caFile]: name.optional(),
};

export const ConfirmEnvSchema = WorkerEnvSchema.extend(mailboxSettings);

export const SesInboundEnvSchema = WorkerEnvSchema.extend({
  ...mailboxSettings,
  [CONFIRM_ENV.sesInboundBucket]: name,
  /** The S3 action's object key prefix (`inbound/`); empty: the message id is the key. */
  [CONFIRM_ENV.sesInboundPrefix]: z.string().trim().max(1024).default(''),
});

export type ConfirmEnv = z.infer<typeof ConfirmEnvSchema>;
export type SesInboundEnv = z.infer<typeof SesInboundEnvSchema>;

/** The extra CA of the environment (read once at cold start); a file that cannot be read fails the init. */
function extraCa(env: z.infer<typeof WorkerEnvSchema> & { [CONFIRM_ENV.caFile]?: string | undefined }) {
  const file = env[CONFIRM_ENV.caFile];
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvironmentError(
      `invalid environment: ${CONFIRM_ENV.caFile}: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

export type MailboxFactory = (
  config: RelaywatchConfig,
  secrets: SecretSources,
) => (cfg: ProbeMailboxConfig) => Promise<ProbeMailbox | { readonly error: string }>;

/** The tenants' probe mailboxes: one token provider per container (msal caches the app-only tokens). */
export function lambdaMailboxes(env: ConfirmEnv | SesInboundEnv): MailboxFactory {
  const ca = extraCa(env);
  const tokens = lazyTokenProvider({ authorityHost: env[CONFIRM_ENV.authorityHost], ca });
  return (_config, secrets) => (cfg) => mailboxFor(cfg, secrets, tokens, ca)();
}

/** The alert routes' notifiers of a config, their secrets resolved. */
export async function lambdaNotifiers(
  config: RelaywatchConfig,
  secrets: SecretSources,
): Promise<(routeId: string) => Notifier | { readonly error: string }> {
  const n = routeNotifiers(config, secrets);
  return (id) => n.notifierFor(id);
}

/** The SES receipt rule's stored messages (bucket and prefix from the environment). */
export function sesInboundMessages(
  env: SesInboundEnv,
  raw: Readonly<Record<string, string | undefined>> = process.env,
): S3RawMessages {
  const endpoint = env[ENV.s3Endpoint];
  return new S3RawMessages(
    s3Client({
      endpoint,
      region: env.AWS_REGION ?? 'us-east-1',
      credentials: endpoint && !raw.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
    }),
    { bucket: env[CONFIRM_ENV.sesInboundBucket], prefix: env[CONFIRM_ENV.sesInboundPrefix] },
  );
}
