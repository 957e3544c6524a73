/**
 * `relaywatch report`: one self-contained HTML page (no external file, font, image or request) for the MSP's
 * browser: every tenant with its 7-day strips (inline SVG with text labels), a filter, sorting and a drill-down into
 * the tenant's incidents, risks and last probe transcripts.
 *
 * Every stored text is escaped on the server side; the page's script only filters, sorts and toggles existing rows
 * (it reads `textContent` and `data-*`, never writes HTML). A Content-Security-Policy allows exactly that script (by
 * its SHA-256), inline styles and nothing else: no network, no other script.
 */
import { createHash } from 'node:crypto';
import {
  AVAILABILITY_RULE,
  type DayStatus,
  type DigestMeta,
  formatDuration,
  type MspTotals,
  PATHS,
  PROBE_RULE,
  type TenantDigest,
} from './model.ts';
import { availabilityPhrase, h, hMultiline, LEGEND, ms, percent, STATUS_STYLE, safeColour, textOn } from './style.ts';
import { localTime } from './week.ts';

const SCRIPT = `(function () {
  var table = document.getElementById('tenants');
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var sort = document.getElementById('sort');
  var count = document.getElementById('count');
  function pairs() {
    var rows = Array.prototype.slice.call(body.querySelectorAll('tr.tenant'));
    return rows.map(function (r) { return { row: r, detail: document.getElementById(r.getAttribute('data-detail')) }; });
  }
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var key = sort.value;
    var list = pairs();
    list.sort(function (a, b) {
      if (key === 'name') return a.row.getAttribute('data-name').localeCompare(b.row.getAttribute('data-name'));
      if (key === 'availability') return Number(a.row.getAttribute('data-availability')) - Number(b.row.getAttribute('data-availability'));
      return Number(b.row.getAttribute('data-score')) - Number(a.row.getAttribute('data-score'));
    });
    var shown = 0;
    list.forEach(function (p) {
      body.appendChild(p.row);
      body.appendChild(p.detail);
      var match = q === '' || p.row.getAttribute('data-name').indexOf(q) >= 0 || p.row.getAttribute('data-id').indexOf(q) >= 0;
      p.row.hidden = !match;
      if (!match) p.detail.hidden = true;
      if (match) shown++;
    });
    count.textContent = shown + ' of ' + list.length + ' tenants shown';
  }
  body.addEventListener('click', function (e) {
    var button = e.target.closest('button.drill');
    if (!button) return;
    var detail = document.getElementById(button.getAttribute('aria-controls'));
    var open = detail.hidden;
    detail.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    button.textContent = open ? 'Hide' : 'Details';
  });
  filter.addEventListener('input', apply);
  sort.addEventListener('change', apply);
  apply();
})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#1a1a1a;background:#f4f4f4}
header{padding:16px 24px}
header h1{margin:2px 0;font-size:22px}
main{padding:16px 24px 40px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px}
.panel{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:0 0 16px}
.controls{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:0 0 8px}
input,select,button{font:inherit}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 6px;border-bottom:1px solid #e6e6e6;text-align:left;vertical-align:top}
th{font-size:12px;color:#444}
.strip{white-space:nowrap}
.strip .st{min-width:36px;margin-right:2px}
.st{display:inline-block;min-width:44px;padding:1px 4px;border-radius:3px;font-size:11px;font-weight:bold;text-align:center}
tr.detail>td{background:#fafafa;padding:10px 16px 16px}
pre{background:#111;color:#eee;padding:8px;border-radius:4px;overflow:auto;max-height:320px;font-size:12px}
.muted{color:#555;font-size:12px}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:15px;margin:12px 0 6px}
`;

function badge(s: DayStatus, title: string): string {
  const st = STATUS_STYLE[s];
  return `<span class="st" title="${h(title)}" style="background:${st.bg};color:${st.fg}">${st.label}</span>`;
}

/** The 7-day strip as SVG: a coloured cell per day with its label as text. */
function stripSvg(days: readonly DayStatus[], dayLabels: readonly string[], label: string): string {
  const w = 38;
  const cells = days
    .map((s, i) => {
      const st = STATUS_STYLE[s];
      return `<g><title>${h(`${label} ${dayLabels[i] ?? ''}: ${st.word}`)}</title><rect x="${i * (w + 2)}" y="0" width="${w}" height="18" rx="2" fill="${st.bg}"/><text x="${i * (w + 2) + w / 2}" y="13" font-size="10" font-weight="bold" text-anchor="middle" fill="${st.fg}">${st.label}</text></g>`;
    })
    .join('');
  return `<svg role="img" aria-label="${h(`${label}: ${days.map((s) => STATUS_STYLE[s].label).join(' ')}`)}" width="${7 * (w + 2)}" height="18" viewBox="0 0 ${7 * (w + 2)} 18">${cells}</svg>`;
}

