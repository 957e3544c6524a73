/**
 * The proof behind the worker's jsonwebtoken stand-in (NOT_BUNDLED in cdk/constructs/monitor-function.ts): the msal
 * token provider bundled with exactly the worker's esbuild settings and aliases gets a token with a client secret from
 * a local Entra-like token endpoint (TLS on loopback), the same form as the unbundled provider sends
 * (test/integration/oauth.int.test.ts), and a certificate credential, the one msal-node path that signs with
 * jsonwebtoken, fails with the stand-in's "not bundled" error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLING, bundleAliases, NOT_BUNDLED } from '../../cdk/constructs/monitor-function.ts';
import type { MsalTokenProvider, MsalTokenProviderOptions } from '../../shared/adapters/oauth/msal-token-provider.ts';
import { bundleEntries } from '../support/cdk-bundles.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TENANT = 'contoso.onmicrosoft.com';
const CLIENT_ID = '3f0c7a52-9d1e-4b8a-a6f1-0c2d9e8b7a61';

let dir: string;
let cert: SelfSignedCert;
let endpoint: TokenEndpoint;
let inputs: string[];
let Bundled: new (o: MsalTokenProviderOptions) => MsalTokenProvider;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaywatch-msal-bundle-'));
  cert = await makeSelfSignedCert(dir);
  endpoint = await startTokenEndpoint(cert);
  inputs = await bundleEntries(
    'worker',
    { msal: join(ROOT, 'shared/adapters/oauth/msal-token-provider.ts') },
    join(dir, 'out'),
  );
  ({ MsalTokenProvider: Bundled } = (await import(pathToFileURL(join(dir, 'out', 'msal.mjs')).href)) as {
    MsalTokenProvider: typeof Bundled;
  });
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the msal token provider bundled as in the worker (jsonwebtoken a stand-in)', () => {
  it('holds the stand-in, not jsonwebtoken and its dependencies', () => {
    expect(NOT_BUNDLED.worker).toContain('jsonwebtoken');
    expect(inputs).toContain('cdk/bundle-stubs/jsonwebtoken.cjs');
    for (const pkg of ['jsonwebtoken', 'jws', 'jwa', 'semver', 'lodash.includes', 'lodash.once']) {
      expect(
        inputs.filter((i) => i.includes(`node_modules/${pkg}/`)),
        pkg,
      ).toEqual([]);
    }
    expect(inputs.some((i) => i.includes('node_modules/@azure/msal-node/'))).toBe(true);
  });

  it('gets a token with a client secret', async () => {
    const p = new Bundled({ authorityHost: endpoint.url, ca: cert.cert });
    try {
      const r = await p.getToken({ entraTenantId: TENANT, clientId: CLIENT_ID, clientSecret: 'lab-secret' });
      expect(r.ok ? r.token : r).toMatch(/^eyJ/);
      const [sent] = endpoint.requests;
      expect(sent?.path).toBe(`/${TENANT}/oauth2/v2.0/token`);
      expect(sent?.form.grant_type).toBe('client_credentials');
      expect(sent?.form.client_secret).toBe('lab-secret');
      expect(sent?.form).not.toHaveProperty('client_assertion');
    } finally {
      await p.close();
    }
  });

  it("fails loudly on msal-node's certificate credential, the path that signs with jsonwebtoken", async () => {
    // msal-node itself bundled with the worker's aliases (the provider never builds this credential)
    const out = join(dir, 'msal-node.mjs');
    await build({
      ...BUNDLING,
      stdin: { contents: "export { ConfidentialClientApplication } from '@azure/msal-node';", resolveDir: ROOT },
      outfile: out,
      sourcemap: false,
      bundle: true,
      alias: bundleAliases('worker'),
      logLevel: 'silent',
    });
    const msal = (await import(pathToFileURL(out).href)) as {
      ConfidentialClientApplication: new (
        c: unknown,
      ) => { acquireTokenByClientCredential(r: unknown): Promise<unknown> };
    };
    // the metadata given, as the provider does, so the assertion is the first thing msal needs (no network at all)
    const host = new URL(endpoint.url).host;
    const authority = `${endpoint.url}/${TENANT}`;
    const app = new msal.ConfidentialClientApplication({
      auth: {
        clientId: CLIENT_ID,
        authority,
        knownAuthorities: [host],
        cloudDiscoveryMetadata: JSON.stringify({
          tenant_discovery_endpoint: `https://${host}/{tenant}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        }),
        authorityMetadata: JSON.stringify({
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
          jwks_uri: `${authority}/discovery/v2.0/keys`,
          issuer: `${authority}/v2.0`,
        }),
        clientCertificate: { thumbprintSha256: 'ab'.repeat(32), privateKey: cert.key },
      },
    });
    await expect(
      app.acquireTokenByClientCredential({ scopes: ['https://outlook.office365.com/.default'] }),
    ).rejects.toThrow(/jsonwebtoken \(\w+\) is not in this function bundle/);
  });
});
