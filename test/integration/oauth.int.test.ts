import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MsalTokenProvider, type MsalTokenProviderOptions } from '../../shared/adapters/oauth/msal-token-provider.ts';
import { xoauth2String } from '../../shared/adapters/smtp/nodemailer-prober.ts';
import {
  OUTLOOK_SMTP_SCOPE,
  type TokenFailureReason,
  type TokenRequest,
  type TokenResult,
} from '../../shared/ports/token-provider.ts';
import { freePort } from '../support/ports.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { type ENTRA_ERRORS, entraError, startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';

const TENANT = 'contoso.onmicrosoft.com';
const CLIENT_ID = '3f0c7a52-9d1e-4b8a-a6f1-0c2d9e8b7a61';
const SECRET = 'CANARY-SECRET-7f3a9c';
const CANARY_TOKEN = 'eyJCANARYTOKEN.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.c2lnbmF0dXJl';
const TOKEN_PATH = `/${TENANT}/oauth2/v2.0/token`;

let certDir: string;
let cert: SelfSignedCert;
let endpoint: TokenEndpoint;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'relaywatch-oauth-'));
  cert = await makeSelfSignedCert(certDir);
  endpoint = await startTokenEndpoint(cert);
});
afterAll(async () => {
  await endpoint?.stop();
  await rm(certDir, { recursive: true, force: true });
});

const providers: MsalTokenProvider[] = [];
beforeEach(() => endpoint.reset());
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

/** A provider of its own per test: msal's token cache and its throttling state live in the provider's applications. */
function provider(options: MsalTokenProviderOptions = {}): MsalTokenProvider {
  const p = new MsalTokenProvider({ authorityHost: endpoint.url, ca: cert.cert, ...options });
  providers.push(p);
  return p;
}

function request(extra: Partial<TokenRequest> = {}): TokenRequest {
  return { entraTenantId: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, ...extra };
}

