/**
 * The proof behind NOT_BUNDLED (cdk/constructs/monitor-function.ts): the worker's bundle replaces iconv-lite,
 * encoding-japanese and tldts by stand-ins that throw when used. Here the SPF adapter is bundled with exactly the
 * worker's esbuild settings and aliases, and the whole OpenSPF RFC 7208 suite runs through that bundle: every test
 * must give the same result, explanation and comment as the unbundled adapter. A stand-in touched on the SPF path
 * would throw inside mailauth and change the result (or reject).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUNDLING, bundleAliases, NOT_BUNDLED } from '../../cdk/constructs/monitor-function.ts';
import { makeSpfEvaluator } from '../../shared/adapters/spf/mailauth-spf.ts';
import { loadSuite, makeSuiteResolver } from './suite-resolver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tests = loadSuite();
let dir: string;
let bundled: typeof makeSpfEvaluator;
let inputs: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(os.tmpdir(), 'relaywatch-spf-bundle-'));
  const result = await build({
    entryPoints: [join(ROOT, 'shared/adapters/spf/mailauth-spf.ts')],
    outfile: join(dir, 'spf.mjs'),
    ...BUNDLING,
    sourcemap: false,
    bundle: true,
    alias: bundleAliases('worker'),
    metafile: true,
    logLevel: 'silent',
  });
  inputs = Object.keys(result.metafile.inputs);
  ({ makeSpfEvaluator: bundled } = (await import(pathToFileURL(join(dir, 'spf.mjs')).href)) as {
    makeSpfEvaluator: typeof makeSpfEvaluator;
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the SPF adapter bundled as in the worker (stand-ins for unused packages)', () => {
  test('the bundle holds the stand-ins, not the packages', () => {
    expect(NOT_BUNDLED.worker).toEqual(['iconv-lite', 'encoding-japanese', 'tldts']);
    for (const pkg of NOT_BUNDLED.worker ?? []) {
      expect(inputs.filter((i) => i.includes(`node_modules/${pkg}/`))).toEqual([]);
      expect(inputs).toContain(`cdk/bundle-stubs/${pkg}.cjs`);
    }
    // the packages mailauth's SPF entry does use are in
    expect(inputs.some((i) => i.includes('node_modules/joi/'))).toBe(true);
    expect(inputs.some((i) => i.includes('node_modules/libmime/'))).toBe(true);
  });

  test('a stand-in throws a clear error when used', async () => {
    const stub = (await import(pathToFileURL(join(ROOT, 'cdk/bundle-stubs/iconv-lite.cjs')).href)) as {
      default: { decode: () => unknown };
    };
    expect(() => stub.default.decode()).toThrow(/^iconv-lite \(decode\) is not in this function bundle/);
  });

  test.each(tests)('$id gives the same result as the unbundled adapter', async (t) => {
    const input = { ip: t.host, sender: t.mailfrom, helo: t.helo };
    const want = await makeSpfEvaluator(makeSuiteResolver(t.zonedata))(input);
    const got = await bundled(makeSuiteResolver(t.zonedata))(input);
    expect(got).toEqual(want);
  });
});
