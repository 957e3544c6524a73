/**
 * The measurement behind docs/dependencies.md "The digest's HTML: MJML 5 measured against escaped string templates".
 * MJML is not a dependency, so it runs against a scratch install:
 *
 *   mkdir /tmp/mjml && cd /tmp/mjml && npm init -y && npm install mjml@^5 esbuild
 *   echo "import m from 'mjml'; export const render = (x) => m(x, { validationLevel: 'soft' });" > entry.mjs
 *   npx esbuild entry.mjs --bundle --platform=node --format=esm --minify --external:typescript \
 *     --banner:js="import { createRequire as r } from 'module'; const require = r(import.meta.url);" --outfile=mjml.mjs
 *   # the same esbuild command on shared/use-cases/build-digest.ts gives our bundle size
 *   MJML_BUNDLE=/tmp/mjml/mjml.mjs node test/bench/mjml-compare.ts
 *
 * It renders the busiest tenant of the test fixture week with an MJML template of the same content (fewer sections:
 * MJML's numbers are a lower bound) and with `renderTenantDigest`, and prints the module load time and the time per
 * digest of each.
 */
import { pathToFileURL } from 'node:url';
import { composeTenant } from '../../shared/digest/model.ts';
import { parseWeek } from '../../shared/digest/week.ts';
import { renderTenantDigest } from '../../shared/use-cases/build-digest.ts';
import { fixtureRecords } from '../support/digest-fixture.ts';

type MjmlRender = (mjml: string) => Promise<{ html: string }> | { html: string };

const bundle = process.env.MJML_BUNDLE;
if (!bundle) {
  console.error('set MJML_BUNDLE to the esbuild bundle of mjml (see the header of this file)');
  process.exit(2);
}
const loadStart = performance.now();
const { render } = (await import(pathToFileURL(bundle).href)) as { render: MjmlRender };
const mjmlLoadMs = performance.now() - loadStart;

const week = parseWeek('2026-W47', 'Europe/London');
const recs = fixtureRecords();
const d = composeTenant(
  { id: 'contoso', name: 'Contoso', expectsRelayProbe: true, submissionAuth: null },
  {
    checks: recs.checks.filter((c) => c.tenantId === 'contoso'),
    events: recs.events.filter((e) => e.tenantId === 'contoso'),
    incidents: recs.incidents.filter((i) => i.tenantId === 'contoso'),
  },
  week,
  {
    basicAuthOffAt: new Date('2026-12-31T00:00:00Z'),
    agentSilenceHours: 24,
    certificateWarningDays: 21,
    nowMs: Date.parse('2026-11-23T08:00:00Z'),
  },
);
const meta = {
  msp: { name: 'Acme', accentColor: '#7b1fa2', contactEmail: 'noc@acme.example' },
  week,
  generatedAt: '2026-11-23T08:00:00.000Z',
  reportUrl: null,
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLOURS: Record<string, [string, string]> = {
  pass: ['#1b7f3b', 'OK'],
  warn: ['#f2c200', 'WARN'],
  fail: ['#c0262d', 'FAIL'],
  unknown: ['#6b6b6b', 'UNK'],
  none: ['#e6e6e6', '-'],
};
const cell = (s: string) => {
  const [bg, label] = COLOURS[s] ?? ['#e6e6e6', '-'];
  return `<td bgcolor="${bg}" style="background-color:${bg};color:#fff;font-weight:bold;text-align:center">${label}</td>`;
};
const section = (title: string, rows: string) =>
  `<mj-section background-color="#ffffff"><mj-column><mj-text font-size="16px" font-weight="bold">${title}</mj-text><mj-table>${rows}</mj-table></mj-column></mj-section>`;
const doc = `<mjml><mj-head><mj-attributes><mj-all font-family="Arial, Helvetica, sans-serif" /></mj-attributes></mj-head><mj-body background-color="#f2f2f2" width="680px">
<mj-section background-color="#7b1fa2"><mj-column><mj-text color="#ffffff">${esc(meta.msp.name)}</mj-text><mj-text color="#ffffff" font-size="20px" font-weight="bold">Weekly mail health: ${esc(d.tenant.name)}</mj-text></mj-column></mj-section>
${section('This week at a glance', d.paths.map((p) => `<tr><td><b>${esc(p.label)}</b></td>${cell(p.now)}${p.days.map(cell).join('')}<td>${p.availability ?? 'n/a'} %</td></tr>`).join(''))}
${section('Stayed up, went down, still down', d.incidents.map((i) => `<tr><td>${esc(i.title)}</td><td>${esc(i.openedAt)}</td><td>${i.durationMs}</td></tr>`).join(''))}
${section('Risks ahead', d.risks.map((r) => `<tr><td>${r.severity}</td><td>${esc(r.text)}</td></tr>`).join(''))}
</mj-body></mjml>`;

await render(doc);
renderTenantDigest(d, meta);
let t0 = performance.now();
for (let i = 0; i < 100; i++) await render(doc);
const mjmlMs = (performance.now() - t0) / 100;
t0 = performance.now();
for (let i = 0; i < 1001; i++) renderTenantDigest(d, meta);
const oursMs = (performance.now() - t0) / 1001;
console.log(
  JSON.stringify({
    node: process.version,
    mjmlLoadMs: Math.round(mjmlLoadMs),
    mjmlMsPerDigest: +mjmlMs.toFixed(2),
    oursMsPerDigest: +oursMs.toFixed(3),
  }),
);
