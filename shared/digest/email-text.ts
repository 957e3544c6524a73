/** The plain-text part of the digest e-mails: the same facts as the HTML, stored text cleaned of control characters. */
import { DEFAULT_MSP_LIMITS, type MspDigestLimits, mspSelection, RISK_LABELS } from './email-html.ts';
import {
  AVAILABILITY_RULE,
  type DigestMeta,
  formatDuration,
  type IncidentSummary,
  type MspTotals,
  PROBE_RULE,
  type TenantDigest,
  uptimeSummary,
} from './model.ts';
import { availabilityPhrase, LEGEND, ms, percent, STATUS_STYLE, t } from './style.ts';
import { localTime } from './week.ts';

function header(meta: DigestMeta, title: string): string[] {
  const w = meta.week;
  return [
    t(meta.msp.name),
    title,
    `${w.id} · ${w.days[0]!.label} – ${w.days[6]!.label} (${w.timeZone})`,
    '='.repeat(72),
    '',
  ];
}

function footer(meta: DigestMeta): string[] {
  return [
    '',
    '-'.repeat(72),
    `Prepared by ${t(meta.msp.name)}${meta.msp.contactEmail ? ` · ${t(meta.msp.contactEmail)}` : ''} · generated ${localTime(Date.parse(meta.generatedAt), meta.week.timeZone)} (${meta.week.timeZone}) by relaywatch.`,
    '',
  ];
}

function strip(d: TenantDigest, meta: DigestMeta): string[] {
  const days = meta.week.days.map((x) => x.label.slice(0, 3).padEnd(5)).join('');
  const lines = [`${'Path'.padEnd(12)}${'End'.padEnd(6)}${days}Availability`];
  for (const p of d.paths) {
    lines.push(
      `${p.label.padEnd(12)}${STATUS_STYLE[p.now].label.padEnd(6)}${p.days.map((s) => STATUS_STYLE[s].label.padEnd(5)).join('')}${availabilityPhrase(p)}`,
    );
  }
  lines.push(`(${LEGEND})`);
  return lines;
}

function incidentLine(i: IncidentSummary, tz: string): string {
  const when =
    i.fate === 'recovered'
      ? `${localTime(Date.parse(i.openedAt), tz)} -> ${localTime(Date.parse(i.resolvedAt ?? i.openedAt), tz)}, down ${formatDuration(i.durationMs)}`
      : `since ${localTime(Date.parse(i.openedAt), tz)}, down ${formatDuration(i.durationMs)} so far`;
  const flaps = i.flaps > 2 ? `, flapping (${i.flaps} opens/resolves)` : '';
  return `  - ${t(i.title)} (#${t(i.id)}, ${i.severity}): ${when}${flaps}`;
}

function tenantBody(d: TenantDigest, meta: DigestMeta): string[] {
  const tz = meta.week.timeZone;
  const out: string[] = [];
  out.push(...strip(d, meta), '');
  const still = d.incidents.filter((i) => i.fate === 'still-down');
  const recovered = d.incidents.filter((i) => i.fate === 'recovered');
  const { stayedUp, partly } = uptimeSummary(
    d,
    meta.week.days.map((x) => x.label),
  );
  out.push('STAYED UP, WENT DOWN, STILL DOWN');
  out.push(`Still down: ${still.length === 0 ? 'nothing.' : `${still.length}`}`);
  for (const i of still) out.push(incidentLine(i, tz));
  out.push(`Went down and recovered: ${recovered.length === 0 ? 'nothing.' : `${recovered.length}`}`);
  for (const i of recovered) out.push(incidentLine(i, tz));
  out.push(`Stayed up all week: ${stayedUp.length === 0 ? 'none of the watched paths.' : stayedUp.join(', ')}`);
  if (partly.length > 0) {
    out.push(
      `Up whenever we could tell, but not watched all week: ${partly.map((x) => `${x.label} (${x.gaps})`).join('; ')}.`,
    );
  }
  out.push('', 'TEST MESSAGES (PROBES)');
  const probes = d.paths.filter((p) => p.probe !== null && p.probe.runs > 0);
  if (probes.length === 0) out.push('No test messages were sent this week.');
  for (const p of probes) {
    const s = p.probe!;
    out.push(
      `  ${p.label}: ${s.successRate === null ? 'n/a' : `${s.successRate.toFixed(1)} %`} accepted (${s.accepted} of ${s.runs}), median ${ms(s.medianMs)}, 95th percentile ${ms(s.p95Ms)}`,
    );
  }
  out.push('', 'BLOCKLISTS');
  if (d.exposure.length === 0) out.push('None of the sending IPs or domains was listed on a blocklist this week.');
  for (const e of d.exposure) {
    out.push(
      `  ${t(e.ip)} on ${t(e.zoneName)} (${t(e.kind)}): listed ${e.daysListed} of 7 days, ${e.listedAtEnd ? 'STILL LISTED' : 'delisted'}`,
    );
  }
  out.push('', 'SPF AND MX CHANGES');
  if (d.changes.length === 0) out.push('No SPF or MX record changed this week.');
  for (const c of d.changes) {
    out.push(`  ${localTime(Date.parse(c.at), tz)} ${c.kind.toUpperCase()} ${t(c.subject)}`);
    out.push(`    before: ${t(c.before ?? '(none)')}`);
    out.push(`    after:  ${t(c.after ?? '(none)')}`);
  }
  out.push('', 'RISKS AHEAD');
  if (d.risks.length === 0) out.push('Nothing on the horizon.');
  for (const r of d.risks) out.push(`  [${r.severity === 'critical' ? 'ACT NOW' : 'PLAN'}] ${t(r.text)}`);
  out.push('', 'CHECKS AND UNKNOWNS');
  out.push(
    `${d.checksRun} checks ran; ${d.unknowns} could not tell (unknown). Unknowns are not failures: they open and close no incident and do not lower availability.`,
  );
  for (const p of d.paths) {
    for (const u of p.unknownReasons) out.push(`  ${p.label}: ${u.count} × ${t(u.code)}: ${t(u.example)}`);
  }
  return out;
}

