/**
 * The digest as HTML e-mail: plain string templates, every stored text escaped (`h`), nothing a mail client would
 * drop or block. Built for Outlook desktop's Word engine first, so it also holds in Outlook on the web and Gmail:
 * - layout in nested `<table role="presentation">` with fixed widths, no flex/grid, no positioning, no `<div>` layout;
 * - inline `style` on every element (Gmail strips `<style>` in some views) plus `bgcolor`/`width`/`align`
 *   attributes that Word reads when it ignores CSS; only properties Word applies to the element they are on
 *   (text properties, `font`, `color`, `background-color` and borders anywhere; padding and widths on `<td>`,
 *   margins on `<p>`/`<h1>`: Microsoft's CORE/COREEXTENDED/FULL classes for Outlook 2007 and later); the preheader is
 *   hidden with `mso-hide:all` as well;
 * - no script, no external image, no SVG, no web font (Arial/Helvetica stack);
 * - the 7-day strip is a row of table cells whose background is the status colour AND whose text is the status
 *   (OK/WARN/FAIL/UNK/–): colour is never the only signal, and a client that drops backgrounds still shows words.
 * Why string templates and not MJML: docs/dependencies.md (measured).
 */
import {
  AVAILABILITY_RULE,
  type DigestMeta,
  formatDuration,
  type IncidentSummary,
  type MspTotals,
  PATHS,
  type PathSummary,
  PROBE_RULE,
  type RiskKind,
  type TenantDigest,
  uptimeSummary,
} from './model.ts';
import { h, hMultiline, LEGEND, ms, percent, STATUS_STYLE, safeColour, textOn } from './style.ts';
import { localTime } from './week.ts';

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const WIDTH = 680;

function period(meta: DigestMeta): string {
  const w = meta.week;
  return `${w.id} · ${w.days[0]!.label} – ${w.days[6]!.label} (${w.timeZone})`;
}

