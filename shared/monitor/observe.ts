/**
 * A monitoring cycle's reports as the state layer sees them (pure): one stored `CheckRecord` per check, and one
 * incident `Observation` per thing that can break on its own: a domain's SPF, a domain's MX, an IP on one blocklist.
 *
 * - SPF and MX: failing when the check fails; the problem is the first error finding's code (so a different mistake
 *   is a different incident); the fingerprint of the published record / MX set feeds drift detection.
 * - Blocklists: one subject per (IP, zone), `<ip>@<zone>`, and per (domain, zone), `<domain>@<zone>`, for the domain
 *   blocklists: an abuse listing is critical, a policy listing (e.g. PBL)
 *   a warning, a neighbourhood listing is not a listing of the address; a zone that could not answer is unknown.
 * - The submission settings check is stored but opens nothing (it reads the configuration).
 *
 * What an alert needs later (a reminder days after the run, a RESOLVED) travels in the observation's `detail` as
 * JSON (`AlertContent`), bounded so it always fits the incident record.
 */
import { createHash } from 'node:crypto';
import { confirmationObservations } from '../confirm/outcome.ts';
import { SENDER_PORTAL_URL } from '../delist/recipient.ts';
import type { CheckOutcome, CheckStatus, Finding, JsonValue } from '../domain/outcome.ts';
import type { Observation } from '../incidents/policy.ts';
import type { CheckRecord, IncidentSeverity } from '../ports/stores.ts';
import type { TenantReport } from '../use-cases/run-checks.ts';
import { findingTitle, findingWhy, probeTitle, type TitleInput } from './titles.ts';

/** A blocklist listing, enough to render the removal guidance at alert time. */
export interface ListingContent {
  /** The listed address (IP blocklists). */
  readonly ip: string;
  /** The listed domain (domain blocklists); `ip` then holds the same name, for records written before domains. */
  readonly domain?: string;
  readonly zoneId: string;
  readonly zone: string;
  readonly codes: ReadonlyArray<{ readonly code: string; readonly meaning: string; readonly kind?: string }>;
  readonly reason: string | null;
  readonly removalUrl: string | null;
  readonly lookupUrl: string | null;
  /** A policy listing (e.g. Spamhaus PBL): a warning about the setup, never escalated or reminded daily. */
  readonly policy?: boolean;
}

/**
 * A Microsoft listing seen in a probe's reply (5.7.606–649 banned sending IP, 5.7.511 banned sender), enough to render
 * the Microsoft delisting request at alert time: the listed IP, the reply as received (untrusted), when, the address
 * that got it, and the SPF evidence the same cycle had for the tenant's domains.
 */
export interface MicrosoftListingContent {
  readonly ip: string;
  readonly reply: string;
  readonly at: string;
  /** The sending address the reply was for (the probe's mailbox), when it is one. */
  readonly recipient: string | null;
  readonly domains: readonly string[];
  readonly spf: ReadonlyArray<{
    readonly domain: string;
    readonly record: string | null;
    readonly resultForIp: string;
  }>;
  readonly relayIps: readonly string[];
}

export interface AlertContent {
  readonly what: string;
  readonly why: string;
  readonly remediation: readonly string[];
  readonly links: readonly { readonly label: string; readonly url: string }[];
  /** Untrusted text (a TXT record, a list's reason). */
  readonly evidence: string | null;
  readonly listing?: ListingContent;
  readonly microsoft?: MicrosoftListingContent;
}

