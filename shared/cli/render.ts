/**
 * Human-readable reports for the terminal. Pure: strings in, strings out. Every piece of text that came from the
 * outside world (TXT records, host names, tenant names from config) passes through `clean()` so a hostile record
 * cannot move the cursor, recolour the terminal or forge lines of the report.
 */
import type { CheckOutcome, CheckStatus, Finding, Severity } from '../domain/outcome.ts';
import { isUnsafeCodePoint } from '../domain/unsafe-text.ts';
import type { DnsStats } from '../ports/dns-resolver.ts';
import type { TenantReport } from '../use-cases/run-checks.ts';

export interface RenderOptions {
  readonly color: boolean;
  /** Also show `info` findings (default: only what needs attention, plus one line per passing check). */
  readonly verbose: boolean;
}

/**
 * Replace what `isUnsafeCodePoint` names (C0 including CR and LF, DEL, C1, line/paragraph separators, bidi marks,
 * overrides and isolates, the BOM) with visible escapes; tabs stay.
 */
export function clean(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x09 || !isUnsafeCodePoint(code)) continue;
    out += text.slice(from, i);
    out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

const STATUS_LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', unknown: 'UNKNOWN' };
const STATUS_ICON: Record<CheckStatus, string> = { pass: '✔', warn: '!', fail: '✘', unknown: '?' };
const SEVERITY_ICON: Record<Severity, string> = { info: '·', warning: '!', error: '✘', unknown: '?' };
const COLOR: Record<CheckStatus, number> = { pass: 32, warn: 33, fail: 31, unknown: 35 };
const SEVERITY_STATUS: Record<Severity, CheckStatus> = {
  info: 'pass',
  warning: 'warn',
  error: 'fail',
  unknown: 'unknown',
};

function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export function statusTag(status: CheckStatus, o: RenderOptions): string {
  return paint(o.color, COLOR[status], `${STATUS_ICON[status]} ${STATUS_LABEL[status].padEnd(7)}`);
}

function findingLine(f: Finding, o: RenderOptions, indent: string): string {
  const icon = paint(o.color, COLOR[SEVERITY_STATUS[f.severity]], SEVERITY_ICON[f.severity]);
  return `${indent}${icon} ${clean(f.message)} ${paint(o.color, 2, `[${f.code}]`)}`;
}

export function renderCheck(c: CheckOutcome, o: RenderOptions, indent = '    '): string[] {
  const lines: string[] = [];
  const shown = c.findings.filter((f) => o.verbose || f.severity !== 'info');
  let summary = '';
  if (c.kind === 'blocklist' || c.kind === 'domain-blocklist') {
    const zones = Array.isArray(c.details?.zones) ? c.details.zones : [];
    const count = (status: string) =>
      zones.filter((z) => z !== null && typeof z === 'object' && !Array.isArray(z) && z.status === status).length;
    summary =
      zones.length === 0
        ? ` ${clean(c.subject)}`
        : ` ${clean(c.subject)}: ${count('listed')} listed, ${count('clean')} clean, ${count('unknown')} unknown`;
  } else if (c.kind === 'probe-submission' || c.kind === 'probe-relay') {
    summary = ` ${clean(c.subject)}`;
  } else if (c.kind === 'mx' && typeof c.details?.relayEndpoint === 'string') {
    summary = ` relay endpoint ${clean(c.details.relayEndpoint)}:25`;
  }
  if (c.kind === 'spf' && typeof c.details?.lookups === 'number' && c.status !== 'unknown') {
    summary = ` ${c.details.lookups}/10 lookups`;
  }
  const notChecked =
    (c.kind === 'blocklist' || c.kind === 'domain-blocklist') &&
    c.findings.some((f) => f.code === 'blocklist-none-checked' || f.code === 'domain-blocklist-none-checked');
  // "Not checked" is never shown as PASS, even where the check itself counts it as one (the cycle's IPv6 address
  // with only IPv4 zones): its reason is shown whatever the verbosity.
  const tag = notChecked ? paint(o.color, COLOR.unknown, `– ${'NOT CHECKED'}`) : statusTag(c.status, o);
  const label =
    c.kind === 'probe-submission' ? 'submission probe' : c.kind === 'domain-blocklist' ? 'blocklist' : c.kind;
  lines.push(`${indent}${tag} ${label.padEnd(label === 'blocklist' ? 9 : 4)}${summary}`);
  const visible = notChecked
    ? c.findings.filter(
        (f) => shown.includes(f) || f.code === 'blocklist-none-checked' || f.code === 'domain-blocklist-none-checked',
      )
    : shown;
  for (const f of visible) lines.push(findingLine(f, o, `${indent}    `));
  return lines;
}