function shell(meta: DigestMeta, title: string, preheader: string, body: string): string {
  const accent = safeColour(meta.msp.accentColor);
  const on = textOn(accent);
  return `<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>${h(title)}</title>
</head>
<body style="margin:0;padding:0;background-color:#f2f2f2;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">${h(preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f2f2f2" style="background-color:#f2f2f2;">
<tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="${WIDTH}" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:${WIDTH}px;max-width:100%;background-color:#ffffff;border-collapse:collapse;">
<tr><td bgcolor="${accent}" style="background-color:${accent};color:${on};padding:16px 20px;${FONT}">
<div style="font-size:13px;line-height:18px;color:${on};">${h(meta.msp.name)}</div>
<h1 style="margin:4px 0 0 0;font-size:20px;line-height:26px;font-weight:bold;color:${on};${FONT}">${h(title)}</h1>
<div style="font-size:13px;line-height:18px;color:${on};">${h(period(meta))}</div>
</td></tr>
${body}
<tr><td style="padding:16px 20px;border-top:1px solid #dddddd;color:#555555;font-size:12px;line-height:17px;${FONT}">
Prepared by ${h(meta.msp.name)}${meta.msp.contactEmail ? ` · <a href="mailto:${h(meta.msp.contactEmail)}" style="color:#555555;">${h(meta.msp.contactEmail)}</a>` : ''} · generated ${h(localTime(Date.parse(meta.generatedAt), meta.week.timeZone))} (${h(meta.week.timeZone)}) by relaywatch.
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

function section(title: string, inner: string): string {
  return `<tr><td style="padding:14px 20px 4px 20px;${FONT}">
<h2 style="margin:0 0 8px 0;font-size:16px;line-height:22px;color:#1a1a1a;${FONT}">${h(title)}</h2>
${inner}
</td></tr>
`;
}

function para(html: string): string {
  return `<p style="margin:0 0 8px 0;font-size:14px;line-height:20px;color:#1a1a1a;${FONT}">${html}</p>`;
}

function small(html: string): string {
  return `<p style="margin:0 0 6px 0;font-size:12px;line-height:17px;color:#555555;${FONT}">${html}</p>`;
}

const TH = `style="padding:4px 6px;border-bottom:1px solid #bbbbbb;font-size:12px;line-height:16px;color:#333333;text-align:left;${FONT}"`;
const TD = `style="padding:4px 6px;border-bottom:1px solid #eeeeee;font-size:13px;line-height:18px;color:#1a1a1a;vertical-align:top;${FONT}"`;

/** A data table; `spaced` leaves a 2 px gap between cells (status cells of one colour stay apart). */
function table(head: readonly string[], rows: readonly string[], spaced = false): string {
  const collapse = spaced
    ? 'cellspacing="2" border="0" style="border-collapse:separate;width:100%;"'
    : 'cellspacing="0" border="0" style="border-collapse:collapse;width:100%;"';
  return `<table role="presentation" width="100%" cellpadding="0" ${collapse}>
<tr>${head.map((c) => `<th ${TH}>${c}</th>`).join('')}</tr>
${rows.join('\n')}
</table>`;
}

/** One status cell: coloured background and the status word. */
export function statusCell(status: keyof typeof STATUS_STYLE, title: string): string {
  const s = STATUS_STYLE[status];
  return `<td bgcolor="${s.bg}" align="center" title="${h(title)}" style="background-color:${s.bg};color:${s.fg};padding:3px 2px;width:40px;border-right:2px solid #ffffff;border-bottom:2px solid #ffffff;font-size:11px;line-height:15px;font-weight:bold;${FONT}">${s.label}</td>`;
}

/** `96.42 %` in bold, the counts beneath in small type (the same facts as {@link availabilityPhrase}). */
function availabilityCell(p: PathSummary): string {
  const total = p.counts.pass + p.counts.warn + p.counts.fail + p.counts.unknown;
  const decided = total - p.counts.unknown;
  if (total === 0) return '<span style="color:#555555;">not run</span>';
  const unknown = p.counts.unknown > 0 ? `, ${p.counts.unknown} unknown` : '';
  return `<b>${decided === 0 ? 'n/a' : percent(p.availability)}</b><br><span style="color:#555555;font-size:11px;line-height:15px;">${p.counts.fail} of ${decided} down${unknown}</span>`;
}

function pathRows(d: TenantDigest, meta: DigestMeta): string[] {
  return d.paths.map((p) => {
    const cells = p.days.map((s, i) =>
      statusCell(s, `${p.label} ${meta.week.days[i]!.label}: ${STATUS_STYLE[s].word}`),
    );
    return `<tr><td ${TD}><b>${h(p.label)}</b></td>${statusCell(p.now, `${p.label} at the end of the week: ${STATUS_STYLE[p.now].word}`)}<td style="padding:0 0 0 8px;">&nbsp;</td>${cells.join('')}<td ${TD}>${availabilityCell(p)}</td></tr>`;
  });
}

function strips(d: TenantDigest, meta: DigestMeta): string {
  const dayHeads = meta.week.days.map((day) => `<th ${TH}>${h(day.label.slice(0, 3))}</th>`).join('');
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%;">
<tr><th ${TH}>Path</th><th ${TH}>End</th><th style="padding:0;">&nbsp;</th>${dayHeads}<th ${TH}>Availability</th></tr>
${pathRows(d, meta).join('\n')}
</table>
${small(h(LEGEND))}`;
}

function incidentRow(i: IncidentSummary, tz: string): string {
  const when =
    i.fate === 'recovered'
      ? `${localTime(Date.parse(i.openedAt), tz)} →\n${localTime(Date.parse(i.resolvedAt ?? i.openedAt), tz)}`
      : `since ${localTime(Date.parse(i.openedAt), tz)}`;
  const flaps = i.flaps > 2 ? ` · flapping (${i.flaps} opens/resolves)` : '';
  return `<tr><td ${TD}>${h(i.title)}<br><span style="color:#555555;font-size:12px;">#${h(i.id)} · ${h(i.severity)}${h(flaps)}</span></td><td ${TD} nowrap>${when.split('\n').map(h).join('<br>')}</td><td ${TD} nowrap>${h(formatDuration(i.durationMs))}${i.fate === 'still-down' ? ' so far' : ''}</td></tr>`;
}

