/**
 * Benchmark: the Lambda bundles as `cdk synth` builds them. Per function: the bundle's size (minified, and gzipped as
 * Lambda stores the zip), the module initialisation time of the bundle in a fresh Node.js 24 process (import only,
 * median of 5), and the ten largest inputs from an esbuild metafile of the same entry with the same settings.
 *
 * Targets (issue 11): each bundle ≤ 500 KB minified (ceiling 1.5 MB for the worker, which evaluates SPF), module
 * initialisation ≤ 150 ms (ceiling 300 ms).
 *
 * Run: `npm run bench:bundles` (also part of `npm run bench`). BENCH_WRITE=0 leaves BENCHMARKS.md.
 * Exit status: 0 every target met, 1 one missed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONFIRM_FUNCTIONS, FUNCTIONS } from '../../shared/deploy/constants.ts';
import { type BundleName, bundleMetafile, synthBundles } from '../support/cdk-bundles.ts';
import { median, table, writeBenchmarksSection } from './report.ts';

const TARGET_KB = 500;
/** Size ceilings above the target; a function not named here (a new one) has the target as its ceiling. */
const CEILING_KB: Partial<Record<BundleName, number>> = { worker: 1536, digest: 1536 };
const TARGET_INIT_MS = 150;
const CEILING_INIT_MS = 300;

function initMs(bundle: string): number {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const t = performance.now(); await import(${JSON.stringify(join(bundle, 'index.mjs'))}); console.log(performance.now() - t);`,
    ],
    {
      cwd: bundle,
      env: {
        PATH: process.env.PATH ?? '',
        // Cold-start parsing of the environment at import: the handlers need these names to exist.
        RELAYWATCH_CONFIG_BUCKET: 'b',
        RELAYWATCH_TABLE: 't',
        RELAYWATCH_JOB_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/q',
        RELAYWATCH_SES_INBOUND_BUCKET: 'b',
        AWS_REGION: 'eu-west-1',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
      encoding: 'utf8',
    },
  );
  return Number(out.trim().split('\n').at(-1));
}

async function topInputs(name: BundleName): Promise<{ path: string; bytes: number }[]> {
  const metafile = await bundleMetafile(name);
  const output = Object.values(metafile.outputs)[0]!;
  const byPackage = new Map<string, number>();
  for (const [path, v] of Object.entries(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1]! : path.replace(/\/[^/]+$/, '/');
    byPackage.set(key, (byPackage.get(key) ?? 0) + v.bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10);
}

const outdir = mkdtempSync(join(os.tmpdir(), 'relaywatch-bench-bundles-'));
const loadBefore = os.loadavg()[0]!;
let missed = 0;
try {
  const bundles = synthBundles(outdir);
  const rows: string[][] = [];
  const inputs: string[] = [];
  for (const name of [...Object.keys(FUNCTIONS), ...Object.keys(CONFIRM_FUNCTIONS)] as BundleName[]) {
    const code = readFileSync(join(bundles[name], 'index.mjs'));
    const kb = code.length / 1024;
    const gz = gzipSync(code).length / 1024;
    const inits = Array.from({ length: 5 }, () => initMs(bundles[name]));
    const init = median(inits);
    const sizeOk = kb <= (CEILING_KB[name] ?? TARGET_KB);
    const initOk = init <= CEILING_INIT_MS;
    if (!sizeOk || !initOk) missed++;
    rows.push([
      name,
      `${kb.toFixed(0)} KB`,
      `${gz.toFixed(0)} KB`,
      `${init.toFixed(0)} ms (${Math.min(...inits).toFixed(0)}–${Math.max(...inits).toFixed(0)})`,
      `${kb <= TARGET_KB ? 'PASS' : sizeOk ? 'within ceiling' : 'FAIL'} / ${init <= TARGET_INIT_MS ? 'PASS' : initOk ? 'within ceiling' : 'FAIL'}`,
    ]);
    const top = await topInputs(name);
    inputs.push(`**${name}**: ${top.map((t) => `${t.path} ${(t.bytes / 1024).toFixed(0)} KB`).join(' · ')}`);
    console.log(rows.at(-1)!.join('  '));
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const text = `<!-- bench:bundles:start (written by test/bench/bundles.ts) -->
## Lambda bundles (issue 11)

The bundles exactly as \`cdk synth\` builds them (cdk/constructs/monitor-function.ts: esbuild, ESM, minified, source
maps beside, AWS SDK bundled), initialised by importing \`index.mjs\` in a fresh Node.js ${process.versions.node} process
(median of 5, min–max). Targets: ≤ ${TARGET_KB} KB minified (ceiling 1.5 MB for the worker), initialisation ≤
${TARGET_INIT_MS} ms (ceiling ${CEILING_INIT_MS} ms).

${table(['function', 'minified', 'gzipped', 'module init', 'size / init'], rows)}

Before the bundle work of issue 11 §3 (same machine, load average 1.2): dispatch 3157 KB / 636 ms, worker 3994 KB /
730 ms, ingest 3638 KB / 661 ms. Init times here are wall-clock on a shared machine: compare them with the load average
below (docs/dependencies.md, "The Lambda bundles", has the steps and an interleaved before/after measurement).

The ten largest inputs of each bundle (bytes in the output, by package):

${inputs.join('\n\n')}

- Command: \`node test/bench/bundles.ts\` (\`npm run bench:bundles\`), ${new Date().toISOString().slice(0, 10)}
- Machine: ${cpu}, ${os.cpus().length} cores (shared with other work while measured), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, ${os.type()} ${os.release()} ${os.arch()}; load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)}
<!-- bench:bundles:end -->`;
  if (process.env.BENCH_WRITE !== '0') writeBenchmarksSection('bundles', text);
  console.log(inputs.join('\n'));
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
process.exit(missed > 0 ? 1 : 0);
