/** What every benchmark shares: statistics, Markdown tables, and writing its own section of BENCHMARKS.md. */
import { readFileSync, writeFileSync } from 'node:fs';

export const BENCHMARKS_MD = new URL('../../BENCHMARKS.md', import.meta.url);

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * Replace the benchmark's own section (between `<!-- bench:<section>:start … -->` and `<!-- bench:<section>:end -->`)
 * in BENCHMARKS.md, or append it; text outside the markers is kept.
 */
export function writeBenchmarksSection(section: string, text: string, file: URL = BENCHMARKS_MD): void {
  let current: string;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current =
      '# Benchmarks\n\n' +
      'Each benchmark writes its own section between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` ' +
      'markers and replaces only that section when it runs again; text outside the markers is kept. Add a new ' +
      'benchmark as a new section with its own markers.\n';
  }
  const start = current.indexOf(`<!-- bench:${section}:start`);
  const endMarker = `<!-- bench:${section}:end -->`;
  const end = current.indexOf(endMarker);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${text}${current.slice(end + endMarker.length)}`
      : `${current.trimEnd()}\n\n${text}\n`;
  writeFileSync(file, next);
}

/** The Node options of a relaywatch executable's shebang line (bin/relaywatch.js: what the product runs with). */
export function productFlags(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  return (m?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
}