function incidentsBlock(d: TenantDigest, meta: DigestMeta): string {
  const still = d.incidents.filter((i) => i.fate === 'still-down');
  const recovered = d.incidents.filter((i) => i.fate === 'recovered');
  const { stayedUp, partly } = uptimeSummary(
    d,
    meta.week.days.map((x) => x.label),
  );
  const head = ['Incident', 'When', 'Down for'];
  const parts: string[] = [];
  parts.push(
    para(
      `<b>Still down:</b> ${still.length === 0 ? 'nothing.' : `${still.length} incident${still.length === 1 ? '' : 's'}.`}`,
    ),
  );
  if (still.length > 0)
    parts.push(
      table(
        head,
        still.map((i) => incidentRow(i, meta.week.timeZone)),
      ),
    );
  parts.push(
    para(
      `<b>Went down and recovered:</b> ${recovered.length === 0 ? 'nothing.' : `${recovered.length} incident${recovered.length === 1 ? '' : 's'}.`}`,
    ),
  );
  if (recovered.length > 0)
    parts.push(
      table(
        head,
        recovered.map((i) => incidentRow(i, meta.week.timeZone)),
      ),
    );
  parts.push(
    para(`<b>Stayed up all week:</b> ${stayedUp.length === 0 ? 'none of the watched paths.' : h(stayedUp.join(', '))}`),
  );
  if (partly.length > 0) {
    parts.push(
      para(
        `<b>Up whenever we could tell, but not watched all week:</b> ${partly.map((x) => `${h(x.label)} (${h(x.gaps)})`).join('; ')}.`,
      ),
    );
  }
  return parts.join('\n');
}

function probesBlock(d: TenantDigest): string {
  const rows = d.paths
    .filter((p) => p.probe !== null && p.probe.runs > 0)
    .map((p) => {
      const s = p.probe!;
      return `<tr><td ${TD}><b>${h(p.label)}</b></td><td ${TD}>${s.successRate === null ? 'n/a' : `${s.successRate.toFixed(1)} %`} (${s.accepted} of ${s.runs})</td><td ${TD}>${ms(s.medianMs)}</td><td ${TD}>${ms(s.p95Ms)}</td></tr>`;
    });
  if (rows.length === 0) return para('No test messages were sent this week.');
  return table(['Probe', 'Accepted', 'Median', '95th pct.'], rows);
}

function exposureBlock(d: TenantDigest): string {
  if (d.exposure.length === 0) return para('None of the sending IPs or domains was listed on a blocklist this week.');
  return table(
    ['IP or domain', 'Blocklist', 'Days listed', 'At week end'],
    d.exposure.map(
      (e) =>
        `<tr><td ${TD}>${h(e.ip)}</td><td ${TD}>${h(e.zoneName)} (${h(e.kind)})</td><td ${TD}>${e.daysListed} of 7</td><td ${TD}>${e.listedAtEnd ? '<b>still listed</b>' : 'delisted'}</td></tr>`,
    ),
  );
}

function changesBlock(d: TenantDigest, tz: string): string {
  if (d.changes.length === 0) return para('No SPF or MX record changed this week.');
  return table(
    ['When', 'Record', 'Before', 'After'],
    d.changes.map(
      (c) =>
        `<tr><td ${TD}>${h(localTime(Date.parse(c.at), tz))}</td><td ${TD}>${c.kind.toUpperCase()} ${h(c.subject)}</td><td ${TD}><span style="font-family:Consolas,'Courier New',monospace;font-size:12px;">${hMultiline(c.before ?? '(none)')}</span></td><td ${TD}><span style="font-family:Consolas,'Courier New',monospace;font-size:12px;">${hMultiline(c.after ?? '(none)')}</span></td></tr>`,
    ),
  );
}

function risksBlock(d: TenantDigest): string {
  if (d.risks.length === 0) return para('Nothing on the horizon.');
  return table(
    ['', 'Risk'],
    d.risks.map(
      (r) =>
        `<tr><td ${TD} width="70"><b style="color:${r.severity === 'critical' ? '#c0262d' : '#8a6d00'};">${r.severity === 'critical' ? 'ACT NOW' : 'PLAN'}</b></td><td ${TD}>${h(r.text)}</td></tr>`,
    ),
  );
}

