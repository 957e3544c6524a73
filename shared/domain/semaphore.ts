/**
 * A small FIFO counting semaphore: at most `max` holders at once, waiters served in arrival order.
 *
 * Error contract: `acquire()` rejects only with `signal.reason` when the signal aborts while waiting (the waiter
 * leaves the queue and takes no slot). The release function is idempotent.
 */
export class Semaphore {
  readonly max: number;
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  /** @throws TypeError when `max` is not a positive integer. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`max must be a positive integer, got ${max}`);
    this.max = max;
  }

  /** Holders right now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot now, without waiting, or null when none is free (a hot path saves a promise per use). */
  tryAcquire(): (() => void) | null {
    if (this.active >= this.max) return null;
    this.active++;
    return this.releaser();
  }

  /** Wait for a slot; resolves with the function that gives it back. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.releaser());
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays the same.
      if (next) next();
      else this.active--;
    };
  }
}
