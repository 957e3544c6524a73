/**
 * The probe mailboxes of the confirm function (Graph or IMAP, app-only tokens through one msal provider per
 * container), apart from the rest of the confirmation adapters (lambda-confirm.ts) so that only the confirm function
 * imports them: the SES inbound function reads the messages SES stored in S3 and never opens a mailbox, and its
 * bundle has no imapflow, msal or Graph adapter at all (test/infra/bundle-contents.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { ProbeMailboxConfig, RelaywatchConfig } from '../../config/schema.ts';
import type { SecretSources } from '../../config/secrets.ts';
import { CONFIRM_ENV } from '../../deploy/constants.ts';
import type { ProbeMailbox } from '../../ports/probe-mailbox.ts';
import { EnvironmentError } from '../lambda.ts';
import type { ConfirmEnv } from '../lambda-confirm.ts';
import { lazyTokenProvider } from '../oauth/lazy-token-provider.ts';
import { mailboxFor } from './open-mailbox.ts';

export type MailboxFactory = (
  config: RelaywatchConfig,
  secrets: SecretSources,
) => (cfg: ProbeMailboxConfig) => Promise<ProbeMailbox | { readonly error: string }>;

/** The extra CA of the environment (read once at cold start); a file that cannot be read fails the init. */
function extraCa(env: ConfirmEnv) {
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

/** The tenants' probe mailboxes: one token provider per container (msal caches the app-only tokens). */
export function lambdaMailboxes(env: ConfirmEnv): MailboxFactory {
  const ca = extraCa(env);
  const tokens = lazyTokenProvider({ authorityHost: env[CONFIRM_ENV.authorityHost], ca });
  return (_config, secrets) => (cfg) => mailboxFor(cfg, secrets, tokens, ca)();
}