function availabilityChart(totals: MspTotals): string {
  const bar = 260;
  const rows = totals.paths
    .map((p, i) => {
      const v = p.availability;
      const width = v === null ? 0 : Math.max(1, Math.round((v / 100) * bar));
      const y = i * 24;
      return `<text x="0" y="${y + 14}" font-size="12">${h(p.label)}</text><rect x="90" y="${y + 2}" width="${bar}" height="16" fill="#e6e6e6"/><rect x="90" y="${y + 2}" width="${width}" height="16" fill="${v === null ? '#6b6b6b' : v < 95 ? '#c0262d' : v < 99.5 ? '#d08a00' : '#1b7f3b'}"/><text x="${96 + bar}" y="${y + 14}" font-size="12">${percent(v)}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="Availability per path over all tenants" width="440" height="${totals.paths.length * 24}" viewBox="0 0 440 ${totals.paths.length * 24}">${rows}</svg>`;
}

function worstOfDays(d: TenantDigest): DayStatus[] {
  const order = ['fail', 'unknown', 'warn', 'pass', 'none'] as const;
  return d.paths[0]!.days.map((_, i) => order.find((s) => d.paths.some((p) => p.days[i] === s)) ?? 'none');
}

function minAvailability(d: TenantDigest): number {
  const values = d.paths.map((p) => p.availability).filter((v): v is number => v !== null);
  return values.length === 0 ? 100 : Math.min(...values);
}

function detail(d: TenantDigest, meta: DigestMeta, id: string): string {
  const tz = meta.week.timeZone;
  const labels = meta.week.days.map((x) => x.label);
  const paths = d.paths
    .map(
      (p) =>
        `<tr><td>${h(p.label)}</td><td>${badge(p.now, `${p.label} at the end of the week`)}</td><td class="strip">${p.days.map((st, i) => badge(st, `${p.label} ${labels[i] ?? ''}`)).join('')}</td><td>${h(availabilityPhrase(p))}</td><td>${p.probe && p.probe.runs > 0 ? `${p.probe.successRate?.toFixed(1) ?? 'n/a'} % accepted · median ${ms(p.probe.medianMs)} · p95 ${ms(p.probe.p95Ms)}` : ''}</td></tr>`,
    )
    .join('');
  const incidents =
    d.incidents.length === 0
      ? '<p>No incident this week.</p>'
      : `<table class="incidents"><thead><tr><th>Incident</th><th>Opened</th><th>Resolved</th><th>Down for</th><th>Flaps</th></tr></thead><tbody>${d.incidents
          .map(
            (i) =>
              `<tr><td>${h(i.title)} <span class="muted">#${h(i.id)} · ${h(i.severity)}</span></td><td>${h(localTime(Date.parse(i.openedAt), tz))}</td><td>${i.resolvedAt ? h(localTime(Date.parse(i.resolvedAt), tz)) : '<b>still down</b>'}</td><td>${h(formatDuration(i.durationMs))}</td><td>${i.flaps}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const exposure =
    d.exposure.length === 0
      ? ''
      : `<h3>Blocklists</h3><ul>${d.exposure.map((e) => `<li>${h(e.ip)} on ${h(e.zoneName)} (${h(e.kind)}): ${e.daysListed} of 7 days, ${e.listedAtEnd ? '<b>still listed</b>' : 'delisted'}</li>`).join('')}</ul>`;
  const changes =
    d.changes.length === 0
      ? ''
      : `<h3>SPF and MX changes</h3><ul>${d.changes.map((c) => `<li>${h(localTime(Date.parse(c.at), tz))} ${c.kind.toUpperCase()} ${h(c.subject)}: <code>${hMultiline(c.before ?? '(none)')}</code> → <code>${hMultiline(c.after ?? '(none)')}</code></li>`).join('')}</ul>`;
  const risks =
    d.risks.length === 0
      ? ''
      : `<h3>Risks ahead</h3><ul>${d.risks.map((r) => `<li><b>${r.severity === 'critical' ? 'ACT NOW' : 'PLAN'}</b> ${h(r.text)}</li>`).join('')}</ul>`;
  const transcripts =
    d.transcripts.length === 0
      ? '<p class="muted">No probe transcript recorded this week.</p>'
      : d.transcripts
          .map(
            (tr) =>
              `<h3>Last ${h(tr.path)} probe: ${h(tr.subject)} <span class="muted">${h(localTime(Date.parse(tr.at), tz))} · ${STATUS_STYLE[tr.status].label}</span></h3><p class="muted">${h(tr.summary)}</p><pre>${tr.lines.map(h).join('\n')}</pre>`,
          )
          .join('');
  const unknowns = d.paths.flatMap((p) =>
    p.unknownReasons.map((u) => `<li>${h(p.label)}: ${u.count} × <code>${h(u.code)}</code> (${h(u.example)})</li>`),
  );
  return `<tr class="detail" id="${id}" hidden><td colspan="${PATHS.length + 5}">
<table><thead><tr><th>Path</th><th>End</th><th>7 days</th><th>Availability</th><th>Probes</th></tr></thead><tbody>${paths}</tbody></table>
<h3>Incidents</h3>${incidents}${exposure}${changes}${risks}
<h3>Checks and unknowns</h3><p>${d.checksRun} checks ran; ${d.unknowns} unknown.</p>${unknowns.length > 0 ? `<ul>${unknowns.join('')}</ul>` : ''}
<h3>Last transcripts</h3>${transcripts}
</td></tr>`;
}

export function reportPageHtml(tenants: readonly TenantDigest[], totals: MspTotals, meta: DigestMeta): string {
  const accent = safeColour(meta.msp.accentColor);
  const labels = meta.week.days.map((x) => x.label);
  const ordered = [...tenants].sort(
    (a, b) => b.attentionScore - a.attentionScore || a.tenant.name.localeCompare(b.tenant.name),
  );
  const rows = ordered
    .map((d, n) => {
      const id = `t${n}`;
      const cells = d.paths.map((p) => `<td>${badge(p.now, `${p.label} at the end of the week`)}</td>`).join('');
      const opened = d.incidents.filter((i) => i.openedThisWeek).length;
      const still = d.incidents.filter((i) => i.fate === 'still-down').length;
      return `<tr class="tenant" data-detail="${id}" data-id="${h(d.tenant.id.toLowerCase())}" data-name="${h(d.tenant.name.toLowerCase())}" data-score="${d.attentionScore}" data-availability="${minAvailability(d)}"><td><b>${h(d.tenant.name)}</b><br><span class="muted">${h(d.tenant.id)}</span></td>${cells}<td>${stripSvg(worstOfDays(d), labels, 'Worst of all paths')}</td><td>${opened} opened${still > 0 ? `, <b>${still} still down</b>` : ''}</td><td>${d.risks.length}</td><td><button type="button" class="drill" aria-expanded="false" aria-controls="${id}">Details</button></td></tr>
${detail(d, meta, id)}`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:">
<title>${h(`${meta.msp.name}: mail health ${meta.week.id}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header style="background:${accent};color:${textOn(accent)}">
<div>${h(meta.msp.name)}</div>
<h1>Mail health of all tenants</h1>
<div>${h(`${meta.week.id} · ${labels[0]} – ${labels[6]} (${meta.week.timeZone}) · generated ${localTime(Date.parse(meta.generatedAt), meta.week.timeZone)}`)}</div>
</header>
<main>
<section class="cards">
<div class="card"><b>${totals.tenants}</b>tenants</div>
<div class="card"><b>${totals.needingAction}</b>need action</div>
<div class="card"><b>${totals.needingAttention - totals.needingAction}</b>more worth a look</div>
<div class="card"><b>${totals.incidentsOpened}</b>incidents opened</div>
<div class="card"><b>${totals.stillDown}</b>still down</div>
<div class="card"><b>${totals.listings}</b>blocklist listings</div>
<div class="card"><b>${totals.checksRun}</b>checks (${totals.unknowns} unknown)</div>
</section>
<section class="panel"><h2>Availability per path</h2>${availabilityChart(totals)}<p class="muted">${h(AVAILABILITY_RULE)}</p><p class="muted">${h(PROBE_RULE)}</p></section>
<section class="panel">
<h2>Tenants</h2>
<div class="controls"><label>Filter <input id="filter" type="search" placeholder="tenant name or id"></label>
<label>Sort <select id="sort"><option value="attention">needs attention first</option><option value="name">name</option><option value="availability">lowest availability</option></select></label>
<span id="count" class="muted"></span></div>
<p class="muted">${h(LEGEND)}</p>
<table id="tenants"><thead><tr><th>Tenant</th>${PATHS.map((p) => `<th>${h(p.label)}</th>`).join('')}<th>7 days (worst path)</th><th>Incidents</th><th>Risks</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
