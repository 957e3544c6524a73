/**
 * Each function bundles only what its job needs (issue 11 §3), checked on the esbuild metafile of its entry built
 * with the construct's settings: packages a function never uses are not in its bundle at all, and packages only some
 * configurations use (e-mail alerts, Slack, OAuth, SMTP probes) are reached only through a dynamic `import()`, so
 * they sit in chunks of their own that Node neither reads nor compiles at cold start.
 */
import { createRequire } from 'node:module';
import type { Metafile } from 'esbuild';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHARSET_STAND_INS, NOT_BUNDLED } from '../../cdk/constructs/monitor-function.ts';

import { CONFIRM_FUNCTIONS, FUNCTIONS } from '../../shared/deploy/constants.ts';
import { type BundleName, bundleMetafile, initOutputs } from '../support/cdk-bundles.ts';

type FunctionName = BundleName;

/** Packages (node_modules names) a function's bundle must not hold at all; a function not listed gets DEFAULT_ABSENT. */
const ABSENT: Partial<Record<FunctionName, readonly string[]>> = {
  // reads the config, enqueues jobs: no DNS, SPF, mail, HTTP notifiers or OAuth
  // (and no SSM client: it resolves no secret of the config, shared/adapters/lambda-env.ts)
  dispatch: [
    'undici',
    'mailauth',
    'libmime',
    'joi',
    'nodemailer',
    '@azure/msal-node',
    '@slack/webhook',
    'dns-packet',
    '@aws-sdk/client-ssm',
  ],
  // records, decides and notifies: no SPF, DNS or OAuth
  ingest: ['undici', 'mailauth', 'libmime', 'joi', '@azure/msal-node', 'dns-packet'],
  // evaluates SPF and probes; the packages its SPF path provably does not use are stand-ins
  // (libmime's charsets, joi's TLD list and helpers, jsonwebtoken's signers go with them)
  worker: [
    'undici',
    ...(NOT_BUNDLED.worker ?? []),
    'iconv-lite',
    'encoding-japanese',
    '@hapi/tlds',
    '@hapi/hoek',
    '@hapi/topo',
    'jws',
    'jwa',
    'semver',
  ],
  // verifies an HMAC and pre-signs one S3 URL: no store, no config, no DNS, SPF, mail or notifiers
  'report-link': [
    'undici',
    'mailauth',
    'libmime',
    'joi',
    'nodemailer',
    '@azure/msal-node',
    '@slack/webhook',
    'dns-packet',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-ses',
    '@aws-sdk/client-ssm',
  ],
  // headers are split by the copy of mailauth's parseHeaders (shared/confirm/header-rows.ts): no mailauth tools, so no
  // joi, tldts or the top-level libmime; the charset packages imapflow needs are stand-ins (CHARSET_STAND_INS)
  confirm: ['undici', 'joi', 'tldts', 'libmime', 'encoding-japanese'],
  // reads SES-stored messages from S3: no mailbox adapters (mailbox/lambda-mailboxes.ts is the confirm function's)
  'ses-inbound': [
    'undici',
    'joi',
    'tldts',
    'libmime',
    'encoding-japanese',
    'iconv-lite',
    'imapflow',
    '@zone-eu/mailsplit',
    '@azure/msal-node',
    '@azure/msal-common',
  ],
};

/** What no function needs (a new function starts from this; give it its own entries above). */
const DEFAULT_ABSENT: readonly string[] = ['undici'];

/**
 * What no function's bundle holds, not even in a lazy chunk (STAND_INS): the SDK's credential sources other than the
 * environment, with the STS/SSO/OIDC/sign-in clients they load, and the browser user-agent parser.
 */
const NEVER: readonly string[] = [
  '@aws-sdk/credential-provider-node',
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
  'bowser',
];

