/**
 * Each function bundles only what its job needs (issue 11 §3), checked on the esbuild metafile of its entry built
 * with the construct's settings: packages a function never uses are not in its bundle at all, and packages only some
 * configurations use (e-mail alerts, Slack, OAuth, SMTP probes) are reached only through a dynamic `import()`, so
 * they sit in chunks of their own that Node neither reads nor compiles at cold start.
 */
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARSET_STAND_INS, NOT_BUNDLED } from '../../cdk/constructs/monitor-function.ts';
import { CONFIRM_FUNCTIONS, FUNCTIONS } from '../../shared/deploy/constants.ts';
import { type BundleName, bundleMetafile, initOutputs } from '../support/cdk-bundles.ts';

type FunctionName = BundleName;

/** Packages (node_modules names) a function's bundle must not hold at all; a function not listed gets DEFAULT_ABSENT. */
const ABSENT: Partial<Record<FunctionName, readonly string[]>> = {
  // reads the config, enqueues jobs: no DNS, SPF, mail, HTTP notifiers or OAuth
  dispatch: ['undici', 'mailauth', 'libmime', 'joi', 'nodemailer', '@azure/msal-node', '@slack/webhook', 'dns-packet'],
  // records, decides and notifies: no SPF, DNS or OAuth
  ingest: ['undici', 'mailauth', 'libmime', 'joi', '@azure/msal-node', 'dns-packet'],
  // evaluates SPF and probes; the packages its SPF path provably does not use are stand-ins
  worker: ['undici', ...(NOT_BUNDLED.worker ?? [])],
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
    'yaml',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-ses',
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

/** Packages a function may hold, but only behind a dynamic import() (the paths that need them load them). */
const LAZY: Partial<Record<FunctionName, readonly string[]>> = {
  // the AWS SDK's credential providers other than the environment's (Lambda puts the role's keys there)
  dispatch: ['@aws-sdk/nested-clients', '@aws-sdk/credential-provider-ini', '@aws-sdk/credential-provider-sso'],
  'report-link': ['@aws-sdk/client-ssm', '@aws-sdk/nested-clients'],
  // SSM only for configs with `{ ssm: }` references
  ingest: ['nodemailer', '@aws-sdk/client-ses', '@slack/webhook', '@aws-sdk/client-ssm', '@aws-sdk/nested-clients'],
  digest: ['nodemailer', '@aws-sdk/client-ses', '@aws-sdk/client-ssm', '@aws-sdk/nested-clients'],
  worker: [
    'nodemailer',
    '@aws-sdk/client-ses',
    '@slack/webhook',
    '@azure/msal-node',
    '@azure/msal-common',
    '@aws-sdk/client-ssm',
    '@aws-sdk/nested-clients',
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

  it('holds zod without its locales but English', () => {
    expect(inputs().filter((p) => /zod\/v4\/locales\/(?!en\.js|index\.js)/.test(p))).toEqual([]);
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
