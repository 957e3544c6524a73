/** `relaywatch demo`: the product working end to end against a simulated Internet on 127.0.0.1 (what `npm start` runs). */
import type { Command } from 'commander';
import { type CliIo, write } from '../common.ts';
import { DEFAULT_DEMO_DIR, DemoSetupError, runDemo } from '../demo.ts';
import { UsageError } from '../wiring.ts';

export function registerDemo(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description('watch relaywatch find, alert and resolve a listing, against a simulated Internet on 127.0.0.1')
    .option(
      '--dir <folder>',
      'the demo folder: its config, store and alert files (emptied on every run)',
      DEFAULT_DEMO_DIR,
    )
    .addHelpText(
      'after',
      `
The demo starts, on 127.0.0.1 and only while it runs, an authoritative DNS server (the SPF and
MX records examples/relaywatch.yaml describes, and a demo DNS blocklist) and an SMTP endpoint
that answers as Exchange Online does. It writes the example configuration pointed at them (with
a file alert route and its own SQLite store) into --dir, then runs the real commands on a
simulated clock: day 1 healthy, day 2 Contoso's IP is listed (an incident opens, one alert is
written, the relay probe gets 550 5.7.606 and the Microsoft delisting request is prepared),
day 3 the listing is gone (RESOLVED). Nothing leaves the machine; your own state is not touched
(--dir must be empty or a demo folder). Exit status: 0 the demo behaved as designed, 3 it did not
(the message says what differed) or it could not start.

Examples:
  $ relaywatch demo
  $ npm start                                  # the same
  $ relaywatch demo --dir /tmp/relaywatch-demo`,
    )
    .action(async (opts: { dir: string }) => {
      try {
        const result = await runDemo({ dir: opts.dir, out: (t) => write(io.stdout, t) });
        setExit(result.ok ? 0 : 3);
      } catch (err) {
        if (err instanceof DemoSetupError) throw new UsageError(`demo: ${err.message}`);
        throw err;
      }
    });
}