/** Packages a function may hold, but only behind a dynamic import() (the paths that need them load them). */
const LAZY: Partial<Record<FunctionName, readonly string[]>> = {
  // SSM only for configs with `{ ssm: }` references
  ingest: ['nodemailer', '@aws-sdk/client-ses', '@slack/webhook', '@aws-sdk/client-ssm'],
  digest: ['nodemailer', '@aws-sdk/client-ses', '@aws-sdk/client-ssm'],
  worker: [
    'nodemailer',
    '@aws-sdk/client-ses',
    '@slack/webhook',
    '@azure/msal-node',
    '@azure/msal-common',
    '@aws-sdk/client-ssm',
  ],
  confirm: ['nodemailer', '@azure/msal-node', 'imapflow', '@aws-sdk/client-ssm'],
  'ses-inbound': ['nodemailer', '@aws-sdk/client-ssm'],
};

const pkgOf = (path: string): string | null => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? null;

/** The inputs reachable from the entry through static imports and require() only. */
function staticInputs(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const i of meta.inputs[next]?.imports ?? []) {
      if (i.kind === 'dynamic-import' || i.external || seen.has(i.path)) continue;
      seen.add(i.path);
      queue.push(i.path);
    }
  }
  return seen;
}

const names = [...Object.keys(FUNCTIONS), ...Object.keys(CONFIRM_FUNCTIONS)] as FunctionName[];
const metas = new Map<FunctionName, Metafile>();

beforeAll(async () => {
  for (const name of names) metas.set(name, await bundleMetafile(name));
}, 120_000);

describe.each(names)('the %s bundle', (name) => {
  // the inputs with code in some output file (the metafile also lists inputs tree shaking removed whole)
  const inputsOf = (outputs: string[]) =>
    outputs.flatMap((o) =>
      Object.entries(metas.get(name)!.outputs[o]!.inputs)
        .filter(([, v]) => v.bytesInOutput > 0)
        .map(([p]) => p),
    );
  const inputs = () => inputsOf(Object.keys(metas.get(name)!.outputs));

  it('holds none of the packages its job does not use', () => {
    const held = new Set(inputs().map(pkgOf));
    expect((ABSENT[name] ?? DEFAULT_ABSENT).filter((p) => held.has(p))).toEqual([]);
    expect(NEVER.filter((p) => held.has(p))).toEqual([]);
  });

  it("reaches each of its NOT_BUNDLED packages' stand-ins (a package no longer reached is dropped from the list)", () => {
    const held = inputs();
    expect((NOT_BUNDLED[name] ?? []).filter((pkg) => !held.includes(`cdk/bundle-stubs/${pkg}.cjs`))).toEqual([]);
  });

  it('takes AWS credentials from the environment through the stand-in of the default chain', () => {
    expect(inputs()).toContain('cdk/bundle-stubs/aws-credential-provider-node.mjs');
    expect(inputs()).toContain('node_modules/@aws-sdk/credential-provider-env/dist-es/fromEnv.js');
  });

  it('reaches the packages of optional paths only through a dynamic import()', () => {
    const entry = `functions/${name}/handler.ts`;
    const kept = new Set(inputs());
    const eager = new Set([...staticInputs(metas.get(name)!, entry)].filter((p) => kept.has(p)).map(pkgOf));
    expect((LAZY[name] ?? []).filter((p) => eager.has(p))).toEqual([]);
  });

  it('keeps the packages of optional paths out of the files Node loads at cold start (lazy chunks)', () => {
    const atInit = new Set(inputsOf([...initOutputs(metas.get(name)!)]).map(pkgOf));
    expect((LAZY[name] ?? []).filter((p) => atInit.has(p))).toEqual([]);
  });

  it('holds no yaml at all (the functions read the JSON config, the registry its zones.json)', () => {
    // Not even in a lazy chunk: the S3 config source refuses what is not JSON, and the registry reads YAML through
    // createRequire only beside the sources.
    expect(inputs().filter((p) => pkgOf(p) === 'yaml')).toEqual([]);
  });

  it('holds the config schema and validation only when it reads the config (report-link does not)', () => {
    // A lazy chunk that imported the validation (the S3 config source's YAML path once did) would make esbuild move
    // those modules into a chunk shared with index.mjs: 70 KB more at report-link's cold start.
    const held = inputs().filter((p) => /^shared\/config\/(schema|validate|rules|blocklists)\.ts$/.test(p));
    if (name === 'report-link') expect(held).toEqual([]);
    else expect(held.length).toBeGreaterThan(0);
  });

  it('holds zod without its locales but English', () => {
    expect(inputs().filter((p) => /zod\/v4\/locales\/(?!en\.js|index\.js)/.test(p))).toEqual([]);
  });
});