/** Incident records keep at most 4,000 characters of detail: the content is cut to fit, field by field. */
const DETAIL_BUDGET = 3900;

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function encodeContent(c: AlertContent): string {
  let limit = 1200;
  for (;;) {
    const bounded: AlertContent = {
      what: cap(c.what, limit),
      why: cap(c.why, limit / 2),
      remediation: c.remediation.slice(0, 6).map((r) => cap(r, limit / 4)),
      links: c.links.slice(0, 4).map((l) => ({ label: cap(l.label, 80), url: cap(l.url, 300) })),
      evidence: c.evidence === null ? null : cap(c.evidence, limit / 2),
      ...(c.listing
        ? {
            listing: {
              ...c.listing,
              codes: c.listing.codes.slice(0, 6).map((x) => ({ ...x, meaning: cap(x.meaning, 160) })),
              reason: c.listing.reason === null ? null : cap(c.listing.reason, 300),
            },
          }
        : {}),
      ...(c.microsoft
        ? {
            microsoft: {
              ...c.microsoft,
              reply: cap(c.microsoft.reply, 1000),
              domains: c.microsoft.domains.slice(0, 10).map((d) => cap(d, 253)),
              spf: c.microsoft.spf
                .slice(0, 5)
                .map((x) => ({ ...x, record: x.record === null ? null : cap(x.record, 300) })),
              relayIps: c.microsoft.relayIps.slice(0, 10),
            },
          }
        : {}),
    };
    const json = JSON.stringify(bounded);
    if (json.length <= DETAIL_BUDGET || limit < 100) return json.slice(0, DETAIL_BUDGET);
    limit = Math.floor(limit / 2);
  }
}

