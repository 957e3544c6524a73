/**
 * The OAuth 2.0 token port: an app-only access token (client credentials grant) from Microsoft Entra ID, for SMTP AUTH
 * XOAUTH2 against Exchange Online.
 *
 * Error contract: `getToken()` never rejects. Every failure, whether Entra ID's answer (a wrong or expired client
 * secret, an app or tenant that does not exist, missing consent, a bad scope), the network's (refused, reset, DNS,
 * TLS), a timeout, an HTTP 5xx or throttling, a response that is not a token response, or an invalid request, is a
 * `TokenResult` with `ok: false`: a stable `reason`, the Entra ID error code when there was one (`AADSTS7000215`), a
 * one-line `message` for a human, and whether trying again later may help without changing the configuration
 * (`retryable`).
 *
 * Secrets: `message` (and everything else in a failure) never contains the client secret or an access token, even when
 * the server echoes them: text from the network is untrusted, so it is sanitised (control characters removed, capped)
 * and scrubbed before it is used.
 *
 * Caching: an implementation may serve a token from its cache until shortly before it expires (`fromCache`), and
 * concurrent requests for the same credentials may share one request to the token endpoint.
 */

/** The scope for SMTP AUTH (and POP/IMAP) with an app-only token: Exchange Online's resource with `/.default`. */
export const OUTLOOK_SMTP_SCOPE = 'https://outlook.office365.com/.default';

export interface TokenRequest {
  /** The customer's Entra tenant: its GUID or a verified domain such as `contoso.onmicrosoft.com`. */
  readonly entraTenantId: string;
  /** The app registration's application (client) ID. */
  readonly clientId: string;
  /** The client secret's value (not its ID). */
  readonly clientSecret: string;
  /** Default `OUTLOOK_SMTP_SCOPE`. */
  readonly scope?: string;
}

export type TokenFailureReason =
  /** AADSTS7000215: the secret is wrong (often the secret's ID was configured instead of its value). */
  | 'invalid-client-secret'
  /** AADSTS7000222: the secret has expired. */
  | 'expired-client-secret'
  /** AADSTS700016: no such app in the tenant (wrong client ID or tenant, or a multi-tenant app never consented). */
  | 'app-not-found'
  /** AADSTS90002 / AADSTS900023: no such tenant. */
  | 'tenant-not-found'
  /** AADSTS65001 / AADSTS650057 / AADSTS7000229: admin consent or the resource permission is missing. */
  | 'consent-required'
  /** `unauthorized_client` and kin: the app may not use this grant (disabled app, public client, policy). */
  | 'unauthorized-client'
  /** AADSTS70011 / AADSTS1002012 / `invalid_scope`. */
  | 'invalid-scope'
  /** Connection refused or reset, DNS failure, TLS failure. */
  | 'network'
  /** No complete answer within the time limit. */
  | 'timeout'
  /** An answer that is not a token response or an Entra ID error (not JSON, no token). */
  | 'bad-response'
  /** Anything else: HTTP 5xx and throttling (retryable), unknown Entra ID errors, invalid requests. */
  | 'other';

export type TokenResult =
  | {
      readonly ok: true;
      readonly token: string;
      readonly expiresAt: Date;
      /** True when no request was made for this call. */
      readonly fromCache: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: TokenFailureReason;
      /** The Entra ID error code, e.g. `AADSTS7000215`; null when the failure was not Entra ID's answer. */
      readonly aadsts: string | null;
      /** One line for a human, sanitised; never contains the client secret or a token. */
      readonly message: string;
      /** Whether the same request may succeed later without a configuration change. */
      readonly retryable: boolean;
    };

export interface TokenProvider {
  /** An access token for the request's app and tenant. Never rejects: see the module comment. */
  getToken(request: TokenRequest): Promise<TokenResult>;
}
