/** What the CLI's commands share: the I/O they write to, option builders, and small helpers. */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { makeSpfEvaluator } from '../adapters/spf/mailauth-spf.ts';
import type { CheckContext } from '../checks/types.ts';
import type { DnsResolver, DnsStats } from '../ports/dns-resolver.ts';
import type { JsonBlocklists } from './json.ts';
import type { RenderOptions } from './render.ts';
import { UsageError } from './wiring.ts';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
}

export function dnsOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--dns <spec>',
        'resolver to ask: doh:https://host/dns-query or udp://host[:port]; repeat for failover (default: the config, else Cloudflare and Google DoH)',
      )
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
        .default(undefined),
    )
    .option('--dns-timeout <ms>', 'per-query timeout in milliseconds', (v) => positiveInt(v, '--dns-timeout'))
    .option('--dns-ca <file>', 'PEM file of the CA that signed a private DoH endpoint');
}

export function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

export function renderOptions(io: CliIo, opts: { color?: boolean; verbose?: boolean }): RenderOptions {
  // commander sets `color: true` unless --no-color is given, so `false` is the only value that says anything.
  const color = opts.color !== false && Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
  return { color, verbose: Boolean(opts.verbose) };
}

/** A note for the report when no DNS answer came back at all: the resolvers are unreachable, say so plainly. */
export function dnsNotes(stats: DnsStats, resolvers: string): string[] {
  const answered = stats.byKind.answer + stats.byKind.nodata + stats.byKind.nxdomain;
  if (stats.questions > 0 && answered === 0) {
    return [
      `no DNS resolver answered (${resolvers}); every verdict below is unknown. Check outbound access to the resolvers or choose reachable ones with --dns (e.g. --dns udp://<your resolver>).`,
    ];
  }
  return [];
}

export function zoneOption(): Option {
  return new Option(
    '--zone <zone>',
    'blocklist to ask (repeatable): a registry id (spamcop), a zone name (bl.spamcop.net) or your own zone (RFC 5782 semantics); default: the config, else every zone on by default',
  ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

export function blocklistDnsOption(): Option {
  return new Option(
    '--blocklist-dns <spec>',
    'resolver for blocklist queries (repeatable), e.g. a private udp://… resolver that the lists accept; default: blocklists.resolvers, else the --dns resolvers',
  ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

/** One line per zone that could not be used in this run, so a report never hides why IPs are unknown. */
export function healthNotes(b: JsonBlocklists | null): string[] {
  if (!b) return [];
  return b.health
    .filter((h) => h.status !== 'usable')
    .map(
      (h) => `blocklist ${h.zoneId} (${h.zone}): ${h.status === 'not-checked' ? h.reason : `unusable: ${h.reason}`}`,
    );
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text);
}

export function makeCtx(resolver: DnsResolver): CheckContext {
  return { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => performance.now() };
}

export function validDomainOrThrow(input: string): string {
  const d = input.trim().toLowerCase().replace(/\.$/, '');
  const ok = d.length <= 253 && d.includes('.') && d.split('.').every((l) => /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l));
  if (!ok) throw new UsageError(`${JSON.stringify(input)} is not a valid domain name`);
  return d;
}

export function selectTenants<T extends { id: string }>(all: readonly T[], wanted: readonly string[] | undefined): T[] {
  if (!wanted || wanted.length === 0) return [...all];
  const unknown = wanted.filter((id) => !all.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown tenant ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the config has: ${all.map((t) => t.id).join(', ')}`,
    );
  }
  return all.filter((t) => wanted.includes(t.id));
}

// Config loading is imported lazily so `spf`/`mx` work without touching the config module.
export async function loadConfigOrExit(path: string, env: NodeJS.ProcessEnv) {
  const { loadForCli } = await import('./config-bridge.ts');
  return loadForCli(path, env);
}

/**
 * A `--ca`-style option: the PEM file's text, or undefined when the option is not given. A file that cannot be read,
 * or holds no certificate, is a usage error naming the option and the path (not a TLS failure later on).
 */
export async function readCaOption(path: string | undefined, flag: string): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`${flag} ${JSON.stringify(path)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return text;
}
