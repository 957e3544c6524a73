/**
 * A fake of Entra ID's token endpoint (login.microsoftonline.com) over HTTPS on 127.0.0.1, for the token provider's
 * integration tests. It answers every request the way the script says (a token, an Entra-shaped error, any raw
 * answer, after a delay, or a dropped connection) and records every request: method, path, query, headers, body and
 * the parsed form. It answers any path (so that a request msal should not make is recorded and counted, not lost).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SelfSignedCert } from './tls-cert.ts';

export interface RecordedRequest {
  readonly method: string;
  /** The path without the query, e.g. `/contoso.onmicrosoft.com/oauth2/v2.0/token`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as application/x-www-form-urlencoded. */
  readonly form: Readonly<Record<string, string>>;
}

export type TokenReply =
  /** 200 with `{ token_type, expires_in, ext_expires_in, access_token }`. */
  | {
      readonly kind: 'token';
      readonly accessToken?: string;
      readonly expiresIn?: number;
      readonly delayMs?: number;
    }
  /** An Entra ID error as the token endpoint sends it. */
  | {
      readonly kind: 'entra-error';
      readonly status: number;
      readonly error: string;
      readonly code: number;
      /** The text after `AADSTS<code>: `; Trace ID, Correlation ID and Timestamp lines are appended. */
      readonly text: string;
      readonly headers?: Readonly<Record<string, string>>;
      readonly delayMs?: number;
    }
  /** Any status and body. */
  | {
      readonly kind: 'raw';
      readonly status: number;
      readonly body: string;
      readonly contentType?: string;
      readonly delayMs?: number;
    }
  /** Reads the request, then destroys the connection without an answer. */
  | { readonly kind: 'drop' };

export type ReplyScript = TokenReply | ((request: RecordedRequest, index: number) => TokenReply);

export interface TokenEndpoint {
  /** `https://127.0.0.1:<port>`: the authority host to configure. */
  readonly url: string;
  readonly port: number;
  /** Every request since the last `reset()`, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Requests since the last `reset()` per path. */
  countByPath(): Record<string, number>;
  /** How the next requests are answered (until the next `reply()` or `reset()`). */
  reply(script: ReplyScript): void;
  /** Forgets the requests and goes back to the default reply (a fresh token valid for 3599 s). */
  reset(): void;
  stop(): Promise<void>;
}

/** Entra ID's answers for the errors the provider maps, as the token endpoint sends them (status, error, code, text). */
export function entraError(
  name: keyof typeof ENTRA_ERRORS,
  ids: { clientId: string; tenant: string },
): Extract<TokenReply, { kind: 'entra-error' }> {
  const e = ENTRA_ERRORS[name];
  return {
    kind: 'entra-error',
    status: e.status,
    error: e.error,
    code: e.code,
    text: e.text.replaceAll('{clientId}', ids.clientId).replaceAll('{tenant}', ids.tenant),
  };
}

export const ENTRA_ERRORS = {
  invalidSecret: {
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.",
  },
  expiredSecret: {
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    text: "The provided client secret keys for app '{clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
  },
  appNotFound: {
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    text: "Application with identifier '{clientId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  tenantNotFound: {
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    text: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
  },
  tenantInvalid: {
    status: 400,
    error: 'invalid_request',
    code: 900023,
    text: "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
  },
  consentRequired: {
    status: 400,
    error: 'invalid_grant',
    code: 65001,
    text: "The user or administrator has not consented to use the application with ID '{clientId}' named 'relaywatch'. Send an interactive authorization request for this user and resource.",
  },
  resourceNotRequested: {
    status: 400,
    error: 'invalid_client',
    code: 650057,
    text: "Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration. Client app ID: {clientId}(relaywatch). Resource value from request: https://outlook.office365.com. Resource app ID: 00000002-0000-0ff1-ce00-000000000000. List of valid resources from app registration: 00000003-0000-0000-c000-000000000000.",
  },
  invalidScope: {
    status: 400,
    error: 'invalid_scope',
    code: 70011,
    text: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope https://outlook.office365.com/.default openid is not valid.",
  },
  appDisabled: {
    status: 400,
    error: 'unauthorized_client',
    code: 7000112,
    text: "Application '{clientId}'(relaywatch) is disabled.",
  },
  serverError: {
    status: 500,
    error: 'server_error',
    code: 90033,
    text: 'A transient error has occurred. Please try again.',
  },
} as const;

/** Entra ID's timestamp format: `2026-05-01 10:00:00Z`. */
function entraTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export async function startTokenEndpoint(cert: SelfSignedCert): Promise<TokenEndpoint> {
  const requests: RecordedRequest[] = [];
  let script: ReplyScript | undefined;
  let issued = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      const index = requests.push(recorded) - 1;
      const reply: TokenReply =
        script === undefined ? { kind: 'token' } : typeof script === 'function' ? script(recorded, index) : script;
      if (reply.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      let status: number;
      let payload: string;
      let headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      switch (reply.kind) {
        case 'token': {
          issued++;
          const expiresIn = reply.expiresIn ?? 3599;
          status = 200;
          payload = JSON.stringify({
            token_type: 'Bearer',
            expires_in: expiresIn,
            ext_expires_in: expiresIn,
            access_token: reply.accessToken ?? `eyJ0eXAiOiJKV1QifQ.eyJmYWtlIjp0cnVlfQ.token-${issued}`,
          });
          break;
        }
        case 'entra-error': {
          const now = new Date();
          const traceId = randomUUID();
          const correlationId = randomUUID();
          status = reply.status;
          payload = JSON.stringify({
            error: reply.error,
            error_description: `AADSTS${reply.code}: ${reply.text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${entraTimestamp(now)}`,
            error_codes: [reply.code],
            timestamp: entraTimestamp(now),
            trace_id: traceId,
            correlation_id: correlationId,
            error_uri: `https://login.microsoftonline.com/error?code=${reply.code}`,
          });
          headers = { ...headers, ...reply.headers };
          break;
        }
        case 'raw':
          status = reply.status;
          payload = reply.body;
          headers = { 'content-type': reply.contentType ?? 'text/html; charset=utf-8' };
          break;
      }
      const send = () => {
        if (res.destroyed || res.writableEnded) return;
        res.writeHead(status, { ...headers, 'cache-control': 'no-store, no-cache' });
        res.end(payload);
      };
      const delayMs = reply.delayMs ?? 0;
      if (delayMs <= 0) {
        send();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, delayMs);
      timers.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    countByPath() {
      const counts: Record<string, number> = {};
      for (const r of requests) counts[r.path] = (counts[r.path] ?? 0) + 1;
      return counts;
    },
    reply(next) {
      script = next;
    },
    reset() {
      requests.length = 0;
      script = undefined;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
