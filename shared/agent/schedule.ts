/**
 * The site agent's loop: run a task once, or forever with `intervalMs ± jitterMs` (uniform) between the end of one
 * run and the start of the next (runs never overlap; the jitter spreads many sites' agents over time).
 *
 * Stopping: aborting `signal` (the CLI wires SIGINT/SIGTERM to it) ends the wait at once and no further run starts;
 * a run in progress gets the signal as its argument and is awaited.
 *
 * Error contract: a task that throws (or rejects) is reported to `onError` and the loop goes on; `runSchedule` itself
 * rejects only for invalid options (RangeError) and never because of the task or the abort.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface ScheduleOptions {
  /** Mean gap between runs in ms (> 0). */
  readonly intervalMs: number;
  /** Largest deviation from `intervalMs` each way, in ms (0 ≤ jitterMs ≤ intervalMs). */
  readonly jitterMs: number;
  /** Run the task once and return. */
  readonly once: boolean;
  readonly task: (signal?: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
  /** Wait `ms`; should end early (resolve or reject) when `signal` aborts. Default: a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** A run failed. Default: one line on stderr. */
  readonly onError?: (err: unknown, run: number) => void;
}

export interface ScheduleSummary {
  /** Runs started. */
  readonly runs: number;
  /** Runs that threw. */
  readonly failures: number;
  /** The loop ended because `signal` aborted. */
  readonly aborted: boolean;
}

/** The gap before the next run: `intervalMs + (2·random() − 1)·jitterMs`, never negative. */
export function nextDelayMs(intervalMs: number, jitterMs: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(intervalMs + (2 * r - 1) * jitterMs));
}

export async function runSchedule(options: ScheduleOptions): Promise<ScheduleSummary> {
  const { intervalMs, jitterMs, signal } = options;
  if (!options.once) {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new RangeError('intervalMs must be a positive number');
    if (!(jitterMs >= 0) || jitterMs > intervalMs) throw new RangeError('jitterMs must be between 0 and intervalMs');
  }
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const onError = options.onError ?? defaultOnError;
  let runs = 0;
  let failures = 0;
  for (;;) {
    if (signal?.aborted) return { runs, failures, aborted: true };
    runs++;
    try {
      await options.task(signal);
    } catch (err) {
      failures++;
      try {
        onError(err, runs);
      } catch {
        // a broken logger must not stop the agent
      }
    }
    if (options.once) return { runs, failures, aborted: false };
    if (signal?.aborted) return { runs, failures, aborted: true };
    try {
      await sleep(nextDelayMs(intervalMs, jitterMs, random), signal);
    } catch {
      // an aborted sleep rejects: the check at the top of the loop ends it
    }
  }
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : {});
}

function defaultOnError(err: unknown, run: number): void {
  const text = err instanceof Error ? err.message : String(err);
  console.error(`relaywatch agent: run ${run} failed: ${text.replace(/[\p{Cc}]+/gu, ' ').slice(0, 500)}`);
}