function expectOk(r: TokenResult): Extract<TokenResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected a token, got ${JSON.stringify(r)}`);
  return r;
}

function expectFailure(r: TokenResult): Extract<TokenResult, { ok: false }> {
  if (r.ok) throw new Error('expected a failure, got a token');
  return r;
}

/** Nothing secret anywhere in a failure, and the message is one clean, capped line. */
function expectClean(r: TokenResult, secret = SECRET): void {
  const f = expectFailure(r);
  const all = JSON.stringify(r);
  for (const s of [secret, encodeURIComponent(secret), CANARY_TOKEN, 'eyJCANARY', 'CANARYTOKEN']) {
    expect(all).not.toContain(s);
  }
  expect(all).not.toContain('CANARY-SECRET');
  expect(f.message.length).toBeGreaterThan(0);
  expect(f.message.length).toBeLessThanOrEqual(300);
  expect([...f.message].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f')).toBe(false);
}

describe('request shape', () => {
  it('POSTs the client credentials form to /<tenant>/oauth2/v2.0/token and makes no other request', async () => {
    const before = Date.now();
    const r = expectOk(await provider().getToken(request()));
    expect(r.fromCache).toBe(false);
    expect(r.token).toMatch(/^eyJ/);
    // expires_in 3599 from the request time (msal counts from just before it sends).
    expect(r.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 3_599_000 - 2_000);
    expect(r.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3_599_000 + 2_000);

    expect(endpoint.countByPath()).toEqual({ [TOKEN_PATH]: 1 });
    const [sent] = endpoint.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe(TOKEN_PATH);
    expect(sent?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded(;|$)/);
    expect(sent?.form.grant_type).toBe('client_credentials');
    expect(sent?.form.client_id).toBe(CLIENT_ID);
    expect(sent?.form.client_secret).toBe(SECRET);
    expect(sent?.form.scope).toBe('https://outlook.office365.com/.default');
    expect(OUTLOOK_SMTP_SCOPE).toBe('https://outlook.office365.com/.default');
    // No user-flow parameters.
    expect(sent?.form).not.toHaveProperty('username');
    expect(sent?.form).not.toHaveProperty('refresh_token');
  });

  it('sends a tenant GUID as the path and an explicit scope as given', async () => {
    const tenant = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const r = await provider().getToken(request({ entraTenantId: tenant, scope: 'https://example.test/.default' }));
    expectOk(r);
    expect(endpoint.countByPath()).toEqual({ [`/${tenant}/oauth2/v2.0/token`]: 1 });
    expect(endpoint.requests[0]?.form.scope).toBe('https://example.test/.default');
  });
});

describe('caching', () => {
  it('serves the second call from msal’s cache without a request', async () => {
    const p = provider();
    const first = expectOk(await p.getToken(request()));
    const second = expectOk(await p.getToken(request()));
    expect(first.fromCache).toBe(false);
    expect(second.fromCache).toBe(true);
    expect(second.token).toBe(first.token);
    expect(second.expiresAt.getTime()).toBe(first.expiresAt.getTime());
    expect(endpoint.requests).toHaveLength(1);
  });

  it('fetches again a token within 5 minutes of its expiry', async () => {
    endpoint.reply({ kind: 'token', expiresIn: 60 });
    const p = provider();
    const first = expectOk(await p.getToken(request()));
    const second = expectOk(await p.getToken(request()));
    expect(endpoint.requests).toHaveLength(2);
    expect(second.fromCache).toBe(false);
    expect(second.token).not.toBe(first.token);
  });

  it('keeps a token that has more than 5 minutes left', async () => {
    endpoint.reply({ kind: 'token', expiresIn: 600 });
    const p = provider();
    expectOk(await p.getToken(request()));
    expect(expectOk(await p.getToken(request())).fromCache).toBe(true);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('shares one request among concurrent calls for the same app', async () => {
    endpoint.reply({ kind: 'token', delayMs: 300 });
    const p = provider();
    const results = await Promise.all(Array.from({ length: 6 }, () => p.getToken(request())));
    expect(endpoint.requests).toHaveLength(1);
    const tokens = new Set(results.map((r) => expectOk(r).token));
    expect(tokens.size).toBe(1);
    // Once settled, the next call is a cache hit, not a join.
    expect(expectOk(await p.getToken(request())).fromCache).toBe(true);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('gives a different client ID, tenant, secret or scope a request of its own', async () => {
    const p = provider();
    const variants: TokenRequest[] = [
      request(),
      request({ clientId: 'aaaaaaaa-1111-4222-8333-444444444444' }),
      request({ entraTenantId: 'fabrikam.onmicrosoft.com' }),
      request({ clientSecret: 'another-secret-value' }),
      request({ scope: 'https://graph.microsoft.com/.default' }),
    ];
    for (const v of variants) expect(expectOk(await p.getToken(v)).fromCache).toBe(false);
    expect(endpoint.requests).toHaveLength(5);
    expect(endpoint.countByPath()).toEqual({ [TOKEN_PATH]: 4, '/fabrikam.onmicrosoft.com/oauth2/v2.0/token': 1 });
    expect(endpoint.requests.map((r) => r.form.client_id)).toEqual([
      CLIENT_ID,
      'aaaaaaaa-1111-4222-8333-444444444444',
      CLIENT_ID,
      CLIENT_ID,
      CLIENT_ID,
    ]);
    // Each is cached on its own, and concurrent calls for different apps do not share.
    for (const v of variants) expect(expectOk(await p.getToken(v)).fromCache).toBe(true);
    expect(endpoint.requests).toHaveLength(5);
  });

  it('treats the tenant case-insensitively', async () => {
    const p = provider();
    expectOk(await p.getToken(request({ entraTenantId: 'Contoso.OnMicrosoft.com' })));
    expect(expectOk(await p.getToken(request())).fromCache).toBe(true);
    expect(endpoint.countByPath()).toEqual({ [TOKEN_PATH]: 1 });
  });

  it('does not cache a failure: the next call asks again', async () => {
    endpoint.reply((_req, index) =>
      index === 0 ? entraError('invalidSecret', { clientId: CLIENT_ID, tenant: TENANT }) : { kind: 'token' },
    );
    const p = provider();
    expect(expectFailure(await p.getToken(request())).reason).toBe('invalid-client-secret');
    expect(expectOk(await p.getToken(request())).fromCache).toBe(false);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('drops an application idle for more than two hours (its cache with it)', async () => {
    let now = 1_000_000;
    const p = provider({ now: () => now });
    expectOk(await p.getToken(request()));
    now += 60 * 60 * 1000;
    expect(expectOk(await p.getToken(request())).fromCache).toBe(true);
    now += 2 * 60 * 60 * 1000 + 1;
    expect(expectOk(await p.getToken(request())).fromCache).toBe(false);
    expect(endpoint.requests).toHaveLength(2);
  });
});

describe('failures', () => {
  const ids = { clientId: CLIENT_ID, tenant: TENANT };
  const cases: [keyof typeof ENTRA_ERRORS, TokenFailureReason, string, boolean][] = [
    ['invalidSecret', 'invalid-client-secret', 'AADSTS7000215', false],
    ['expiredSecret', 'expired-client-secret', 'AADSTS7000222', false],
    ['appNotFound', 'app-not-found', 'AADSTS700016', false],
    ['tenantNotFound', 'tenant-not-found', 'AADSTS90002', false],
    ['tenantInvalid', 'tenant-not-found', 'AADSTS900023', false],
    ['consentRequired', 'consent-required', 'AADSTS65001', false],
    ['resourceNotRequested', 'consent-required', 'AADSTS650057', false],
    ['invalidScope', 'invalid-scope', 'AADSTS70011', false],
    ['appDisabled', 'unauthorized-client', 'AADSTS7000112', false],
    ['serverError', 'other', 'AADSTS90033', true],
  ];

  it.each(cases)('maps Entra ID’s %s answer to %s (%s)', async (name, reason, aadsts, retryable) => {
    endpoint.reply(entraError(name, ids));
    const r = await provider().getToken(request());
    const f = expectFailure(r);
    expect(f).toMatchObject({ reason, aadsts, retryable });
    expect(f.message).toContain(aadsts);
    expectClean(r);
    expect(endpoint.countByPath()).toEqual({ [TOKEN_PATH]: 1 });
  });

  it('says what to do about a wrong secret', async () => {
    endpoint.reply(entraError('invalidSecret', ids));
    const f = expectFailure(await provider().getToken(request()));
    expect(f.message).toMatch(
      /^Entra ID rejected the client secret \(AADSTS7000215, invalid_client\): create a new secret/,
    );
  });

  it('quotes the sanitised description of an unknown Entra ID error', async () => {
    endpoint.reply({
      kind: 'entra-error',
      status: 400,
      error: 'invalid_request',
      code: 9002313,
      text: 'Invalid request.',
    });
    const f = expectFailure(await provider().getToken(request()));
    expect(f).toMatchObject({ reason: 'other', aadsts: 'AADSTS9002313', retryable: false });
    expect(f.message).toBe(
      'Entra ID refused the token request (AADSTS9002313, invalid_request, HTTP 400): Invalid request.',
    );
  });

  it('maps an unavailable endpoint (5xx with an HTML page) to a retryable failure', async () => {
    endpoint.reply({ kind: 'raw', status: 502, body: '<html><body>Bad Gateway</body></html>' });
    const f = expectFailure(await provider().getToken(request()));
    expect(f).toMatchObject({ reason: 'other', aadsts: null, retryable: true });
    expect(f.message).toContain('HTTP 502');
  });

  it('holds back a request after a 5xx (msal’s throttling) and reports it as retryable', async () => {
    endpoint.reply(entraError('serverError', ids));
    const p = provider();
    expect(expectFailure(await p.getToken(request()))).toMatchObject({ reason: 'other', retryable: true });
    endpoint.reply({ kind: 'token' });
    const again = expectFailure(await p.getToken(request()));
    expect(again).toMatchObject({ reason: 'other', retryable: true, aadsts: 'AADSTS90033' });
    expect(again.message).toContain('msal holds this request back');
    expect(endpoint.requests).toHaveLength(1);
  });

  it('maps a body that is not JSON to bad-response', async () => {
    endpoint.reply({ kind: 'raw', status: 200, body: '\u0000\u0001garbage{{{', contentType: 'text/plain' });
    const f = expectFailure(await provider().getToken(request()));
    expect(f).toMatchObject({ reason: 'bad-response', aadsts: null, retryable: false });
    expect(f.message).toContain('not JSON (text/plain)');
  });

  it('maps JSON without an access token to bad-response', async () => {
    endpoint.reply({ kind: 'raw', status: 200, body: '{"token_type":"Bearer"}', contentType: 'application/json' });
    expect(expectFailure(await provider().getToken(request()))).toMatchObject({ reason: 'bad-response' });
  });

  it('maps an HTTP error without an OAuth error body to bad-response', async () => {
    endpoint.reply({ kind: 'raw', status: 404, body: '{}', contentType: 'application/json' });
    const f = expectFailure(await provider().getToken(request()));
    expect(f).toMatchObject({ reason: 'bad-response', retryable: false });
    expect(f.message).toContain('HTTP 404');
  });

  it('maps a refused connection to network, retryable', async () => {
    const port = await freePort();
    const p = provider({ authorityHost: `https://127.0.0.1:${port}` });
    const f = expectFailure(await p.getToken(request()));
    expect(f).toMatchObject({ reason: 'network', aadsts: null, retryable: true });
    expect(f.message).toContain('connection refused (ECONNREFUSED)');
  });

  it('maps a connection dropped without an answer to network, retryable', async () => {
    endpoint.reply({ kind: 'drop' });
    const f = expectFailure(await provider().getToken(request()));
    expect(f).toMatchObject({ reason: 'network', retryable: true });
  });

  it('maps an endpoint slower than timeoutMs to timeout, retryable', async () => {
    endpoint.reply({ kind: 'token', delayMs: 5_000 });
    const started = Date.now();
    const f = expectFailure(await provider({ timeoutMs: 300 }).getToken(request()));
    expect(f).toMatchObject({ reason: 'timeout', aadsts: null, retryable: true });
    expect(f.message).toContain('within 300 ms');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('does not trust the endpoint’s certificate without the extra CA (network, not retryable)', async () => {
    const p = new MsalTokenProvider({ authorityHost: endpoint.url });
    providers.push(p);
    const f = expectFailure(await p.getToken(request()));
    expect(f).toMatchObject({ reason: 'network', retryable: false });
    expect(f.message).toContain('TLS certificate not trusted');
    expect(endpoint.requests).toHaveLength(0);
  });

  it.each([
    ['the common tenant', { entraTenantId: 'common' }],
    ['a tenant with a path', { entraTenantId: 'contoso.onmicrosoft.com/evil' }],
    ['an empty tenant', { entraTenantId: '' }],
    ['an empty secret', { clientSecret: '' }],
    ['a client ID with spaces', { clientId: 'not a client id' }],
    ['a scope with spaces', { scope: 'a b' }],
  ])('rejects %s as a value without a request', async (_label, extra) => {
    const f = expectFailure(await provider().getToken(request(extra)));
    expect(f).toMatchObject({ reason: 'other', aadsts: null, retryable: false });
    expect(f.message).toMatch(/^Invalid token request: /);
    expect(endpoint.requests).toHaveLength(0);
  });

  it('never rejects, even for a request that is not one', async () => {
    const bogus = null as unknown as TokenRequest;
    expect(expectFailure(await provider().getToken(bogus)).reason).toBe('other');
  });
});

