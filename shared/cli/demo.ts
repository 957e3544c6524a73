/**
 * `relaywatch demo`: the product's real monitoring cycle against a small simulated Internet on 127.0.0.1, over three
 * simulated days. Nothing inside the product is replaced: the demo starts an authoritative DNS server (the example's
 * SPF and MX records and a demo blocklist, shared/demo/) and a scripted Exchange Online SMTP endpoint, writes
 * `examples/relaywatch.yaml` pointed at them (plus a `file` alert route and the demo's own SQLite store) into the demo
 * folder, and then runs the CLI's own commands in-process (`check`, `probe relay`, `delist`) through `runCli` with
 * a simulated clock: the same pipeline, config loader, DNS adapters, store, incident policy and notifiers as
 * `relaywatch check` on a real config. Afterwards it checks that what happened is what the story says (verdicts,
 * incidents, alert files), prints a summary, and stops every server it started.
 *
 * The demo folder (default `.relaywatch/demo/`) is the demo's alone: it is emptied at the start of every run, and a
 * folder that is not empty and was not made by the demo is refused, so the demo never touches a real state file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ZONES } from '../blocklist/registry.ts';
import { type RunningDnsServer, startDnsServer } from '../demo/dns-server.ts';
import { type RunningSmtpResponder, startSmtpResponder } from '../demo/smtp-responder.ts';
import {
  BANNED_IP_REPLY,
  DEMO_DNSBL,
  DEMO_DNSBL_ZONE,
  type DemoPhase,
  LISTED_IP,
  recordsFor,
  SERVED_ZONES,
} from '../demo/world.ts';
import type { CheckStatus } from '../domain/outcome.ts';
import type { CliIo } from './common.ts';
import type { CheckDocument } from './json.ts';
import type { ProbeDocument } from './probe-render.ts';
import { clean } from './render.ts';
import type { StateDocument } from './state-stage.ts';

/** The marker that makes a folder the demo's (and so safe to empty). */
export const DEMO_MARKER = '.relaywatch-demo';
export const DEMO_ROUTE = 'demo-drop';
export const DEFAULT_DEMO_DIR = '.relaywatch/demo';

export interface DemoCycle {
  readonly label: string;
  /** Offset from the demo's first day, 09:00 UTC, in hours. */
  readonly atHours: number;
  readonly phase: DemoPhase;
  /** Also run the Contoso site's relay probe (as the site agent would) in this cycle. */
  readonly relayProbe: boolean;
  readonly note: string;
}

export const DEMO_CYCLES: readonly DemoCycle[] = [
  { label: 'Day 1, 09:00', atHours: 0, phase: 'healthy', relayProbe: true, note: 'a normal morning' },
  {
    label: 'Day 2, 09:00',
    atHours: 24,
    phase: 'listed',
    relayProbe: true,
    note: `${LISTED_IP} (Contoso's scanner room) is now on the demo blocklist and on Microsoft's own list`,
  },
  { label: 'Day 2, 15:00', atHours: 30, phase: 'listed', relayProbe: false, note: 'still listed, six hours later' },
  {
    label: 'Day 3, 09:00',
    atHours: 48,
    phase: 'removed',
    relayProbe: true,
    note: 'the infected PC was cleaned and the listing removed',
  },
];

/** Monday 1 June 2026, 09:00 UTC: a fixed start, so every run of the demo tells the same story with the same dates. */
export const DEMO_START = Date.UTC(2026, 5, 1, 9, 0, 0);
/** The ISO week of the demo's three days (Monday 2026-06-01 to Sunday 2026-06-07). */
export const DEMO_WEEK = '2026-W23';

/** What `check --json` prints: the report, the state stage, and why the results were not recorded when they were not. */
export type Doc = CheckDocument & { readonly state: StateDocument | null; readonly stateError?: string };

export interface DemoOptions {
  /** The demo folder (created; emptied when it is the demo's). */
  readonly dir: string;
  /** The example configuration the demo derives its own from. */
  readonly exampleConfig?: string;
  /** Colours etc. are not used: the demo output is plain text. */
  readonly out: (text: string) => void;
}

export interface DemoResult {
  readonly ok: boolean;
  /** What differed from the story, when not ok. */
  readonly problems: readonly string[];
  readonly dir: string;
  readonly configPath: string;
  readonly alertDir: string;
  readonly alertFiles: readonly string[];
  readonly delistFile: string | null;
  /** The week's digest (HTML, with its plain-text part beside it) and the report page, written after the cycles. */
  readonly digestFile: string;
  readonly reportFile: string;
  /** The loopback ports the demo listened on (all closed when `runDemo` returns). */
  readonly ports: { readonly dns: number; readonly smtp: number };
  readonly cycles: ReadonlyArray<{
    readonly label: string;
    readonly check: Doc;
    readonly probe: ProbeDocument | null;
  }>;
}