function unknownsBlock(d: TenantDigest): string {
  const rows = d.paths.flatMap((p) =>
    p.unknownReasons.map(
      (u) =>
        `<tr><td ${TD}>${h(p.label)}</td><td ${TD}>${u.count}</td><td ${TD}><code style="font-family:Consolas,'Courier New',monospace;font-size:12px;">${h(u.code)}</code><br><span style="color:#555555;font-size:12px;">${h(u.example)}</span></td></tr>`,
    ),
  );
  const intro = para(
    `${d.checksRun.toLocaleString('en-US')} checks ran; ${d.unknowns.toLocaleString('en-US')} could not tell (unknown). Unknowns are not failures: they open and close no incident and do not lower availability.`,
  );
  return rows.length === 0 ? intro : `${intro}\n${table(['Path', 'Unknown', 'Why'], rows)}`;
}

function rulesBlock(): string {
  return `${small(h(AVAILABILITY_RULE))}\n${small(h(PROBE_RULE))}`;
}

function headline(d: TenantDigest): string {
  const still = d.incidents.filter((i) => i.fate === 'still-down').length;
  const failing = d.paths.filter((p) => p.now === 'fail').map((p) => p.label);
  if (failing.length > 0 || still > 0) {
    return `<b style="color:#c0262d;">Needs action:</b> ${failing.length > 0 ? `${h(failing.join(', '))} failing at the end of the week` : `${still} incident${still === 1 ? '' : 's'} still open`}.`;
  }
  if (d.needsAttention) return '<b>Mail kept flowing; a few things are worth a look below.</b>';
  return '<b style="color:#1b7f3b;">All watched mail paths stayed healthy this week.</b>';
}

/** The per-tenant digest, for the customer's IT contact: this tenant's data only. */
export function tenantDigestHtml(d: TenantDigest, meta: DigestMeta): string {
  const body = [
    section('This week at a glance', `${para(headline(d))}\n${strips(d, meta)}`),
    section('Stayed up, went down, still down', incidentsBlock(d, meta)),
    section('Test messages (probes)', probesBlock(d)),
    section('Blocklists', exposureBlock(d)),
    section('SPF and MX changes', changesBlock(d, meta.week.timeZone)),
    section('Risks ahead', risksBlock(d)),
    section('Checks and unknowns', unknownsBlock(d)),
    section('How these numbers are made', rulesBlock()),
  ].join('');
  return shell(
    meta,
    `Weekly mail health: ${d.tenant.name}`,
    `${d.tenant.name}, ${meta.week.id}: ${d.needsAttention ? 'items need attention' : 'all healthy'}`,
    body,
  );
}

export interface MspDigestLimits {
  /** Up to this many tenants, every tenant gets a row; above it only tenants needing action (default 25). */
  readonly allRowsUpTo: number;
  /** At most this many rows in the tenant table (default 30). */
  readonly maxRows: number;
  /** At most this many tenants in full detail (default 8). */
  readonly maxDetailed: number;
}

/** Chosen so that the MSP-wide digest of 1,000 tenants stays under Gmail's 102 KB clipping (BENCHMARKS.md). */
export const DEFAULT_MSP_LIMITS: MspDigestLimits = { allRowsUpTo: 25, maxRows: 30, maxDetailed: 8 };

/**
 * Which tenants the MSP-wide digest shows, worst first. A small MSP sees every tenant as a row; a large one sees rows
 * only for tenants that need action (failing, still down, still listed, a critical risk). In full detail: tenants
 * that need action first, then those merely worth a look, up to the limit. Everyone else is counted, and named in the
 * risk summary; the report page has them all.
 */