describe('secrets in failures', () => {
  const echo = `client_secret=${SECRET}&access_token=${CANARY_TOKEN} Authorization: Bearer ${CANARY_TOKEN}`;

  it.each([
    [
      'an unknown Entra ID error',
      { kind: 'entra-error', status: 400, error: 'invalid_request', code: 50000, text: echo },
    ],
    [
      'a known Entra ID error',
      { kind: 'entra-error', status: 401, error: 'invalid_client', code: 7000215, text: `Bad secret ${SECRET}` },
    ],
    [
      'a 5xx Entra ID error',
      { kind: 'entra-error', status: 503, error: 'temporarily_unavailable', code: 1, text: echo },
    ],
    ['an HTML 500 page', { kind: 'raw', status: 500, body: `<pre>${echo}</pre>` }],
    ['a garbage 200', { kind: 'raw', status: 200, body: echo, contentType: `text/${SECRET}` }],
    ['a token without a lifetime', { kind: 'raw', status: 200, body: JSON.stringify({ access_token: CANARY_TOKEN }) }],
  ] as const)('never show the secret or a token: %s', async (_label, reply) => {
    endpoint.reply(reply);
    const r = await provider().getToken(request());
    expectClean(r);
  });

  it('scrubs the secret and tokens, control and bidi characters from quoted text, and caps it at 300 characters', async () => {
    const secret = 'CANARY-SECRET-7f3a9c~with space+plus';
    const text = `Rejected\u0007 ${secret}\u0000 or ${encodeURIComponent(secret)}\r\nsee \u202eevil\u202c ${CANARY_TOKEN} ${'x'.repeat(400)}`;
    endpoint.reply({ kind: 'entra-error', status: 400, error: 'invalid_request', code: 50000, text });
    const r = await provider().getToken(request({ clientSecret: secret }));
    expectClean(r, secret);
    const f = expectFailure(r);
    expect(f.message).toContain('Rejected <redacted> or <redacted>');
    expect(f.message).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(f.message.length).toBeLessThanOrEqual(300);
    expect(f.message.endsWith('…')).toBe(true);
  });
});

describe('xoauth2String (shared/adapters/smtp/nodemailer-prober.ts)', () => {
  it('builds the SASL XOAUTH2 string byte for byte', () => {
    const user = 'scanner@contoso.example';
    const token = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln';
    const sasl = xoauth2String(user, token);
    expect([...Buffer.from(sasl, 'utf8')]).toEqual([
      ...Buffer.from('user=scanner@contoso.example', 'ascii'),
      0x01,
      ...Buffer.from('auth=Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln', 'ascii'),
      0x01,
      0x01,
    ]);
    expect(Buffer.from(sasl, 'utf8').toString('base64')).toBe(
      'dXNlcj1zY2FubmVyQGNvbnRvc28uZXhhbXBsZQFhdXRoPUJlYXJlciBleUowZVhBaU9pSktWMVFpZlEuZXlKemRXSWlPaUo0SW4wLmMybG4BAQ==',
    );
  });
});