/** The content of an incident's `lastDetail`; a detail that is not ours becomes plain text. */
export function decodeContent(detail: string): AlertContent {
  try {
    const v: unknown = JSON.parse(detail);
    if (v && typeof v === 'object' && 'what' in v && typeof v.what === 'string') return v as AlertContent;
  } catch {
    // plain text below
  }
  return { what: detail, why: '', remediation: [], links: [], evidence: null };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const CHECK_LABEL: Record<string, string> = {
  spf: 'SPF',
  mx: 'MX',
  blocklist: 'Blocklist',
  'domain-blocklist': 'Domain blocklist',
  submission: 'Submission',
};

function isObject(v: JsonValue | undefined): v is { readonly [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The published value a domain check saw (SPF record text, sorted MX list), for drift: null when DNS did not say. */
export function fingerprintOf(c: CheckOutcome): { fingerprint: string; value: string } | null {
  if (c.status === 'unknown') return null;
  if (c.kind === 'spf') {
    const record = c.details?.record;
    const value = typeof record === 'string' ? record : '(no SPF record)';
    return { fingerprint: `spf:${sha(value)}`, value };
  }
  if (c.kind === 'mx') {
    const records = Array.isArray(c.details?.records) ? c.details.records : [];
    const lines = records
      .filter(isObject)
      .map((r) => `${String(r.priority)} ${String(r.exchange) || '.'}`)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const value = lines.length > 0 ? lines.join('\n') : '(no MX records)';
    return { fingerprint: `mx:${sha(value)}`, value };
  }
  return null;
}

function firstError(findings: readonly Finding[]): Finding | undefined {
  return findings.find((f) => f.severity === 'error');
}

function summaryOf(c: CheckOutcome): string {
  const f = c.findings.find((x) => x.severity !== 'info') ?? c.findings[0];
  return cap(f ? f.message : `${CHECK_LABEL[c.kind] ?? c.kind}: ${c.status}`, 500);
}

const DOMAIN_REMEDIATION: Record<string, readonly string[]> = {
  spf: [
    'Correct the TXT record as the finding says: every public IP the site relays from as ip4:/ip6:, include:spf.protection.outlook.com, one record, at most 10 DNS lookups.',
    'Run `relaywatch spf <domain> --ip <relay IP>` until every relay IP evaluates to pass.',
  ],
  mx: [
    'Point the MX record at the tenant’s Exchange Online endpoint shown in the Microsoft 365 admin centre (Settings → Domains).',
    'Run `relaywatch mx <domain>` to confirm.',
  ],
};

function domainObservation(
  tenantId: string,
  domain: string,
  c: CheckOutcome,
  run: { runId: string; at: string },
): Observation {
  const err = firstError(c.findings);
  const fp = fingerprintOf(c);
  const label = CHECK_LABEL[c.kind] ?? c.kind;
  const content: AlertContent = {
    what:
      c.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.message)
        .join(' ') || summaryOf(c),
    why: findingWhy(c.kind, err?.code),
    remediation: DOMAIN_REMEDIATION[c.kind] ?? [],
    links: [],
    evidence: typeof c.details?.record === 'string' ? c.details.record : null,
  };
  return {
    tenantId,
    check: c.kind,
    subject: domain,
    status: c.status,
    problem: err?.code ?? 'ok',
    severity: 'critical',
    title: cap(
      err
        ? findingTitle(err.code, titleInput(domain, c, err.code), `${label} of ${domain}: ${err.code}`)
        : `${label} of ${domain}: ${c.status}`,
      200,
    ),
    detail: encodeContent(content),
    runId: run.runId,
    at: run.at,
    ...(fp ? { fingerprint: fp.fingerprint, fingerprintValue: fp.value } : {}),
  };
}

/** The addresses and hosts the findings of one code name, for its title. */
function titleInput(subject: string, c: CheckOutcome, code: string): TitleInput {
  const evidence = c.findings.filter((f) => f.code === code).map((f) => f.evidence);
  const field = (k: string) =>
    evidence.flatMap((e) => (isObject(e) && typeof e[k] === 'string' ? [e[k] as string] : []));
  return { subject, ips: [...new Set(field('ip'))], hosts: [...new Set([...field('host'), ...field('exchange')])] };
}

interface ZoneJson {
  readonly zone: string;
  readonly name: string;
  readonly status: string;
  readonly kind: string | null;
  readonly codes: ReadonlyArray<{ readonly code: string; readonly meaning: string; readonly kind?: string }>;
  readonly reason: string | null;
  readonly removalUrl: string | null;
  readonly lookupUrl: string | null;
}

function zonesOf(c: CheckOutcome): ZoneJson[] {
  const zones = c.details?.zones;
  if (!Array.isArray(zones)) return [];
  return zones.filter(isObject).flatMap((z) => {
    if (typeof z.zone !== 'string' || typeof z.status !== 'string') return [];
    const codes = Array.isArray(z.codes)
      ? z.codes.filter(isObject).map((x) => ({
          code: String(x.code),
          meaning: String(x.meaning),
          ...(typeof x.kind === 'string' ? { kind: x.kind } : {}),
        }))
      : [];
    return [
      {
        zone: z.zone,
        name: typeof z.name === 'string' ? z.name : z.zone,
        status: z.status,
        kind: typeof z.kind === 'string' ? z.kind : null,
        codes,
        reason: typeof z.reason === 'string' ? z.reason : null,
        removalUrl: typeof z.removalUrl === 'string' ? z.removalUrl : null,
        lookupUrl: typeof z.lookupUrl === 'string' ? z.lookupUrl : null,
      },
    ];
  });
}

/**
 * True for an incident's content that is a policy listing (Spamhaus PBL and the like): its incident follows the
 * policy-listing policy (no escalation, no daily reminders; `policyFor(…, { policyListing: true })`).
 */
export function isPolicyListing(content: AlertContent): boolean {
  const l = content.listing;
  if (!l) return false;
  if (l.policy !== undefined) return l.policy;
  return l.codes.length > 0 && l.codes.every((c) => c.kind === 'policy');
}

/** What to do about a policy listing of a relay IP: the setup, not a compromise (the packet says to leave it listed). */
const POLICY_IP_REMEDIATION: readonly string[] = [
  'This is a warning about the setup, not a sign of abuse: the list says the address space should not send mail directly (typically a dynamic or residential IP).',
  'Send the devices’ and apps’ mail through Exchange Online (an inbound connector for this IP, or authenticated submission) instead of delivering it directly: Microsoft 365 then delivers from its own addresses, and the listing can stay.',
  'If this site must send directly, get a static IP from the ISP with proper reverse DNS (a PTR naming the mail host), then request removal for that static IP (the prepared request says how).',
];

const POLICY_DOMAIN_REMEDIATION: readonly string[] = [
  'This is a classification of the domain (bulk mail, young or private registration, tracking), not an abuse listing: check that it is right.',
  'If it is wrong, request reclassification through the list’s own process (the prepared request is attached).',
];

function blocklistObservations(tenantId: string, c: CheckOutcome, run: { runId: string; at: string }): Observation[] {
  const ip = c.subject;
  const isDomain = c.kind === 'domain-blocklist';
  return zonesOf(c).map((z): Observation => {
    const listed = z.status === 'listed' && (z.kind === 'abuse' || z.kind === 'policy' || z.kind === 'mixed');
    const policy = z.kind === 'policy';
    // A policy listing is what `check` calls it: a warning (shown as WARN by status and history), still an incident.
    const status: CheckStatus = z.status === 'unknown' ? 'unknown' : listed ? (policy ? 'warn' : 'fail') : 'pass';
    const severity: IncidentSeverity = policy ? 'warning' : 'critical';
    const meanings = z.codes.map((x) => `${x.code} ${x.meaning}`).join('; ');
    const links = [
      ...(z.removalUrl ? [{ label: `Removal (${z.name})`, url: z.removalUrl }] : []),
      ...(z.lookupUrl ? [{ label: `Lookup (${z.name})`, url: z.lookupUrl }] : []),
    ];
    const content: AlertContent = {
      what: `${ip} ${policy ? 'is in a policy list of' : 'is listed by'} ${z.name}${meanings ? `: ${meanings}` : ''}.`,
      why: isDomain
        ? z.kind === 'policy'
          ? 'A policy listing classifies the domain (bulk mail, young or private registration, tracking); receivers that use the list score mail from or linking to it.'
          : 'Receivers that use this list reject or junk mail sent from the domain or linking to it, whatever IP it comes from: every sender of the tenant is affected, not one site.'
        : z.kind === 'policy'
          ? 'A policy listing says the address space should not send mail directly (not that it sent spam); receivers that use the list refuse direct mail from it.'
          : 'Receivers that use this list reject or junk mail from the address: the customer’s devices and apps stop reaching people outside the tenant.',
      remediation: policy
        ? isDomain
          ? POLICY_DOMAIN_REMEDIATION
          : POLICY_IP_REMEDIATION
        : [
            isDomain
              ? 'Find and fix the cause first: a compromised mailbox or website of the domain, a newsletter without consent, a hijacked redirect or form.'
              : 'Find and fix the cause first (a compromised account or device, an open relay, malware on the site network).',
            z.removalUrl
              ? `Request removal at ${z.removalUrl} (the prepared request is attached).`
              : 'Request removal through the list’s own process (the prepared request is attached).',
          ],
      links,
      evidence: z.reason,
      listing: {
        ip,
        ...(isDomain ? { domain: ip } : {}),
        zoneId: z.zone,
        zone: z.name,
        codes: z.codes,
        reason: z.reason,
        removalUrl: z.removalUrl,
        lookupUrl: z.lookupUrl,
        policy,
      },
    };
    return {
      tenantId,
      check: isDomain ? 'domain-blocklist' : 'blocklist',
      subject: `${ip}@${z.zone}`,
      status,
      ...(listed ? { failing: true } : {}),
      problem: `listed:${z.zone}`,
      severity,
      title: cap(policy ? `${ip} in the policy list ${z.name}` : `${ip} listed by ${z.name}`, 200),
      detail: encodeContent(content),
      runId: run.runId,
      at: run.at,
    };
  });
}

/** Diagnoses whose alerts carry the Microsoft delisting request. */
export const MICROSOFT_LISTING_DIAGNOSES: ReadonlySet<string> = new Set(['ms-banned-ip', 'ms-banned-sender']);

/** What the cycle's SPF checks said about `ip` for each of the tenant's domains (the request's evidence). */
function spfEvidenceFor(t: TenantReport, ip: string): MicrosoftListingContent['spf'] {
  return t.domains.flatMap((d) => {
    const spf = d.checks.find((c) => c.kind === 'spf');
    if (!spf) return [];
    const record = typeof spf.details?.record === 'string' ? spf.details.record : null;
    const evaluations = Array.isArray(spf.details?.evaluations) ? spf.details.evaluations : [];
    const hit = evaluations.find((e) => isObject(e) && e.ip === ip);
    const result =
      isObject(hit) && typeof hit.result === 'string'
        ? hit.result
        : spf.status === 'unknown'
          ? 'unknown (DNS did not answer)'
          : record === null
            ? 'none (no SPF record)'
            : 'not evaluated (the IP is not one of the relay IPs configured for this tenant)';
    return [{ domain: d.domain, record, resultForIp: result }];
  });
}

function microsoftListing(
  t: TenantReport,
  c: CheckOutcome,
  diagnosis: string,
  evidence: { readonly [key: string]: JsonValue } | null,
  at: string,
  relayIps: readonly string[],
): MicrosoftListingContent | undefined {
  if (!MICROSOFT_LISTING_DIAGNOSES.has(diagnosis) || evidence === null) return undefined;
  const ip = typeof evidence.ip === 'string' ? evidence.ip : null;
  const reply = typeof evidence.reply === 'string' ? evidence.reply : null;
  if (ip === null || reply === null) return undefined;
  return {
    ip,
    reply,
    at,
    recipient: /^[^\s@]+@[^\s@]+$/.test(c.subject) ? c.subject : null,
    domains: t.domains.map((d) => d.domain),
    spf: spfEvidenceFor(t, ip),
    relayIps,
  };
}

/** A probe: one subject per sending mailbox; the problem is the diagnosis id (a different refusal, another incident). */
function probeObservation(
  t: TenantReport,
  c: CheckOutcome,
  run: { runId: string; at: string },
  relayIps: readonly string[],
): Observation {
  const tenantId = t.id;
  const main = c.findings[0];
  const diagnosis = typeof c.details?.diagnosis === 'string' ? c.details.diagnosis : 'unclassified';
  const remediation = Array.isArray(c.details?.remediation)
    ? c.details.remediation.filter((x): x is string => typeof x === 'string')
    : [];
  const evidence = isObject(main?.evidence) && typeof main.evidence.reply === 'string' ? main.evidence.reply : null;
  const label = c.kind === 'probe-relay' ? 'Relay probe' : 'Submission probe';
  const base: AlertContent = {
    what: main?.message ?? `${label} for ${c.subject}: ${c.status}`,
    why:
      c.kind === 'probe-relay'
        ? 'The site’s devices relay the same way: their mail is refused too.'
        : 'Applications that submit as this mailbox cannot send: their mail is refused too.',
    remediation,
    links: [],
    evidence,
  };
  const microsoft = microsoftListing(
    t,
    c,
    diagnosis,
    isObject(main?.evidence) ? main.evidence : null,
    run.at,
    relayIps,
  );
  const content: AlertContent = microsoft
    ? { ...base, microsoft, links: [{ label: 'Microsoft delist portal (sender.office.com)', url: SENDER_PORTAL_URL }] }
    : base;
  return {
    tenantId,
    check: c.kind,
    subject: c.subject,
    status: c.status,
    problem: diagnosis,
    severity: 'critical',
    title: cap(probeTitle(c.kind, c.subject, diagnosis), 200),
    detail: encodeContent(content),
    runId: run.runId,
    at: run.at,
  };
}

function checkRecord(
  tenantId: string,
  subject: string,
  c: CheckOutcome,
  run: { runId: string; at: string },
): CheckRecord {
  const fp = fingerprintOf(c);
  return {
    tenantId,
    runId: run.runId,
    at: run.at,
    check: c.kind,
    subject,
    status: c.status,
    codes: [...new Set(c.findings.map((f) => f.code))],
    summary: summaryOf(c),
    fingerprint: fp?.fingerprint ?? null,
    detail: (c.details as JsonValue | undefined) ?? null,
  };
}

/** Records and observations of one cycle, in report order. */
export function observe(
  reports: readonly TenantReport[],
  run: {
    readonly runId: string;
    readonly at: string;
    /** A tenant's configured relay IPs (for the Microsoft delisting request's evidence). */
    readonly relayIps?: ((tenantId: string) => readonly string[]) | undefined;
  },
): { checks: CheckRecord[]; observations: Observation[] } {
  const checks: CheckRecord[] = [];
  const observations: Observation[] = [];
  for (const t of reports) {
    for (const d of t.domains) {
      for (const c of d.checks) {
        checks.push(checkRecord(t.id, d.domain, c, run));
        if (c.kind === 'spf' || c.kind === 'mx') observations.push(domainObservation(t.id, d.domain, c, run));
      }
    }
    for (const c of t.checks) {
      checks.push(checkRecord(t.id, c.subject, c, run));
      if (c.kind === 'blocklist' || c.kind === 'domain-blocklist')
        observations.push(...blocklistObservations(t.id, c, run));
      if (c.kind === 'probe-submission' || c.kind === 'probe-relay') {
        observations.push(probeObservation(t, c, run, run.relayIps?.(t.id) ?? []));
      }
    }
    observations.push(...confirmationObservations(t.id, t.checks, run));
  }
  return { checks, observations };
}
