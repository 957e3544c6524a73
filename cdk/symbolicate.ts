/**
 * Maps a stack trace from a function's logs to the TypeScript sources, with the `.map` files esbuild writes beside
 * every bundle (cdk/constructs/monitor-function.ts). The functions run without `--enable-source-maps` by default (the
 * stage setting `sourceMapsAtRuntime`, cdk/config.ts: it costs cold-start time), so their traces point into the
 * minified `index.mjs` and its chunks; this reads them afterwards, with Node's own source-map reader
 * (`module.SourceMap`), no dependency.
 *
 *   node cdk/symbolicate.ts <bundle folder | function name> [trace file]     (the trace on stdin when no file)
 *
 * The bundle folder is the function's asset of the same commit (`cdk.out/asset.<hash>/`, with index.mjs and the
 * `.map` files); a function name (`worker`, `relaywatch-prod-worker`) is looked up in the templates of `cdk.out`
 * (or CDK_OUT) after `npx cdk synth`. The trace may be plain text, a CloudWatch log line with `\n` escapes, or a JSON
 * log record (every `stack` string in it is mapped). Frames outside the bundle stay as they are. docs/deploy.md,
 * "Reading a stack trace", has the steps.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join, relative, resolve } from 'node:path';

/** One bundle file's map, loaded once; null when the file has none. */
type MapCache = Map<string, SourceMap | null>;

function mapOf(bundleDir: string, file: string, cache: MapCache): SourceMap | null {
  if (cache.has(file)) return cache.get(file) ?? null;
  const path = join(bundleDir, `${file}.map`);
  let map: SourceMap | null = null;
  if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as SourceMapPayload);
  cache.set(file, map);
  return map;
}

/**
 * A frame's location: `file:///var/task/index.mjs:1:2345`, `/var/task/chunk-AB12.mjs:1:99` or `index.mjs:1:99`.
 * Only files of the bundle are mapped: in Lambda's folder (`/var/task/`), in the bundle folder itself, or without a
 * folder; the Lambda runtime's own `/var/runtime/index.mjs` and Node's frames stay as they are.
 */
const LOCATION = /(?:file:\/\/)?((?:\/[^\s():]*)?\/)?([\w.-]+\.mjs):(\d+):(\d+)/g;

/** The trace with every location inside the bundle replaced by `source.ts:line:column` (and the original name). */
export function symbolicateTrace(trace: string, bundleDir: string, cwd: string = process.cwd()): string {
  const cache: MapCache = new Map();
  const bundleFolder = `${resolve(bundleDir)}/`;
  return trace.replace(LOCATION, (whole, folder: string | undefined, file: string, line: string, column: string) => {
    if (folder !== undefined && folder !== '/var/task/' && resolve(folder) !== resolve(bundleFolder)) return whole;
    const map = mapOf(bundleDir, file, cache);
    if (map === null) return whole;
    // the mapping at or before the position on the same generated line (as the source-map libraries answer it)
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!('originalSource' in entry) || entry.generatedLine !== Number(line) - 1) return whole;
    // sources are relative to the map's folder (the bundle folder); shown relative to where the command runs
    const source = relative(cwd, resolve(bundleDir, entry.originalSource.replace(/^file:\/\//, '')));
    // Node's entries carry the original name too (not in @types/node's SourceMapping)
    const original = (entry as { name?: string }).name;
    const name = original ? ` [${original}]` : '';
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${name}`;
  });
}

/** Plain text, a log line with `\n` escapes, or a JSON log record (its `stack` strings, wherever they are). */
export function tracesOf(input: string): string[] {
  const text = input.trim();
  if (text.startsWith('{')) {
    try {
      const stacks: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v !== null && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if (k === 'stack' && typeof x === 'string') stacks.push(x);
            else walk(x);
          }
        }
      };
      walk(JSON.parse(text));
      if (stacks.length > 0) return stacks;
    } catch {
      // not one JSON record: read it as text
    }
  }
  return [text.includes('\n') ? text : text.replace(/\\n/g, '\n')];
}

/** A bundle folder as given, or the asset folder of a function named in the synthesised templates of `cdkOut`. */
export function bundleFolder(arg: string, cdkOut: string): string {
  if (existsSync(join(arg, 'index.mjs'))) return arg;
  if (!existsSync(cdkOut)) {
    throw new Error(`${arg} is no bundle folder (no index.mjs) and ${cdkOut} does not exist: run npx cdk synth first`);
  }
  const found: string[] = [];
  for (const f of readdirSync(cdkOut).filter((n) => n.endsWith('.template.json'))) {
    const t = JSON.parse(readFileSync(join(cdkOut, f), 'utf8')) as {
      Resources?: Record<
        string,
        { Type?: string; Properties?: { FunctionName?: unknown }; Metadata?: Record<string, unknown> }
      >;
    };
    for (const r of Object.values(t.Resources ?? {})) {
      const fn = r.Properties?.FunctionName;
      const asset = r.Metadata?.['aws:asset:path'];
      if (r.Type !== 'AWS::Lambda::Function' || typeof fn !== 'string' || typeof asset !== 'string') continue;
      if (fn === arg || fn.endsWith(`-${arg}`)) found.push(join(cdkOut, asset));
    }
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new Error(`no function named ${arg} in the templates of ${cdkOut}`);
  throw new Error(`${arg} names ${found.length} functions in ${cdkOut} (one per stage): give the full function name`);
}

async function main(argv: readonly string[]): Promise<void> {
  const [target, file] = argv;
  if (target === undefined || target === '-h' || target === '--help') {
    process.stderr.write(
      'usage: node cdk/symbolicate.ts <bundle folder | function name> [trace file]   (the trace on stdin when no file)\n',
    );
    process.exitCode = target === undefined ? 2 : 0;
    return;
  }
  const dir = bundleFolder(target, process.env.CDK_OUT ?? 'cdk.out');
  let input: string;
  if (file !== undefined) input = readFileSync(file, 'utf8');
  else {
    if (process.stdin.isTTY) process.stderr.write(`paste the stack trace, then Ctrl-D (bundle: ${dir})\n`);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    input = Buffer.concat(chunks).toString('utf8');
  }
  process.stdout.write(
    `${tracesOf(input)
      .map((t) => symbolicateTrace(t, dir))
      .join('\n\n')}\n`,
  );
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`symbolicate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
