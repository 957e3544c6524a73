/**
 * The `relaywatch` command line: the composition root of the local product. It picks adapters, runs use cases and
 * prints; everything it calls is tested on its own. Exit status follows the monitoring-plugin convention:
 * 0 all pass, 1 any warn, 2 any fail, 3 unknown or a usage/configuration error.
 */
import { Command, CommanderError } from 'commander';
import { registerAgent } from './commands/agent.ts';
import { registerBlocklist } from './commands/blocklist.ts';
import { registerCheck } from './commands/check.ts';

import { registerConfig } from './commands/config.ts';
import { registerConfirm } from './commands/confirm.ts';

import { registerDelist } from './commands/delist.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDigest } from './commands/digest.ts';
import { registerHistory } from './commands/history.ts';
import { registerIncidents } from './commands/incidents.ts';
import { registerMx } from './commands/mx.ts';
import { registerNotify } from './commands/notify.ts';
import { registerProbe } from './commands/probe.ts';
import { registerSpf } from './commands/spf.ts';
import { registerStatus } from './commands/status.ts';
import { registerTenants } from './commands/tenants.ts';
import { type CliIo, write } from './common.ts';
import { UsageError } from './wiring.ts';

export type { CliIo } from './common.ts';

const EXAMPLES = `
Examples:
  $ relaywatch demo                                          # see it work, offline, in seconds
  $ relaywatch check --config examples/relaywatch.yaml
  $ relaywatch check --tenant contoso --json > report.json
  $ relaywatch spf contoso.com --ip 203.0.113.10
  $ relaywatch mx contoso.com
  $ relaywatch blocklist 203.0.113.10 --blocklist-dns udp://192.0.2.53
  $ relaywatch check --dns udp://127.0.0.1:5353              # your own resolver
  $ relaywatch check --dns doh:https://dns.example/dns-query --dns-ca ca.pem

Exit status: 0 all pass, 1 any warn, 2 any fail, 3 unknown (a check could not decide,
e.g. DNS unreachable) or a usage/configuration error. Documentation: README.md and docs/ (docs/cli.md for every command).`;

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('relaywatch')
    .description(
      'Watch how customers’ printers, scanners and apps send mail through Microsoft 365: SPF and MX health for every tenant and domain, and DNS blocklists for every sending IP.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => write(io.stdout, s), writeErr: (s) => write(io.stderr, s) })
    .addHelpText('after', EXAMPLES)
    // Options belong to the command they follow (`incidents ack <id> --config F` is ack's --config, not incidents').
    .enablePositionalOptions()
    .exitOverride();

  registerCheck(program, io, setExit);
  registerSpf(program, io, setExit);
  registerBlocklist(program, io, setExit);
  registerMx(program, io, setExit);
  registerDelist(program, io, setExit);
  registerProbe(program, io, setExit);
  registerAgent(program, io, setExit);
  registerStatus(program, io, setExit);
  registerIncidents(program, io, setExit);
  registerHistory(program, io, setExit);
  registerNotify(program, io, setExit);
  registerConfig(program, io, setExit);
  registerTenants(program, io, setExit);
  registerConfirm(program, io, setExit);
  registerDemo(program, io, setExit);
  registerDigest(program, io, setExit);
  return program;
}

/** Run the CLI; resolves to the exit status. Never calls process.exit itself (tests call it in-process). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exit = 0;
  const program = buildProgram(io, (c) => {
    exit = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return 0;
      }
      return 3;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`relaywatch: ${err.message}\n`);
      return 3;
    }
    if (err instanceof Error && err.name === 'DelistInputError') {
      io.stderr.write(`relaywatch: ${err.message}\n`);
      return 3;
    }
    if (err instanceof Error && err.name === 'ConfigError') {
      io.stderr.write(`${err.message}\n`);
      return 3;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr.write(`relaywatch: unexpected error (please report it): ${message}\n`);
    return 3;
  }
}

/** Entry point for bin/relaywatch.js. */
/**
 * A reader that closed the pipe (`relaywatch --help | head`, `relaywatch history … | less` quit early) is not an
 * error of the command: the rest of its output is dropped and the command finishes (a `check` still records its
 * results and sends its alerts), instead of Node's unhandled-EPIPE stack trace.
 */
export function ignoreClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

export async function main(): Promise<void> {
  ignoreClosedPipe(process.stdout);
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
  });
  process.exitCode = code;
}