export class DemoSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoSetupError';
  }
}

/** examples/relaywatch.yaml beside the sources (a checkout) or beside the compiled build (an installed package). */
export function findExampleConfig(): string {
  const candidates = ['../../examples/relaywatch.yaml', '../../../examples/relaywatch.yaml'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new DemoSetupError(`examples/relaywatch.yaml not found (looked at ${candidates.join(', ')})`);
  return found;
}

/** Make the folder the demo's: create it, or empty it when the demo made it; refuse anything else. */
async function claimDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DemoSetupError(`cannot read ${dir}: ${err}`);
    entries = [];
  }
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new DemoSetupError(
      `${dir} is not empty and was not made by relaywatch demo (no ${DEMO_MARKER} file in it): choose another folder with --dir`,
    );
  }
  for (const e of entries) await rm(join(dir, e), { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, DEMO_MARKER),
    'This folder belongs to `relaywatch demo`, which empties it at the start of every run.\n',
  );
}

/** The example configuration, pointed at the simulated Internet, with a file route and the demo's store. */
export async function demoConfigText(
  examplePath: string,
  dir: string,
  dnsSpec: string,
  smtp: { host: string; port: number },
): Promise<string> {
  const doc = parseDocument(await readFile(examplePath, 'utf8'));
  if (doc.errors.length > 0) throw new DemoSetupError(`${examplePath}: ${doc.errors[0]?.message}`);
  doc.commentBefore = [
    " Written by `relaywatch demo` from examples/relaywatch.yaml: the same tenants, pointed at the demo's",
    ` simulated Internet on 127.0.0.1 (DNS ${dnsSpec}, the Contoso MX endpoint at ${smtp.host}:${smtp.port}),`,
    ` with a file alert route and the demo's own store. The ports change on every run; the servers stop when the`,
    ' demo ends. Your own configuration starts from examples/relaywatch.yaml, not from this file.',
  ].join('\n');
  doc.set('dns', { resolvers: [dnsSpec], timeoutMs: 1500, concurrency: 32 });
  const { sources: _sources, ...zone } = DEMO_DNSBL;
  doc.set('blocklists', {
    resolvers: [dnsSpec],
    zones: { disable: ZONES.filter((z) => z.defaultEnabled).map((z) => z.id) },
    custom: [zone],
  });
  doc.set('state', { store: `sqlite:${join(dir, 'state.db')}` });
  doc.set('alerts', {
    routes: [{ id: DEMO_ROUTE, minSeverity: 'info', file: { dir: 'alerts' } }],
    default: [DEMO_ROUTE],
  });
  return doc.toString({ lineWidth: 0 });
}

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: readonly string[], now: () => Date): Promise<Captured> {
  const { runCli } = await import('./main.ts');
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
  // An empty environment: nothing of the user's (secrets files, AWS settings, resolvers) reaches the demo.
  const io: CliIo = { stdout: out, stderr: err, env: {}, now };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function parseJson<T>(run: Captured, what: string): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new DemoSetupError(`${what} printed no JSON (exit ${run.code}): ${clean(run.stderr.trim()).slice(0, 600)}`);
  }
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', unknown: 'UNKNOWN' };

type TenantDoc = Doc['tenants'][number];

function failingLines(t: TenantDoc): string[] {
  const checks = [...t.domains.flatMap((d) => d.checks), ...t.checks];
  return checks.flatMap((c) =>
    c.status === 'pass'
      ? []
      : c.findings
          .filter((f) => f.severity === 'error' || f.severity === 'warning' || f.severity === 'unknown')
          .slice(0, 1)
          .map((f) => `${c.kind} ${c.subject}: ${f.message}`),
  );
}