export function mspSelection(tenants: readonly TenantDigest[], limits: MspDigestLimits = DEFAULT_MSP_LIMITS) {
  const ordered = [...tenants].sort(
    (a, b) =>
      Number(b.needsAction) - Number(a.needsAction) ||
      b.attentionScore - a.attentionScore ||
      a.tenant.name.localeCompare(b.tenant.name),
  );
  const action = ordered.filter((t) => t.needsAction);
  const attention = ordered.filter((t) => t.needsAttention);
  const rowsFrom = tenants.length <= limits.allRowsUpTo ? ordered : action;
  return {
    rows: rowsFrom.slice(0, limits.maxRows),
    hiddenRows: rowsFrom.length - Math.min(rowsFrom.length, limits.maxRows),
    detailed: attention.slice(0, limits.maxDetailed),
    hiddenDetailed: attention.length - Math.min(attention.length, limits.maxDetailed),
    healthy: ordered.filter((t) => !t.needsAttention),
    action,
  };
}

/**
 * A compact status cell for the MSP-wide table (many rows: every byte counts against Gmail's clipping): the
 * `bgcolor` attribute (read by Word, OWA and Gmail alike) and the `font` shorthand, which Outlook's Word engine reads.
 */
function miniCell(status: keyof typeof STATUS_STYLE): string {
  const s = STATUS_STYLE[status];
  return `<td bgcolor="${s.bg}" style="color:${s.fg};font:bold 10px Arial,sans-serif;text-align:center;padding:2px">${s.label}</td>`;
}

const MINI_TD = 'style="padding:2px 4px;font:12px Arial,sans-serif;border-bottom:1px solid #eeeeee"';

function mspRow(d: TenantDigest): string {
  const order = ['fail', 'unknown', 'warn', 'pass', 'none'] as const;
  const worstDays = d.paths[0]!.days.map((_, i) => order.find((s) => d.paths.some((p) => p.days[i] === s)) ?? 'none');
  const opened = d.incidents.filter((i) => i.openedThisWeek).length;
  const recovered = d.incidents.filter((i) => i.fate === 'recovered').length;
  return `<tr><td ${MINI_TD}><b>${h(d.tenant.name)}</b></td>${d.paths.map((p) => miniCell(p.now)).join('')}<td></td>${worstDays.map(miniCell).join('')}<td ${MINI_TD}>${opened}/${recovered}</td><td ${MINI_TD}>${d.exposure.length}</td><td ${MINI_TD}>${d.risks.length}</td></tr>`;
}

export const RISK_LABELS: readonly (readonly [RiskKind, string])[] = [
  ['basic-auth', 'Still on Basic auth for SMTP AUTH'],
  ['spf-lookups', 'SPF at 8 or more of 10 lookups'],
  ['relay-ip-not-authorised', 'Relay IPs not authorised by SPF'],
  ['agent-silent', 'Site agents that stopped reporting'],
  ['zone-unusable', 'Blocklists that were unusable'],
  ['certificate-expiry', 'STARTTLS certificates near expiry'],
];

function riskSummary(tenants: readonly TenantDigest[]): string {
  const rows = RISK_LABELS.flatMap(([kind, label]) => {
    const who = tenants.filter((t) => t.risks.some((r) => r.kind === kind));
    if (who.length === 0) return [];
    const names = who.slice(0, 12).map((t) => h(t.tenant.name));
    const more = who.length > 12 ? ` and ${who.length - 12} more` : '';
    return [
      `<tr><td ${TD}><b>${h(label)}</b></td><td ${TD}>${who.length}</td><td ${TD}>${names.join(', ')}${more}</td></tr>`,
    ];
  });
  if (rows.length === 0) return para('Nothing on the horizon for any tenant.');
  return table(['Risk', 'Tenants', 'Which'], rows);
}

