/**
 * The V8 flags relaywatch runs with are in bin/relaywatch.js's shebang (the memory bounds of BENCHMARKS.md, "CLI
 * memory"); the npm scripts that start the CLI must pass the same ones, or `npm start` and `npm run relaywatch` would
 * run without the bounds the benchmarks measured.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { productFlags } from '../../bench/report.ts';

const BIN = new URL('../../../bin/relaywatch.js', import.meta.url).pathname;
const scripts = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

describe('the Node flags of the relaywatch command', () => {
  it('the shebang carries both memory bounds', () => {
    expect(productFlags(BIN)).toEqual(['--max-semi-space-size=16', '--heap-growing-percent=50']);
  });

  it.each(['start', 'relaywatch'])('npm run %s passes the same flags to node', (name) => {
    const m = /^node ((?:--\S+ )*)bin\/relaywatch\.js\b/.exec(scripts[name] ?? '');
    expect(m, scripts[name]).not.toBeNull();
    expect((m?.[1] ?? '').trim().split(' ')).toEqual(productFlags(BIN));
  });
});
