import type { ChildProcess } from 'node:child_process';
/**
 * The vitest hooks every real-server starter shares: start in `beforeAll`, stop in `afterAll`, and return a getter.
 * If the server fails to start: with `CI` set the hook fails (CI never skips); otherwise every test of the suite is
 * skipped with the reason (and a console warning).
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';

export function useServer<O, S extends { stop(): Promise<void> }>(
  label: string,
  start: (options: O) => Promise<S>,
  options: O | (() => O | Promise<O>),
): () => S {
  let server: S | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    try {
      server = await start(typeof options === 'function' ? await (options as () => O | Promise<O>)() : options);
    } catch (err) {
      if (process.env.CI) throw err;
      skipReason = `${label} did not start: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 400)}`;
      console.warn(`[${label}] integration tests SKIPPED: ${skipReason}`);
    }
  });
  beforeEach((ctx) => {
    if (skipReason !== undefined) ctx.skip(skipReason);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error(`${label} is not running (used outside a test?)`);
    return server;
  };
}

/** Stop a child process: SIGTERM, SIGKILL after `graceMs`, resolved once it has exited. A no-op when it already has. */
export async function terminate(proc: ChildProcess | undefined, graceMs = 3000): Promise<void> {
  if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