function tenantDetail(d: TenantDigest, meta: DigestMeta): string {
  const parts: string[] = [
    `<h3 style="margin:12px 0 6px 0;font-size:15px;line-height:20px;color:#1a1a1a;${FONT}">${h(d.tenant.name)} <span style="color:#555555;font-weight:normal;font-size:12px;">(${h(d.tenant.id)})</span></h3>`,
  ];
  const failing = d.paths.filter((p) => p.counts.fail > 0);
  parts.push(
    para(
      failing.length === 0
        ? 'No path went down this week.'
        : `Down this week: ${failing.map((p) => `${h(p.label)} ${percent(p.availability)}`).join(', ')}. At the end of the week: ${d.paths.map((p) => `${h(p.label)} ${STATUS_STYLE[p.now].label}`).join(', ')}.`,
    ),
  );
  if (d.incidents.length > 0) {
    parts.push(small('<b>Incidents</b>'));
    parts.push(
      table(
        ['Incident', 'When', 'Down for'],
        d.incidents.map((i) => incidentRow(i, meta.week.timeZone)),
      ),
    );
  }
  if (d.exposure.length > 0) parts.push(small('<b>Blocklists</b>'), exposureBlock(d));
  if (d.changes.length > 0) parts.push(small('<b>SPF and MX changes</b>'), changesBlock(d, meta.week.timeZone));
  if (d.risks.length > 0) parts.push(small('<b>Risks ahead</b>'), risksBlock(d));
  return parts.join('\n');
}

/** The MSP-wide digest: every tenant at a glance (summarised when there are many), attention first. */
export function mspDigestHtml(
  tenants: readonly TenantDigest[],
  totals: MspTotals,
  meta: DigestMeta,
  limits: MspDigestLimits = DEFAULT_MSP_LIMITS,
): string {
  const sel = mspSelection(tenants, limits);
  const glance = [
    para(
      `<b>${totals.tenants.toLocaleString('en-US')} tenants</b> · <b>${totals.needingAction.toLocaleString('en-US')}</b> need action, ${(totals.needingAttention - totals.needingAction).toLocaleString('en-US')} more worth a look · ${totals.incidentsOpened} incidents opened, ${totals.incidentsRecovered} recovered, <b>${totals.stillDown} still down</b> · ${totals.listings} blocklist listings · ${totals.changes} SPF/MX changes · ${totals.checksRun.toLocaleString('en-US')} checks (${totals.unknowns.toLocaleString('en-US')} unknown).`,
    ),
    table(
      totals.paths.map((p) => h(p.label)),
      [`<tr>${totals.paths.map((p) => `<td ${TD}>${percent(p.availability)}</td>`).join('')}</tr>`],
    ),
    small(`Availability over all tenants. ${h(AVAILABILITY_RULE)}`),
    meta.reportUrl
      ? para(
          `The full dashboard (every tenant, filter, drill-down): <a href="${h(meta.reportUrl)}" style="color:${safeColour(meta.msp.accentColor)};">open the report</a>.`,
        )
      : '',
  ].join('\n');
  const heads = [
    'Tenant',
    ...PATHS.map((p) => h(p.label)),
    '',
    ...meta.week.days.map((d) => h(d.label.slice(0, 2))),
    'Incidents opened/recovered',
    'Listings',
    'Risks',
  ];
  const rowIntro =
    tenants.length <= limits.allRowsUpTo
      ? ''
      : para(
          `Only tenants that need action are listed: ${sel.rows.length} of ${sel.action.length}${sel.hiddenRows > 0 ? ` (worst first; the other ${sel.hiddenRows} are in the report)` : ''}. ${(totals.needingAttention - totals.needingAction).toLocaleString('en-US')} more have something worth a look (see Risks ahead), and ${sel.healthy.length.toLocaleString('en-US')} were healthy all week.`,
        );
  const body = [
    section('This week at a glance', glance),
    section(
      'Tenants',
      `${rowIntro}${table(heads, sel.rows.map(mspRow), true)}\n${small(`Path columns: status at the end of the week. Day columns: the worst status of any path that day. ${h(LEGEND)}`)}`,
    ),
    section('Risks ahead', riskSummary(tenants)),
    section(
      'Needing attention',
      sel.detailed.length === 0
        ? para('No tenant needs attention this week.')
        : `${sel.detailed.map((d) => tenantDetail(d, meta)).join('\n')}${sel.hiddenDetailed > 0 ? para(`${sel.hiddenDetailed} more tenants need attention: see the report.`) : ''}`,
    ),
  ].join('');
  return shell(
    meta,
    'Weekly mail health: all tenants',
    `${totals.needingAttention} of ${totals.tenants} tenants need attention, ${totals.stillDown} incidents still down`,
    body,
  );
}
