/**
 * A reader that closes the pipe early (`relaywatch --help | head -1`) gets no stack trace from relaywatch: the rest of
 * the output is dropped and the command ends as it would have (shared/cli/main.ts `ignoreClosedPipe`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/relaywatch.js', import.meta.url));

function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The read end closes before the command writes anything: its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('relaywatch with its output pipe closed by the reader', () => {
  it('--help ends with exit status 0 and nothing on stderr', async () => {
    const r = await runWithClosedStdout(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a command that writes a report to stdout ends with the exit status it has with the pipe open', async () => {
    const EXAMPLE = fileURLToPath(new URL('../../examples/relaywatch.yaml', import.meta.url));
    const args = ['config', 'validate', '--config', EXAMPLE];
    const open = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.resume();
      child.on('error', reject);
      child.on('close', resolve);
    });
    const closed = await runWithClosedStdout(args);
    expect(closed.stderr).toBe('');
    expect(closed.code).toBe(open);
  });
});
