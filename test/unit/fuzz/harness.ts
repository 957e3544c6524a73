/** Runs seeded fuzz cases in batches and turns their failures into a report that says how to reproduce each one. */
import { caseSeed, hex } from '../../support/prng.ts';

export interface CaseResult {
  readonly problems: readonly string[];
  /** What the case was (zone, record…), built only when it failed. */
  readonly context: () => string;
}

export interface CaseFailure {
  readonly seed: number;
  readonly problems: readonly string[];
  readonly context: string;
}

/** The case seeds of batch `batch` (or just the one from FUZZ_CASE). */
export function batchSeeds(base: number, batch: number, size: number, total: number, only: number | null): number[] {
  if (only !== null) return batch === 0 ? [only] : [];
  const out: number[] = [];
  for (let i = batch * size; i < Math.min(total, (batch + 1) * size); i++) out.push(caseSeed(base, i));
  return out;
}

export async function runCases(
  seeds: readonly number[],
  run: (seed: number) => Promise<CaseResult>,
): Promise<CaseFailure[]> {
  const failures: CaseFailure[] = [];
  for (const seed of seeds) {
    let result: CaseResult;
    try {
      result = await run(seed);
    } catch (e) {
      failures.push({
        seed,
        problems: [`the case itself threw: ${e instanceof Error ? e.stack : String(e)}`],
        context: '',
      });
      continue;
    }
    if (result.problems.length > 0) failures.push({ seed, problems: result.problems, context: result.context() });
  }
  return failures;
}

/** A readable report: the distinct problems first, then up to `max` cases with their seed and input. */
export function formatFailures(failures: readonly CaseFailure[], file: string, max = 6): string {
  const kinds = new Map<string, number>();
  for (const f of failures) {
    for (const p of new Set(f.problems.map((x) => x.replace(/\d+/g, 'N').slice(0, 90)))) {
      kinds.set(p, (kinds.get(p) ?? 0) + 1);
    }
  }
  const lines = [`${failures.length} failing case(s). Problem kinds:`];
  for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1])) lines.push(`  ${n} × ${k}`);
  for (const f of failures.slice(0, max)) {
    lines.push('', `— case ${hex(f.seed)} (reproduce: FUZZ_CASE=${hex(f.seed)} npx vitest run ${file})`);
    for (const p of f.problems.slice(0, 8)) lines.push(`  ✗ ${p}`);
    if (f.context) lines.push(f.context.length > 4000 ? `${f.context.slice(0, 4000)}\n  …` : f.context);
  }
  return lines.join('\n');
}
