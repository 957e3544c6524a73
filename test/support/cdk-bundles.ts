/** The function bundles exactly as `cdk synth` builds them, for the bundle smoke test and the bundle benchmark. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { build, type Metafile } from 'esbuild';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig } from '../../cdk/config.ts';
import { BUNDLING, bundleAliases, bundleOptions } from '../../cdk/constructs/monitor-function.ts';
import type { CONFIRM_FUNCTIONS, FUNCTIONS } from '../../shared/deploy/constants.ts';

/** Every function folder: the monitoring functions and the optional confirmation ones (enabled in the smoke stage). */
export type BundleName = keyof typeof FUNCTIONS | keyof typeof CONFIRM_FUNCTIONS;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Synthesise the example app with real bundling and return each function's bundle folder. */
export function synthBundles(outdir: string): Record<BundleName, string> {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const { service } = buildApp(
    app,
    parseStageConfig(
      {
        stage: 'smoke',
        alertSender: 'relaywatch@msp.example',
        confirm: { enabled: true, sesInbound: { domain: 'probes.msp.example' } },
      },
      'test',
    ),
  );
  app.synth();
  const template = JSON.parse(readFileSync(join(outdir, `${service.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: { FunctionName?: string }; Metadata?: Record<string, string> }
    >;
  };
  const out: Partial<Record<BundleName, string>> = {};
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = String(r.Properties.FunctionName).replace('relaywatch-smoke-', '') as BundleName;
    const asset = r.Metadata?.['aws:asset:path'];
    if (asset !== undefined) out[name] = join(outdir, asset);
  }
  return out as Record<BundleName, string>;
}

/**
 * The esbuild metafile of one function's entry built with the construct's settings (BUNDLING and the function's
 * NOT_BUNDLED aliases), for the bundle-contents test and the benchmark's largest inputs.
 */
export async function bundleMetafile(name: BundleName): Promise<Metafile> {
  const result = await build({
    ...bundleOptions(name),
    outdir: join(ROOT, 'cdk.out', 'metafile', name),
    sourcemap: false,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** The output files (chunks) of a function's metafile that Node loads at cold start: `index.mjs` and its static imports. */
export function initOutputs(meta: Metafile): Set<string> {
  const entry = Object.keys(meta.outputs).find(
    (k) => meta.outputs[k]?.entryPoint !== undefined && k.endsWith('/index.mjs'),
  );
  if (entry === undefined) throw new Error('the metafile has no index.mjs entry');
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const i of meta.outputs[next]?.imports ?? []) {
      if (i.kind !== 'import-statement' || i.external || seen.has(i.path)) continue;
      seen.add(i.path);
      queue.push(i.path);
    }
  }
  return seen;
}

/**
 * Some modules bundled as one function's bundle is (the shared esbuild settings and that function's stand-ins), each
 * entry to `<outdir>/<name>.mjs`, without source maps: for tests that import a part of a bundle and compare it with
 * the sources. Returns the inputs esbuild took (paths relative to the repository).
 */
export async function bundleEntries(
  fn: BundleName,
  entryPoints: Readonly<Record<string, string>>,
  outdir: string,
): Promise<string[]> {
  const result = await build({
    ...BUNDLING,
    absWorkingDir: ROOT,
    entryPoints: { ...entryPoints },
    outdir,
    outExtension: { '.js': '.mjs' },
    sourcemap: false,
    bundle: true,
    alias: bundleAliases(fn),
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}
