/**
 * `@aws-sdk/credential-provider-node` in every Lambda bundle (see STAND_INS in cdk/constructs/monitor-function.ts).
 * The SDK clients import only `defaultProvider` from it (their runtimeConfig.js: the credentials of a client built
 * without `credentials`). In Lambda the credentials of the function's role are always in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which is the first link of the SDK's default chain;
 * the other links (SSO, ini profiles, credential processes, web identity, container and instance metadata) and what
 * they load (@aws-sdk/nested-clients' STS, SSO, OIDC and sign-in clients, @smithy/credential-provider-imds) are left
 * out. This provider is the SDK's own `fromEnv` of @aws-sdk/credential-provider-env, with an error that names the
 * missing variables; a profile (AWS_PROFILE or a client's `profile`), which the real chain would read from files,
 * is refused instead of being ignored.
 */
import { ENV_KEY, ENV_SECRET, fromEnv } from '@aws-sdk/credential-provider-env';
import { CredentialsProviderError } from '@smithy/core/config';

const OTHER_SOURCES =
  "this function bundle takes AWS credentials from the environment only (Lambda sets them from the function's role); the SDK's other credential sources are not in it";

export const defaultProvider = (init = {}) => {
  const provider = fromEnv(init);
  return async () => {
    const profile = init.profile ?? process.env.AWS_PROFILE;
    if (profile) {
      throw new CredentialsProviderError(`AWS profile ${JSON.stringify(profile)} asked for, but ${OTHER_SOURCES}`, {
        tryNextLink: false,
        logger: init.logger,
      });
    }
    const missing = [ENV_KEY, ENV_SECRET].filter((name) => !process.env[name]);
    if (missing.length > 0) {
      throw new CredentialsProviderError(`No AWS credentials: ${missing.join(' and ')} not set; ${OTHER_SOURCES}`, {
        tryNextLink: false,
        logger: init.logger,
      });
    }
    return provider();
  };
};

// The two other exports of the package (@aws-sdk/credential-provider-node 3.972, dist-es/defaultProvider.js,
// Apache-2.0, Copyright Amazon.com, Inc. or its affiliates): no client imports them, kept so the module's shape is whole.
export const credentialsWillNeedRefresh = (credentials) => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300000;