function rules(): string[] {
  return ['', 'HOW THESE NUMBERS ARE MADE', AVAILABILITY_RULE, PROBE_RULE];
}

export function tenantDigestText(d: TenantDigest, meta: DigestMeta): string {
  return [
    ...header(meta, `Weekly mail health: ${t(d.tenant.name)}`),
    ...tenantBody(d, meta),
    ...rules(),
    ...footer(meta),
  ].join('\n');
}

export function mspDigestText(
  tenants: readonly TenantDigest[],
  totals: MspTotals,
  meta: DigestMeta,
  limits: MspDigestLimits = DEFAULT_MSP_LIMITS,
): string {
  const sel = mspSelection(tenants, limits);
  const out = header(meta, 'Weekly mail health: all tenants');
  out.push(
    `${totals.tenants} tenants · ${totals.needingAction} need action, ${totals.needingAttention - totals.needingAction} more worth a look · ${totals.incidentsOpened} incidents opened, ${totals.incidentsRecovered} recovered, ${totals.stillDown} still down · ${totals.listings} blocklist listings · ${totals.changes} SPF/MX changes · ${totals.checksRun} checks (${totals.unknowns} unknown).`,
    `Availability over all tenants: ${totals.paths.map((p) => `${p.label} ${percent(p.availability)}`).join(' · ')}`,
  );
  if (meta.reportUrl) out.push(`Full dashboard: ${meta.reportUrl}`);
  out.push('', 'TENANTS');
  if (tenants.length > limits.allRowsUpTo) {
    out.push(
      `Only tenants that need action are listed: ${sel.rows.length} of ${sel.action.length}${sel.hiddenRows > 0 ? ` (worst first; the other ${sel.hiddenRows} are in the report)` : ''}. ${totals.needingAttention - totals.needingAction} more have something worth a look, and ${sel.healthy.length} were healthy all week.`,
    );
  }
  for (const d of sel.rows) {
    const paths = d.paths.map((p) => `${p.label} ${STATUS_STYLE[p.now].label}`).join(', ');
    const opened = d.incidents.filter((i) => i.openedThisWeek).length;
    const recovered = d.incidents.filter((i) => i.fate === 'recovered').length;
    out.push(
      `  ${t(d.tenant.name)}: ${paths}; incidents ${opened} opened / ${recovered} recovered; ${d.exposure.length} listings; ${d.risks.length} risks`,
    );
  }
  out.push('', 'RISKS AHEAD');
  let anyRisk = false;
  for (const [kind, label] of RISK_LABELS) {
    const who = tenants.filter((d) => d.risks.some((r) => r.kind === kind));
    if (who.length === 0) continue;
    anyRisk = true;
    const names = who.slice(0, 12).map((d) => t(d.tenant.name));
    out.push(`  ${label}: ${who.length} (${names.join(', ')}${who.length > 12 ? ` and ${who.length - 12} more` : ''})`);
  }
  if (!anyRisk) out.push('Nothing on the horizon for any tenant.');
  out.push('', 'NEEDING ATTENTION');
  if (sel.detailed.length === 0) out.push('No tenant needs attention this week.');
  for (const d of sel.detailed) {
    out.push('', `${t(d.tenant.name)} (${t(d.tenant.id)})`, ...strip(d, meta));
    for (const i of d.incidents) out.push(incidentLine(i, meta.week.timeZone));
    for (const e of d.exposure) {
      out.push(
        `  ${t(e.ip)} on ${t(e.zoneName)}: ${e.daysListed} of 7 days, ${e.listedAtEnd ? 'STILL LISTED' : 'delisted'}`,
      );
    }
    for (const c of d.changes)
      out.push(
        `  ${c.kind.toUpperCase()} of ${t(c.subject)} changed ${localTime(Date.parse(c.at), meta.week.timeZone)}`,
      );
  }
  if (sel.hiddenDetailed > 0) out.push(`${sel.hiddenDetailed} more tenants need attention: see the report.`);
  out.push(...rules(), ...footer(meta));
  return out.join('\n');
}
