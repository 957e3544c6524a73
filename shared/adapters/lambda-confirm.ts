/**
 * The confirmation functions' adapters (confirm, ses-inbound), beside the monitoring functions' in lambda.ts: their
 * environment schemas, the alert routes' notifiers, and the S3 reader of the messages an SES receipt rule stored.
 * The confirm function's probe mailboxes are in mailbox/lambda-mailboxes.ts (the SES inbound function opens no
 * mailbox and does not import them). Handlers call these and nothing else picks adapters.
 */
import * as z from 'zod';
import type { RelaywatchConfig } from '../config/schema.ts';
import type { SecretSources } from '../config/secrets.ts';
import { CONFIRM_ENV, ENV } from '../deploy/constants.ts';
import type { Notifier } from '../notify/alert.ts';
import { routeNotifiers } from '../notify/routing.ts';
import { s3Client } from './config/s3-config-source.ts';
import { WorkerEnvSchema } from './lambda.ts';
import { S3RawMessages } from './mailbox/s3-raw-message.ts';

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

/** No mailbox settings: this function opens no mailbox, and the receipt rule chose the domain for it. */
export const SesInboundEnvSchema = WorkerEnvSchema.extend({
  [CONFIRM_ENV.sesInboundBucket]: name,
  /** The S3 action's object key prefix (`inbound/`); empty: the message id is the key. */
  [CONFIRM_ENV.sesInboundPrefix]: z.string().trim().max(1024).default(''),
});

export type ConfirmEnv = z.infer<typeof ConfirmEnvSchema>;
export type SesInboundEnv = z.infer<typeof SesInboundEnvSchema>;

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