function short(text: string, max: number): string {
  const flat = clean(text.replace(/\s+/g, ' '));
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function renderCycle(cycle: DemoCycle, at: Date, doc: Doc, probe: ProbeDocument | null): string {
  const lines = [`${cycle.label} UTC (${at.toISOString().slice(0, 10)}): ${cycle.note}`];
  for (const t of doc.tenants) {
    const problems = failingLines(t);
    const head = `  ${LABEL[t.status].padEnd(7)} ${t.id.padEnd(9)}`;
    if (problems.length === 0) {
      const kinds = [...new Set([...t.domains.flatMap((d) => d.checks), ...t.checks].map((c) => c.kind))];
      lines.push(`${head} ${kinds.join(', ')}: all pass`);
    } else for (const p of problems.slice(0, 2)) lines.push(`${head} ${short(p, 150)}`);
  }
  if (probe) {
    const d = probe.diagnosis;
    const reply =
      d.id === 'ok' ? ' (accepted, queued for delivery)' : d.reply ? ` "${short(d.reply.lines.join(' '), 96)}"` : '';
    lines.push(`  relay probe contoso → ${probe.target.host}:${probe.target.port}: ${d.id}${reply}`);
  }
  const s = doc.state;
  if (s) {
    for (const i of s.opened)
      lines.push(`  incident opened   #${i.id} [${i.tenant}] ${i.severity.toUpperCase()}: ${short(i.title, 110)}`);
    for (const i of s.resolved) lines.push(`  incident resolved #${i.id} [${i.tenant}] ${short(i.title, 110)}`);
    for (const n of s.notifications)
      lines.push(
        `  alert ${n.sent ? 'written' : 'NOT written'}: ${n.kind} #${n.incident} → ${n.route}${n.error ? ` (${short(n.error, 120)})` : ''}`,
      );
    if (s.opened.length + s.resolved.length + s.notifications.length === 0)
      lines.push(`  no new incident, no alert (${s.open} incident(s) open)`);
  }
  return `${lines.join('\n')}\n`;
}

/** Compare what happened with the story; an empty list means the demo behaved as designed. */
export function verifyStory(
  cycles: ReadonlyArray<{ readonly check: Doc; readonly probe: ProbeDocument | null }>,
  alertFiles: readonly string[],
  alertText: (name: string) => string,
): string[] {
  const problems: string[] = [];
  cycles.forEach((c, i) => {
    if (c.check.stateError !== undefined) problems.push(`run ${i + 1}: results not recorded: ${c.check.stateError}`);
  });
  const status = (i: number, tenant: string) => cycles[i]?.check.tenants.find((t) => t.id === tenant)?.status;
  const blocklist = (i: number) =>
    cycles[i]?.check.tenants.find((t) => t.id === 'contoso')?.checks.find((c) => c.kind === 'blocklist')?.status;
  const expect = (what: string, got: unknown, want: unknown) => {
    if (got !== want) problems.push(`${what}: expected ${String(want)}, got ${String(got)}`);
  };
  expect('day 1: contoso', status(0, 'contoso'), 'pass');
  expect('day 1: fabrikam (SPF still authorises the old address)', status(0, 'fabrikam'), 'fail');
  expect('day 1: tailspin', status(0, 'tailspin'), 'pass');
  expect('day 2: contoso blocklist check', blocklist(1), 'fail');
  expect('day 3: contoso blocklist check', blocklist(3), 'pass');
  expect('day 1: relay probe', cycles[0]?.probe?.diagnosis.id, 'ok');
  expect('day 2: relay probe', cycles[1]?.probe?.diagnosis.id, 'ms-banned-ip');
  expect('day 3: relay probe', cycles[3]?.probe?.diagnosis.id, 'ok');
  const listing = (i: number) =>
    cycles[i]?.check.state?.opened.filter((o) => o.tenant === 'contoso' && o.check === 'blocklist') ?? [];
  expect('day 1: incidents opened', cycles[0]?.check.state?.opened.length, 0);
  expect('day 2: Contoso listing incidents opened', listing(1).length, 1);
  const id = listing(1)[0]?.id;
  const sentFor = (i: number, kind: string) =>
    cycles[i]?.check.state?.notifications.filter((n) => n.incident === id && n.kind === kind && n.sent === true)
      .length ?? 0;
  expect('day 2: "opened" alerts for the listing', sentFor(1, 'opened'), 1);
  expect(
    'day 2, 15:00: alerts for the listing (one alert per incident, not per failing run)',
    cycles[2]?.check.state?.notifications.filter((n) => n.incident === id).length,
    0,
  );
  expect(
    'day 3: listing incident resolved',
    cycles[3]?.check.state?.resolved.some((r) => r.id === id),
    true,
  );
  expect('day 3: RESOLVED alerts for the listing', sentFor(3, 'resolved'), 1);
  const opened = alertFiles.find((f) => f.endsWith(`-contoso-opened-${id}.eml`));
  if (!opened) problems.push(`no .eml alert file for the opened listing incident #${id}`);
  else if (!/Content-Type: message\/rfc822/i.test(alertText(opened)))
    problems.push(`${opened} carries no delisting request (message/rfc822 attachment)`);
  if (!alertFiles.some((f) => f.endsWith(`-contoso-opened-${id}.json`)))
    problems.push(`no .json alert file for the opened listing incident #${id}`);
  if (!alertFiles.some((f) => f.endsWith(`-contoso-resolved-${id}.eml`)))
    problems.push(`no .eml alert file for the RESOLVED of incident #${id}`);
  return problems;
}

/** Run the demo: start the simulated Internet, run the cycles, verify the story, stop everything. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dir = resolve(options.dir);
  const example = options.exampleConfig ?? findExampleConfig();
  await claimDir(dir);
  let phase: DemoPhase = 'healthy';
  let clock = new Date(DEMO_START);
  let dns: RunningDnsServer | null = null;
  let smtp: RunningSmtpResponder | null = null;
  try {
    const started = <T>(what: string, p: Promise<T>) =>
      p.catch((err: unknown) => {
        throw new DemoSetupError(`cannot start the demo ${what} on 127.0.0.1: ${(err as Error).message}`, {
          cause: err,
        });
      });
    dns = await started('DNS server', startDnsServer({ zones: SERVED_ZONES, records: () => recordsFor(phase) }));
    smtp = await started(
      'SMTP endpoint',
      startSmtpResponder({
        hostname: 'contoso-example.mail.protection.outlook.com',
        mailReply: () => (phase === 'listed' ? BANNED_IP_REPLY : null),
        now: () => clock,
      }),
    );
    const configPath = join(dir, 'relaywatch.demo.yaml');
    await writeFile(configPath, await demoConfigText(example, dir, dns.spec, smtp));
    const alertDir = join(dir, 'alerts');
    const show = (p: string) => {
      const r = relative(process.cwd(), p);
      return r === '' ? '.' : r.startsWith('..') ? p : r;
    };
    options.out(
      [
        'relaywatch demo: the real monitoring cycle against a small simulated Internet on 127.0.0.1',
        `  DNS (authoritative: the example's SPF and MX, blocklist ${DEMO_DNSBL_ZONE}) ${dns.spec}`,
        `  Exchange Online (Contoso's MX endpoint, SMTP)   ${smtp.host}:${smtp.port}`,
        `  config ${show(configPath)} (from examples/relaywatch.yaml), store ${show(join(dir, 'state.db'))}`,
        '',
        '',
      ].join('\n'),
    );
    const cycles: Array<DemoResult['cycles'][number]> = [];
    let delistFile: string | null = null;
    for (const cycle of DEMO_CYCLES) {
      phase = cycle.phase;
      const at = new Date(DEMO_START + cycle.atHours * 3_600_000);
      // The simulated clock stands still during a cycle (durations are measured with performance.now, not the clock),
      // so every run of the demo decides the same: a reminder due 24 h after day 2 09:00 is due at day 3 09:00.
      clock = at;
      const now = () => new Date(at.getTime());
      const run = await cli(['check', '--config', configPath, '--json'], now);
      const check = parseJson<Doc>(run, `relaywatch check (${cycle.label})`);
      let probe: ProbeDocument | null = null;
      if (cycle.relayProbe) {
        const p = await cli(
          [
            'probe',
            'relay',
            '-t',
            'contoso',
            '--config',
            configPath,
            '--host',
            smtp.host,
            '--port',
            String(smtp.port),
            '--timeout',
            '10',
            '--json',
          ],
          now,
        );
        probe = parseJson<ProbeDocument>(p, `relaywatch probe relay (${cycle.label})`);
        if (probe.diagnosis.id === 'ms-banned-ip' && probe.diagnosis.reply) {
          const replyFile = join(dir, `ndr-${LISTED_IP}-contoso.txt`);
          await writeFile(replyFile, `${probe.diagnosis.reply.lines.join('\n')}\n`);
          delistFile = join(dir, `delist-${LISTED_IP}-contoso.eml`);
          const d = await cli(
            [
              'delist',
              '--config',
              configPath,
              '--ip',
              LISTED_IP,
              '--tenant',
              'contoso',
              '--reply-file',
              replyFile,
              '--remediation',
              'Isolated and cleaned the infected PC behind the scanner-room NAT; outbound port 25 is now blocked for everything but the scanners',
              '--out',
              delistFile,
              '--json',
            ],
            now,
          );
          if (d.code !== 0)
            throw new DemoSetupError(`relaywatch delist failed (exit ${d.code}): ${clean(d.stderr).slice(0, 600)}`);
        }
      }
      cycles.push({ label: cycle.label, check, probe });
      options.out(renderCycle(cycle, at, check, probe));
    }
    // The week the story happened in, as the MSP reads it on Monday: the digest e-mail and the dashboard page.
    const digestFile = join(dir, 'digest.html');
    const reportFile = join(dir, 'report.html');
    // An hour after the last run, so the last run's resolutions are in the past.
    const last = () => new Date(DEMO_START + (DEMO_CYCLES[DEMO_CYCLES.length - 1]!.atHours + 1) * 3_600_000);
    for (const [what, args] of [
      ['digest', ['digest', '--config', configPath, '--week', DEMO_WEEK, '--out', digestFile]],
      ['report', ['report', '--config', configPath, '--week', DEMO_WEEK, '--out', reportFile]],
    ] as const) {
      const r = await cli(args, last);
      if (r.code !== 0)
        throw new DemoSetupError(`relaywatch ${what} failed (exit ${r.code}): ${clean(r.stderr).slice(0, 600)}`);
    }
    const alertFiles = existsSync(alertDir) ? (await readdir(alertDir)).filter((f) => !f.startsWith('.')).sort() : [];
    const texts = new Map<string, string>();
    for (const f of alertFiles) texts.set(f, await readFile(join(alertDir, f), 'utf8'));
    const problems = verifyStory(cycles, alertFiles, (f) => texts.get(f) ?? '');
    const result: DemoResult = {
      ok: problems.length === 0,
      problems,
      dir,
      configPath,
      alertDir,
      alertFiles,
      delistFile,
      digestFile,
      reportFile,
      ports: { dns: dns.port, smtp: smtp.port },
      cycles,
    };
    options.out(summary(result, show));
    return result;
  } finally {
    await Promise.all([dns?.close(), smtp?.close()]);
  }
}

function summary(r: DemoResult, show: (p: string) => string): string {
  const listing = r.cycles[1]?.check.state?.opened.find((o) => o.check === 'blocklist');
  const found = [
    '',
    'What the demo found, and why',
    `  • Contoso: ${LISTED_IP} was listed on ${DEMO_DNSBL_ZONE} on day 2 (127.0.0.2, spam-trap hits: an infected PC`,
    "    behind the scanner room's NAT). The blocklist opened one incident at once (a listing seen through a healthy zone",
    '    is definite), one alert was written, the 15:00 run repeated nothing (a reminder only after 24 h), and the',
    '    day-3 run wrote the RESOLVED. The site\'s relay probe got Exchange Online\'s "550 5.7.606 banned sending IP":',
    '    Microsoft lists the IP too; the request for sender.office.com was prepared.',
    '  • Fabrikam: SPF of fabrikam.example still authorises the old address 198.51.100.7, not 198.51.100.23: failing',
    '    every run, an incident after the second failure (SPF waits for two), then a reminder 24 h later.',
    '  • Tailspin: SPF, MX and its OAuth submission settings pass.',
  ];
  const lines = [
    ...(r.ok ? found : []),
    '',
    'Where things are',
    `  alerts (each as .eml, a listing's with its delisting request attached, and as webhook JSON): ${show(r.alertDir)}/`,
    ...r.alertFiles.filter((f) => f.endsWith('.eml')).map((f) => `    ${f}`),
    ...(r.delistFile
      ? [`  the Microsoft delisting request (from the relay probe's reply): ${show(r.delistFile)}`]
      : []),
    `  the week's digest e-mail (what an MSP forwards to a customer): ${show(r.digestFile)} (and .txt)`,
    `  the MSP dashboard page (open it in a browser): ${show(r.reportFile)}`,
    `  the store: ${show(join(r.dir, 'state.db'))}, e.g. npm run relaywatch -- incidents --config ${show(r.configPath)}`,
    `  the relay probes' transcripts: npm run relaywatch -- history contoso --check probe-relay --detail --config ${show(r.configPath)}`,
    '',
    'Run relaywatch on your own tenants',
    '  cp examples/relaywatch.yaml relaywatch.yaml   # then: your MSP contact, tenants, domains, relay IPs, an alert route',
    '  npm run relaywatch -- notify test --route <route id>   # a test alert proves the route delivers',
    '  npm run relaywatch -- check                 # one cycle: verdicts, incidents, alerts (schedule it, e.g. cron)',
    '',
  ];
  if (r.ok)
    lines.push(
      `Demo OK: behaved as designed${listing ? ` (listing incident #${listing.id})` : ''}; every demo server has stopped.`,
    );
  else lines.push('Demo FAILED: it did not behave as designed:', ...r.problems.map((p) => `  - ${clean(p)}`));
  return `${lines.join('\n')}\n`;
}
