/**
 * A tiny seeded PRNG for the fuzz tests (mulberry32), with the few helpers the generators need.
 *
 * Reproducing a failure: every case runs from its own 32-bit seed, printed in the failure report. Re-run exactly that
 * case with `FUZZ_CASE=0x1234abcd npx vitest run test/unit/fuzz`, or a whole run with `FUZZ_SEED=0x…` (the base seed
 * is in the test names). `FUZZ_SEED=random` picks a fresh base seed; `FUZZ_SCALE=4` runs four times as many cases.
 */
import { randomInt } from 'node:crypto';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit integer hash (the lowbias32 finaliser), to derive independent case seeds from one base seed. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export function caseSeed(base: number, index: number): number {
  return mix32((base + Math.imul(index + 1, 0x9e3779b9)) >>> 0);
}

export function hex(seed: number): string {
  return `0x${(seed >>> 0).toString(16).padStart(8, '0')}`;
}

export class Rng {
  readonly seed: number;
  private readonly next: () => number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.next = mulberry32(this.seed);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Pick one of several generators by weight. */
  weighted<T>(options: ReadonlyArray<readonly [weight: number, make: () => T]>): T {
    const total = options.reduce((s, [w]) => s + w, 0);
    let x = this.next() * total;
    for (const [w, make] of options) {
      if (x < w) return make();
      x -= w;
    }
    return options[options.length - 1]![1]();
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** The run's base seed and case count from the environment (see the module comment). */
export function fuzzSettings(defaultSeed: number): { base: number; scale: number; only: number | null } {
  const raw = process.env.FUZZ_SEED;
  const base = raw === 'random' ? randomInt(0, 2 ** 32) : raw ? Number(raw) >>> 0 : defaultSeed;
  const scale = Number(process.env.FUZZ_SCALE ?? '1') || 1;
  const only = process.env.FUZZ_CASE ? Number(process.env.FUZZ_CASE) >>> 0 : null;
  return { base, scale, only };
}
