import { describe, expect, it } from 'vitest';
import { nextDelayMs, runSchedule } from '../../shared/agent/schedule.ts';

/** A deterministic random sequence (cycled). */
function sequence(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe('runSchedule', () => {
  it('runs the task once and returns', async () => {
    let runs = 0;
    const sleeps: number[] = [];
    const summary = await runSchedule({
      intervalMs: 1000,
      jitterMs: 100,
      once: true,
      task: async () => {
        runs++;
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(runs).toBe(1);
    expect(sleeps).toEqual([]);
    expect(summary).toEqual({ runs: 1, failures: 0, aborted: false });
  });

  it('reports a failing single run to onError and counts it', async () => {
    const errors: unknown[] = [];
    const summary = await runSchedule({
      intervalMs: 1000,
      jitterMs: 0,
      once: true,
      task: async () => {
        throw new Error('probe broke');
      },
      onError: (err) => errors.push(err),
    });
    expect(summary).toEqual({ runs: 1, failures: 1, aborted: false });
    expect(errors).toHaveLength(1);
  });

  it('waits interval ± jitter between runs and stops on abort', async () => {
    const controller = new AbortController();
    const sleeps: number[] = [];
    let runs = 0;
    const summary = await runSchedule({
      intervalMs: 60_000,
      jitterMs: 5_000,
      once: false,
      signal: controller.signal,
      random: sequence([0, 0.5, 0.999_999, 0.25, 0.75]),
      task: async () => {
        runs++;
        if (runs === 6) controller.abort();
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(runs).toBe(6);
    expect(summary).toEqual({ runs: 6, failures: 0, aborted: true });
    expect(sleeps).toEqual([55_000, 60_000, 65_000, 57_500, 62_500]);
    for (const s of sleeps) {
      expect(s).toBeGreaterThanOrEqual(55_000);
      expect(s).toBeLessThanOrEqual(65_000);
    }
  });

  it('keeps every delay within the jitter bounds for many random draws', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 1000; i++) {
      const d = nextDelayMs(10_000, 2_000, random);
      expect(d).toBeGreaterThanOrEqual(8_000);
      expect(d).toBeLessThanOrEqual(12_000);
    }
    expect(nextDelayMs(100, 100, () => 0)).toBe(0);
  });

  it('stops promptly when aborted during the wait, with the real sleep', async () => {
    const controller = new AbortController();
    let runs = 0;
    const started = Date.now();
    const done = runSchedule({
      intervalMs: 60_000,
      jitterMs: 0,
      once: false,
      signal: controller.signal,
      task: async () => {
        runs++;
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await done).toEqual({ runs: 1, failures: 0, aborted: true });
    expect(runs).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not start when already aborted, and hands the signal to the task', async () => {
    const controller = new AbortController();
    controller.abort();
    let runs = 0;
    const summary = await runSchedule({
      intervalMs: 1000,
      jitterMs: 0,
      once: false,
      signal: controller.signal,
      task: async () => {
        runs++;
      },
    });
    expect(summary).toEqual({ runs: 0, failures: 0, aborted: true });
    expect(runs).toBe(0);

    const live = new AbortController();
    let seen: AbortSignal | undefined;
    await runSchedule({
      intervalMs: 1000,
      jitterMs: 0,
      once: true,
      signal: live.signal,
      task: async (signal) => {
        seen = signal;
      },
    });
    expect(seen).toBe(live.signal);
  });

  it('logs a failing run through onError and carries on', async () => {
    const controller = new AbortController();
    const errors: Array<[unknown, number]> = [];
    let runs = 0;
    const summary = await runSchedule({
      intervalMs: 1000,
      jitterMs: 0,
      once: false,
      signal: controller.signal,
      task: async () => {
        runs++;
        if (runs === 4) controller.abort();
        if (runs % 2 === 1) throw new Error(`run ${runs} broke`);
      },
      sleep: async () => {},
      onError: (err, run) => {
        errors.push([err, run]);
        if (run === 3) throw new Error('the logger broke too');
      },
    });
    expect(summary).toEqual({ runs: 4, failures: 2, aborted: true });
    expect(errors.map(([e, run]) => [(e as Error).message, run])).toEqual([
      ['run 1 broke', 1],
      ['run 3 broke', 3],
    ]);
  });

  it('rejects invalid options', async () => {
    const task = async () => {};
    await expect(runSchedule({ intervalMs: 0, jitterMs: 0, once: false, task })).rejects.toThrow(RangeError);
    await expect(runSchedule({ intervalMs: 100, jitterMs: 200, once: false, task })).rejects.toThrow(RangeError);
    await expect(runSchedule({ intervalMs: 100, jitterMs: -1, once: false, task })).rejects.toThrow(RangeError);
  });
});