describe('the stand-in of the AWS SDK default credential chain (every bundle)', () => {
  type Provider = (init?: { profile?: string }) => () => Promise<Record<string, unknown>>;
  const STUB = new URL('../../cdk/bundle-stubs/aws-credential-provider-node.mjs', import.meta.url).href;
  const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;
  let saved: Partial<Record<(typeof KEYS)[number], string>>;
  let defaultProvider: Provider;

  beforeAll(async () => {
    ({ defaultProvider } = (await import(STUB)) as { defaultProvider: Provider });
  });
  beforeEach(() => {
    saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
    for (const k of KEYS) delete process.env[k];
  });
  afterEach(() => {
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("returns the environment's credentials, as the SDK's fromEnv does", async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'SECRET',
      AWS_SESSION_TOKEN: 'TOK',
    });
    expect(await defaultProvider()()).toMatchObject({
      accessKeyId: 'AKID',
      secretAccessKey: 'SECRET',
      sessionToken: 'TOK',
    });
  });

  it('names the missing variables', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKID';
    await expect(defaultProvider()()).rejects.toThrow(
      /^No AWS credentials: AWS_SECRET_ACCESS_KEY not set; this function bundle takes AWS credentials from the environment only/,
    );
    delete process.env.AWS_ACCESS_KEY_ID;
    await expect(defaultProvider()()).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set/);
  });

  it('refuses a profile instead of ignoring it', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'SECRET', AWS_PROFILE: 'lab' });
    await expect(defaultProvider()()).rejects.toThrow(/AWS profile "lab" asked for/);
    delete process.env.AWS_PROFILE;
    await expect(defaultProvider({ profile: 'other' })()).rejects.toThrow(/AWS profile "other" asked for/);
  });
});

describe.each(names.filter((n) => CHARSET_STAND_INS[n] !== undefined))('the %s bundle (charset stand-ins)', (name) => {
  it('holds no charset tables: the stand-ins replace them', () => {
    const held = Object.values(metas.get(name)!.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, v]) => v.bytesInOutput > 0)
        .map(([p]) => p),
    );
    expect(held.filter((p) => /encoding-japanese\/|iconv-lite\/encodings\/(sbcs-data|dbcs|tables)/.test(p))).toEqual(
      [],
    );
  });
});

describe('the throwing stand-in of a package left out (cdk/bundle-stubs/not-bundled.cjs)', () => {
  const load = createRequire(import.meta.url);
  const stub = load('../../cdk/bundle-stubs/not-bundled.cjs') as (name: string) => Record<string, unknown>;
  const pkg = stub('tldts') as {
    parse: (domain: string) => unknown;
    Thing: new () => unknown;
    then?: unknown;
    __esModule?: unknown;
  };

  it('can be required and referenced, and looks like no promise or ES module', () => {
    expect(typeof pkg.parse).toBe('function');
    expect(pkg.then).toBeUndefined();
    expect(pkg.__esModule).toBeUndefined();
  });

  it('throws an error naming the package on a call and on `new`', () => {
    const message = 'tldts (parse) is not in this function bundle: its code path was proven not to use it';
    expect(() => pkg.parse('x')).toThrow(message);
    expect(() => new pkg.Thing()).toThrow('tldts (Thing) is not in this function bundle');
  });
});