export function renderDnsLine(resolvers: string, stats: DnsStats): string {
  return `DNS: ${clean(resolvers)} — ${stats.questions} questions, ${stats.queriesSent} sent, ${stats.cacheHits} cache hits, ${stats.inflightJoins} joined in flight`;
}

export interface CheckSummary {
  readonly tenants: number;
  readonly domains: number;
  /** Sending IPs checked against blocklists (per tenant: an IP two tenants share counts twice). */
  readonly ips: number;
  /** Domains and tenant-level checks (sending IPs, submission settings) by status. */
  readonly byStatus: Record<CheckStatus, number>;
}

export function summarise(tenants: readonly TenantReport[]): CheckSummary {
  const byStatus: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  let domains = 0;
  let ips = 0;
  for (const t of tenants) {
    for (const d of t.domains) {
      domains++;
      byStatus[d.status]++;
    }
    for (const c of t.checks) {
      if (c.kind === 'blocklist') ips++;
      byStatus[c.status]++;
    }
  }
  return { tenants: tenants.length, domains, ips, byStatus };
}

export function renderCheckReport(args: {
  readonly msp: string;
  readonly generatedAt: string;
  readonly tenants: readonly TenantReport[];
  readonly status: CheckStatus;
  readonly exitCode: number;
  readonly dnsLine: string;
  readonly notes: readonly string[];
  readonly o: RenderOptions;
}): string {
  const { o } = args;
  const out: string[] = [];
  out.push(`relaywatch check — ${clean(args.msp)} — ${args.generatedAt}`);
  out.push(args.dnsLine);
  for (const n of args.notes) out.push(paint(o.color, 35, `note: ${clean(n)}`));
  for (const t of args.tenants) {
    out.push('');
    out.push(`${statusTag(t.status, o)} ${clean(t.id)} — ${clean(t.name)}`);
    for (const d of t.domains) {
      out.push(`  ${clean(d.domain)}`);
      for (const c of d.checks) out.push(...renderCheck(c, o));
    }
    const submission = t.checks.filter((c) => c.kind === 'submission' || c.kind === 'probe-submission');
    if (submission.length > 0) {
      out.push('  submission (SMTP AUTH)');
      for (const c of submission) out.push(...renderCheck(c, o));
    }
    const ips = t.checks.filter((c) => c.kind === 'blocklist');
    if (ips.length > 0) {
      out.push('  sending IPs');
      for (const c of ips) out.push(...renderCheck(c, o));
    }
    const senderDomains = t.checks.filter((c) => c.kind === 'domain-blocklist');
    if (senderDomains.length > 0) {
      out.push('  sender domains (domain blocklists)');
      for (const c of senderDomains) out.push(...renderCheck(c, o));
    }
  }
  const s = summarise(args.tenants);
  out.push('');
  out.push(
    `Summary: ${s.tenants} tenant(s), ${s.domains} domain(s), ${s.ips} IP(s): ${s.byStatus.pass} pass, ${s.byStatus.warn} warn, ${s.byStatus.fail} fail, ${s.byStatus.unknown} unknown → ${STATUS_LABEL[args.status]} (exit ${args.exitCode})`,
  );
  return `${out.join('\n')}\n`;
}
