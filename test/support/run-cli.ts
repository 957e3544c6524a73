/**
 * The `relaywatch` command in-process (runCli) with stdout and stderr captured, for the CLI's integration tests.
 * `now` defaults to the real clock (the state stage compares times across runs); pass a fixed one for reports.
 */
import { PassThrough } from 'node:stream';
import { runCli } from '../../shared/cli/main.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCliCaptured(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  now: () => Date = () => new Date(),
): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c) => {
    stdout += String(c);
  });
  err.on('data', (c) => {
    stderr += String(c);
  });
  const code = await runCli(args, { stdout: out, stderr: err, env, now });
  return { code, stdout, stderr };
}

/** The date the report tests pin (it appears in the Basic-auth countdown). */
export const FIXED_NOW = (): Date => new Date('2026-11-27T18:00:00Z');
