/**
 * The proof behind NOT_BUNDLED (cdk/constructs/monitor-function.ts): the worker's bundle replaces joi, libmime and
 * tldts by stand-ins (cdk/bundle-stubs/): joi by the one domain schema mailauth's SPF entry validates with, libmime by
 * its `foldLines` (the Received-SPF header), tldts by a thrower. Here the SPF adapter and mailauth's SPF entry are
 * bundled with exactly the worker's esbuild settings and aliases, and the whole OpenSPF RFC 7208 suite runs through
 * both: every test must give the same adapter result, and the same raw mailauth result (Received-SPF header,
 * Authentication-Results row, lookups), as the unbundled code. A stand-in touched on the SPF path would throw inside
 * mailauth and change the result (or reject). The stand-ins' own functions are checked side by side with the
 * packages on the inputs the suite does not reach: invalid and odd domains, headers long enough to fold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spf } from 'mailauth/lib/spf/index.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NOT_BUNDLED } from '../../cdk/constructs/monitor-function.ts';
import { makeSpfEvaluator, toNodeStyleResolver } from '../../shared/adapters/spf/mailauth-spf.ts';
import { bundleEntries } from '../support/cdk-bundles.ts';
import { loadSuite, makeSuiteResolver } from './suite-resolver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const tests = loadSuite();
let dir: string;
let bundled: typeof makeSpfEvaluator;
let bundledSpf: typeof spf;
let inputs: string[];

interface DomainSchema {
  validate(value: unknown): { value: unknown; error?: Error & { details?: { type: string }[] } };
}
interface JoiLike {
  string(): { domain(o?: object): DomainSchema; base64(o?: object): DomainSchema };
}
type FoldLines = (str: string, lineLength?: number, afterSpace?: boolean) => string;
const realJoi = require('joi') as JoiLike;
const joiStub = require('../../cdk/bundle-stubs/joi.cjs') as JoiLike & { object(): unknown };
const realFold = (require('libmime') as { foldLines: FoldLines }).foldLines;
const stubLibmime = require('../../cdk/bundle-stubs/libmime.cjs') as { foldLines: FoldLines; decodeWords(): unknown };

/** mailauth's raw result, as the two builds give it for one suite test. */
function rawSpf(impl: typeof spf, t: (typeof tests)[number]) {
  return impl({
    ip: t.host,
    sender: t.mailfrom,
    helo: t.helo,
    mta: 'relaywatch.invalid',
    resolver: toNodeStyleResolver(makeSuiteResolver(t.zonedata)),
    strict: true,
    maxElapsedTime: 20_000,
  } as Parameters<typeof spf>[0]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(os.tmpdir(), 'relaywatch-spf-bundle-'));
  inputs = await bundleEntries(
    'worker',
    {
      spf: join(ROOT, 'shared/adapters/spf/mailauth-spf.ts'),
      mailauth: join(ROOT, 'node_modules/mailauth/lib/spf/index.js'),
    },
    dir,
  );
  ({ makeSpfEvaluator: bundled } = (await import(pathToFileURL(join(dir, 'spf.mjs')).href)) as {
    makeSpfEvaluator: typeof makeSpfEvaluator;
  });
  // a CommonJS entry bundled as ESM: module.exports is the default export
  ({
    default: { spf: bundledSpf },
  } = (await import(pathToFileURL(join(dir, 'mailauth.mjs')).href)) as { default: { spf: typeof spf } });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the SPF adapter bundled as in the worker (stand-ins for unused packages)', () => {
  test('the bundle holds the stand-ins, not the packages', () => {
    expect(NOT_BUNDLED.worker).toEqual(expect.arrayContaining(['joi', 'libmime', 'tldts']));
    for (const pkg of ['joi', 'libmime', 'tldts', '@hapi/tlds', '@hapi/hoek', 'iconv-lite', 'encoding-japanese']) {
      expect(inputs.filter((i) => i.includes(`node_modules/${pkg}/`))).toEqual([]);
    }
    for (const pkg of ['joi', 'libmime', 'tldts']) expect(inputs).toContain(`cdk/bundle-stubs/${pkg}.cjs`);
    // joi's domain check itself is in: the stand-in calls it
    expect(inputs).toContain('node_modules/@hapi/address/dist/domain.js');
  });

  test('a stand-in throws a clear error when used', () => {
    const tldts = require('../../cdk/bundle-stubs/tldts.cjs') as { getDomain: () => unknown };
    expect(() => tldts.getDomain()).toThrow(/^tldts \(getDomain\) is not in this function bundle/);
    expect(() => stubLibmime.decodeWords()).toThrow(/^libmime \(decodeWords\) is not in this function bundle/);
    expect(() => joiStub.object()).toThrow(/^joi \(object\) is not in this function bundle/);
    // mailauth's tools build a base64 schema at load time (for DKIM keys): building works, validating throws
    const base64 = joiStub.string().base64({ paddingRequired: false });
    expect(() => base64.validate('aGk')).toThrow(/^joi \(validate\) is not in this function bundle/);
    // joi's built-in TLD list is not in
    expect(() => joiStub.string().domain()).toThrow(/^joi \(domain with a TLD list\) is not in this function bundle/);
  });

  const domains: unknown[] = [
    'example.com',
    'EXAMPLE.COM',
    'a.b.c.d.example',
    'example',
    '-',
    '',
    undefined,
    null,
    42,
    'foo..example.com',
    '.example.com',
    'example.com.',
    'exa_mple.com',
    '_spf.example.com',
    '-bad.example.com',
    'bad-.example.com',
    'xn--bcher-kva.example',
    'bücher.example',
    'exa mple.com',
    'exa@mple.com',
    'example.com/x',
    '1.2.3.4',
    '123.example.456',
    'example.c0m',
    'example.1com',
    `${'a'.repeat(63)}.example`,
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(127)}b`,
    `${'a.'.repeat(128)}b`,
    'ex%{d}ample.com',
  ];
  test.each(domains.map((d) => [JSON.stringify(d) ?? 'undefined', d]))(
    'the joi stand-in judges %s as joi does',
    (_label, d) => {
      const options = { allowUnicode: false, tlds: false };
      const want = realJoi.string().domain(options).validate(d);
      const got = joiStub.string().domain(options).validate(d);
      expect(got.value).toEqual(want.value);
      expect(got.error?.message).toEqual(want.error?.message);
      expect(got.error?.details?.map((x) => x.type)).toEqual(want.error?.details?.map((x) => x.type));
    },
  );

  test('the joi stand-in rejects option keys joi rejects', () => {
    expect(() => realJoi.string().domain({ tlds: false, bogus: 1 })).toThrow(/unknown keys/);
    expect(() => joiStub.string().domain({ tlds: false, bogus: 1 })).toThrow(/unknown keys/);
  });

  const long = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');
  const folds: [string, number | undefined, boolean | undefined][] = [
    ['', 160, false],
    [long(60, 'word'), 160, false],
    [long(60, 'word'), undefined, true],
    [
      `Received-SPF: pass (${long(30, 'x')}) client-ip=192.0.2.1; envelope-from="${'a'.repeat(300)}"@x.example;`,
      160,
      false,
    ],
    ['a'.repeat(400), 160, false],
    [`line one\r\n${long(50, 'w')}\nthree\rfour`, 76, false],
    [`${'b'.repeat(170)}   tail   ${'c'.repeat(200)}`, 160, true],
  ];
  test.each(folds)('the libmime stand-in folds as libmime does (%#)', (str, len, after) => {
    const want = realFold(str, len, after);
    expect(stubLibmime.foldLines(str, len, after)).toBe(want);
  });

  test('a Received-SPF header long enough to fold is the same from the bundle', async () => {
    const t = {
      ...tests[0]!,
      mailfrom: `${long(12, 'someone')}@example.net`.replace(/ /g, '.'),
      helo: `${'h'.repeat(60)}.example.net`,
    };
    const want = await rawSpf(spf, t);
    expect((want as { header: string }).header).toContain('\r\n');
    expect(await rawSpf(bundledSpf, t)).toEqual(want);
  });

  test.each(tests)('$id gives the same result as the unbundled adapter', async (t) => {
    const input = { ip: t.host, sender: t.mailfrom, helo: t.helo };
    const want = await makeSpfEvaluator(makeSuiteResolver(t.zonedata))(input);
    const got = await bundled(makeSuiteResolver(t.zonedata))(input);
    expect(got).toEqual(want);
    expect(await rawSpf(bundledSpf, t)).toEqual(await rawSpf(spf, t));
  });
});
