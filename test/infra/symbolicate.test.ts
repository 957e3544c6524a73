/**
 * cdk/symbolicate.ts: a stack trace of a bundle built with the functions' esbuild settings (minified, code-split,
 * linked source maps without the sources' text), thrown in a fresh Node process without --enable-source-maps (as the
 * functions run by default), maps back to the TypeScript lines, from index.mjs and from a lazy chunk; CloudWatch's
 * escaped form and a JSON log record are read too; a function name finds its asset folder in cdk.out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLING } from '../../cdk/constructs/monitor-function.ts';
import { bundleFolder, symbolicateTrace, tracesOf } from '../../cdk/symbolicate.ts';

let dir: string;
let out: string;
let trace: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaywatch-symbolicate-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(
    join(dir, 'src/entry.ts'),
    [
      "import { helper } from './helper.ts';",
      'export async function handler(kind: string): Promise<number> {',
      "  if (kind === 'lazy') return (await import('./lazy.ts')).failLater();",
      "  throw new Error('boom ' + helper(kind));",
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'src/helper.ts'), 'export const helper = (s: string): string => s.toUpperCase();\n');
  writeFileSync(
    join(dir, 'src/lazy.ts'),
    ['export function failLater(): never {', "  throw new TypeError('from the chunk');", '}', ''].join('\n'),
  );
  out = join(dir, 'bundle');
  await build({
    ...BUNDLING,
    absWorkingDir: dir,
    entryPoints: { index: join(dir, 'src/entry.ts') },
    outdir: out,
    bundle: true,
    splitting: true,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  const run = (kind: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `try { await (await import(${JSON.stringify(join(out, 'index.mjs'))})).handler(${JSON.stringify(kind)}); } catch (e) { console.log(e.stack); }`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
    );
  trace = `${run('plain')}\n${run('lazy')}`;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cdk/symbolicate.ts', () => {
  it('maps the frames of index.mjs and of a lazy chunk to the TypeScript lines', () => {
    // without it, the trace points into the minified files
    expect(trace).toMatch(/index\.mjs:\d+:\d+/);
    expect(trace).toMatch(/lazy-\w+\.mjs:\d+:\d+/);
    const mapped = symbolicateTrace(trace, out, dir);
    expect(mapped).toContain('Error: boom PLAIN');
    expect(mapped).toMatch(/src\/entry\.ts:4:\d+/);
    expect(mapped).toMatch(/src\/lazy\.ts:2:\d+/);
    expect(mapped).not.toMatch(/bundle\/[\w-]+\.mjs:\d+:\d+/);
    // frames outside the bundle are left alone: Node's, the Lambda runtime's own index.mjs, a line the file has not
    for (const frame of [
      '    at run (node:internal/x.js:10:5)',
      '    at async Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1206:29)',
      '    at x (file:///var/task/index.mjs:1206:29)',
    ]) {
      expect(symbolicateTrace(frame, out, dir)).toBe(frame);
    }
  });

  it('reads a Lambda path, the escaped form of a log line, and the stack of a JSON log record', () => {
    const lambda = trace.replaceAll(`file://${out}/`, 'file:///var/task/').replaceAll(`${out}/`, '/var/task/');
    expect(lambda).toContain('/var/task/index.mjs');
    const escaped = lambda.replace(/\n/g, '\\n');
    const [fromText] = tracesOf(escaped);
    expect(symbolicateTrace(fromText!, out, dir)).toMatch(/src\/entry\.ts:4:\d+/);
    const record = JSON.stringify({ level: 'ERROR', message: 'job failed', error: { name: 'Error', stack: lambda } });
    const [fromJson] = tracesOf(record);
    expect(fromJson).toBe(lambda);
    expect(symbolicateTrace(fromJson!, out, dir)).toMatch(/src\/lazy\.ts:2:\d+/);
  });

  it('finds a function’s asset folder in cdk.out by its name', () => {
    const cdkOut = join(dir, 'cdk.out');
    mkdirSync(cdkOut);
    writeFileSync(
      join(cdkOut, 'relaywatch-prod-service.template.json'),
      JSON.stringify({
        Resources: {
          W: {
            Type: 'AWS::Lambda::Function',
            Properties: { FunctionName: 'relaywatch-prod-worker' },
            Metadata: { 'aws:asset:path': 'asset.abc' },
          },
        },
      }),
    );
    expect(bundleFolder('worker', cdkOut)).toBe(join(cdkOut, 'asset.abc'));
    expect(bundleFolder('relaywatch-prod-worker', cdkOut)).toBe(join(cdkOut, 'asset.abc'));
    expect(bundleFolder(out, cdkOut)).toBe(out);
    expect(() => bundleFolder('digest', cdkOut)).toThrow(/no function named digest/);
  });
});
