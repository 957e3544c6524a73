/**
 * What a container pays to read a new configuration document: the YAML loader (`parseConfig`, what the functions
 * ran before `config push` uploaded JSON; the CLI still does for the YAML file) against the JSON reader
 * (`parseConfigJson`), on the 500-tenant synthetic MSP of the handler bench (test/bench/synthetic-msp.ts), in the
 * same form as that bench writes it.
 *
 * CPU time of this thread (user + system, `process.threadCpuUsage`), not wall time: the machine is shared and the
 * parse is synchronous. Warm: after 5 runs, the median of 15 samples (see `warm`). Cold: the first parse in a fresh
 * Node process (the readers' modules imported, nothing parsed yet but the blocklist registry, which from the sources
 * is zones.yaml: the YAML parser is not quite cold), the median of 5 processes. Not part of `npm run bench`:
 * `node test/bench/config-parse.ts [tenants]`.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJson, parseConfigJson } from '../../shared/config/document.ts';
import { parseConfig, readConfigDocument } from '../../shared/config/load.ts';
import { readYaml } from '../../shared/config/yaml-source.ts';
import { benchConfigYaml, type SyntheticMsp, syntheticMsp } from './synthetic-msp.ts';

const SELF = fileURLToPath(import.meta.url);

/** The same document in block style, as examples/relaywatch.yaml is written (one key per line). */
function blockYaml(msp: SyntheticMsp): string {
  const head = benchConfigYaml({ ...msp, tenants: [] }, 5353, 64).replace(/tenants:\n$/, 'tenants:\n');
  const tenants = msp.tenants
    .map(
      (t) =>
        `  - id: ${t.id}\n    name: ${JSON.stringify(t.name)}\n    domains:\n${t.domains.map((d) => `      - ${d.name}\n`).join('')}` +
        `    relayIps:\n${t.relayIps.map((ip) => `      - ${ip}\n`).join('')}`,
    )
    .join('');
  return head + tenants;
}

function cpuMs(fn: () => unknown): number {
  const t0 = process.threadCpuUsage();
  fn();
  const t = process.threadCpuUsage(t0);
  return (t.user + t.system) / 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/**
 * Warm CPU time of one run: after 5 runs, 15 samples, each the CPU time of as many runs as take about 50 ms divided
 * by their number (the kernel accounts CPU time in ticks of a few ms, too coarse for one JSON.parse).
 */
function warm(fn: () => unknown): { median: number; min: number; max: number } {
  for (let i = 0; i < 5; i++) fn();
  let k = 1;
  for (let t = cpuMs(fn); t < 50; t = cpuMs(() => repeat(fn, k))) k *= 2;
  const times = Array.from({ length: 15 }, () => cpuMs(() => repeat(fn, k)) / k);
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

function repeat(fn: () => unknown, k: number): void {
  for (let i = 0; i < k; i++) fn();
}

interface Documents {
  readonly yaml: string;
  readonly block: string;
  readonly json: string;
}

function documents(tenants: number): Documents {
  const msp = syntheticMsp({ tenants, domainsPerTenant: 2, vendors: 30 });
  const yaml = benchConfigYaml(msp, 5353, 64);
  return { yaml, block: blockYaml(msp), json: configJson(readConfigDocument(yaml, 'bench.yaml').document) };
}

type Reader = 'yaml' | 'block' | 'json';

function read(reader: Reader, docs: Documents): unknown {
  if (reader === 'json') return parseConfigJson(docs.json, 'bench.json');
  return parseConfig(reader === 'yaml' ? docs.yaml : docs.block, 'bench.yaml');
}

/** A child: one first parse of the documents the parent wrote (nothing parsed before it), its CPU time over IPC. */
function child(reader: Reader, file: string): void {
  const docs = JSON.parse(readFileSync(file, 'utf8')) as Documents;
  const ms = cpuMs(() => read(reader, docs));
  process.send?.({ ms });
}

function cold(reader: Reader, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = fork(SELF, ['--child', reader, file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let ms: number | undefined;
    c.on('message', (m: { ms: number }) => {
      ms = m.ms;
    });
    c.on('error', reject);
    c.on('exit', (code) => (ms === undefined ? reject(new Error(`child exited ${code}`)) : resolve(ms)));
  });
}

const fmt = (n: number) => (n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));

async function main(): Promise<void> {
  const tenants = Number(process.argv[2] ?? 500);
  const docs = documents(tenants);
  const check = parseConfigJson(docs.json, 'bench.json').config;
  if (check.tenants.length !== tenants) throw new Error('the JSON document does not hold every tenant');
  const load0 = os.loadavg();
  const kb = (s: string) => `${fmt(Buffer.byteLength(s) / 1024)} KB`;
  console.log(
    `config-parse: ${tenants} tenants; YAML as the handler bench writes it ${kb(docs.yaml)}, in block style ` +
      `${kb(docs.block)}, as config push uploads it (compact JSON) ${kb(docs.json)}; load average before ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const rows: [string, ReturnType<typeof warm>][] = [
    ['YAML parseConfig (bench form)', warm(() => read('yaml', docs))],
    ['YAML parseConfig (block style)', warm(() => read('block', docs))],
    ['  of which readYaml (bench form)', warm(() => readYaml(docs.yaml))],
    ['JSON parseConfigJson', warm(() => read('json', docs))],
    ['  of which JSON.parse', warm(() => JSON.parse(docs.json))],
  ];
  console.log('\nwarm (CPU ms of one run, median of 15 samples after 5 runs, min–max):');
  for (const [name, r] of rows) console.log(`  ${name.padEnd(34)} ${fmt(r.median)} ms (${fmt(r.min)}–${fmt(r.max)})`);
  console.log('\ncold (CPU ms of the first parse in a fresh process, median of 5, min–max):');
  const dir = mkdtempSync(join(os.tmpdir(), 'rw-config-parse-'));
  const file = join(dir, 'documents.json');
  writeFileSync(file, JSON.stringify(docs));
  for (const reader of ['yaml', 'block', 'json'] as const) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await cold(reader, file));
    const name = {
      yaml: 'YAML parseConfig (bench form)',
      block: 'YAML parseConfig (block style)',
      json: 'JSON parseConfigJson',
    }[reader];
    console.log(
      `  ${name.padEnd(34)} ${fmt(median(times))} ms (${fmt(Math.min(...times))}–${fmt(Math.max(...times))})`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  const warmYaml = rows[0]?.[1].median ?? Number.NaN;
  const warmJson = rows[3]?.[1].median ?? Number.NaN;
  console.log(
    `\nJSON / YAML warm: ${(warmJson / warmYaml).toFixed(2)}×; load average after ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${os.cpus().length} cores, Node ${process.version}`,
  );
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as Reader, String(process.argv[4]));
} else {
  await main();
}
