/**
 * The blocklist check of one IP, and the domain-blocklist check of one domain: the engine's per-zone results turned
 * into an outcome with findings (pure). Both read the same way (codes `blocklist-*` / `domain-blocklist-*`).
 *
 * The IP check, in detail:
 * An abuse listing of the address fails the check; a policy listing (e.g. Spamhaus PBL "dynamic IP space") warns;
 * neighbourhood information (UCEPROTECT levels 2/3) is only context and never counts as a listing of the customer;
 * a zone that could not answer makes the check unknown. Finding codes are stable (README: "Blocklist findings").
 */
import type { DomainResult, IpResult, ZoneResult } from '../blocklist/engine.ts';
import { type CheckOutcome, type Finding, finding, statusOf } from '../domain/outcome.ts';

/** The engine's reason prefix for pairs of a zone it stopped trusting for the run. */
const UNUSABLE = 'zone unusable for this run';

function codesText(z: ZoneResult): string {
  return z.codes.map((c) => `${c.code} ${c.meaning}`).join('; ');
}

function where(z: ZoneResult): string {
  const url = z.removalUrl ?? z.lookupUrl;
  return url ? ` Removal: ${url}` : '';
}

function zoneLabel(z: ZoneResult): string {
  return `${z.operator} (${z.zone})`;
}

/** How a subject is named in findings: an address (`blocklist-*`) or a domain (`domain-blocklist-*`). */
interface Subject {
  readonly prefix: 'blocklist' | 'domain-blocklist';
  readonly key: 'ip' | 'domain';
  readonly name: string;
  /** What receivers refuse when it is listed. */
  readonly consequence: string;
}

export function blocklistFindings(result: IpResult): Finding[] {
  return subjectFindings(result, {
    prefix: 'blocklist',
    key: 'ip',
    name: result.ip,
    consequence: 'Receivers that use this list reject or junk mail from it.',
  });
}

/** Findings of one domain in the domain blocklists (Spamhaus DBL, SURBL, URIBL, NordSpam). */
export function domainBlocklistFindings(result: DomainResult): Finding[] {
  return subjectFindings(result, {
    prefix: 'domain-blocklist',
    key: 'domain',
    name: result.domain,
    consequence:
      'Receivers that use this list reject or junk mail sent from the domain (MAIL FROM, From) or linking to it, whatever IP it comes from.',
  });
}

function subjectFindings(
  result: { readonly zones: readonly ZoneResult[]; readonly skipped: IpResult['skipped'] },
  s: Subject,
): Finding[] {
  const out: Finding[] = [];
  const ip = s.name;
  const code = (suffix: string) => `${s.prefix}-${suffix}`;
  for (const z of result.zones) {
    const evidence = {
      [s.key]: ip,
      zone: z.zoneId,
      codes: z.codes.map((c) => ({ code: c.code, meaning: c.meaning, kind: c.kind })),
      reason: z.reason,
      removalUrl: z.removalUrl,
    };
    if (z.status === 'listed') {
      const reason = z.reason ? ` Reason given: ${JSON.stringify(z.reason)}.` : '';
      if (z.kind === 'abuse') {
        out.push(
          finding(
            code('listed'),
            'error',
            `${ip} is listed by ${zoneLabel(z)}: ${codesText(z)}.${reason} ${s.consequence}${where(z)}`,
            evidence,
          ),
        );
      } else if (z.kind === 'policy') {
        out.push(
          finding(
            code('policy-listed'),
            'warning',
            s.key === 'ip'
              ? `${ip} is in a policy list of ${zoneLabel(z)}: ${codesText(z)}. This says the address space should not send mail directly (not that it sent spam); ask the ISP to mark the static IP as a mail sender, or relay through Exchange Online.${where(z)}`
              : `${ip} is in a policy list of ${zoneLabel(z)}: ${codesText(z)}. This classifies the domain (bulk mail, young or private registration, tracking), it is not an abuse listing; some receivers score it.${where(z)}`,
            evidence,
          ),
        );
      } else {
        out.push(
          finding(
            code('neighbourhood'),
            'info',
            `The network around ${ip} is listed by ${zoneLabel(z)} (${codesText(z)}): neighbourhood information, not a listing of this address.`,
            evidence,
          ),
        );
      }
    } else if (z.status === 'unknown' && !z.why?.startsWith(UNUSABLE)) {
      out.push(
        finding(code('unknown'), 'unknown', `${ip} could not be checked against ${zoneLabel(z)}: ${z.why}.`, {
          [s.key]: ip,
          zone: z.zoneId,
          why: z.why,
        }),
      );
    }
  }
  // Zones unusable for the whole run (failed health check, refusing, dead) are one finding per IP, not one per zone:
  // the zone health in the report says why each is unusable.
  const unusable = result.zones.filter((z) => z.status === 'unknown' && z.why?.startsWith(UNUSABLE));
  if (unusable.length > 0) {
    out.push(
      finding(
        code('unknown'),
        'unknown',
        `${ip} could not be checked against ${unusable.length} blocklist(s) unusable in this run (${unusable.map((z) => z.zoneId).join(', ')}); the zone health says why.`,
        { [s.key]: ip, zones: unusable.map((z) => ({ zone: z.zoneId, why: z.why })) },
      ),
    );
  }
  const clean = result.zones.filter((z) => z.status === 'clean').map((z) => z.zoneId);
  if (clean.length > 0) {
    out.push(
      finding(code('clean'), 'info', `${ip} is not listed by ${clean.length} blocklist(s).`, {
        [s.key]: ip,
        zones: clean,
      }),
    );
  }
  if (result.zones.length === 0) {
    out.push(
      finding(code('none-checked'), 'info', `${ip} was not checked against any blocklist (none applies).`, {
        [s.key]: ip,
        skipped: result.skipped.map((s) => ({ zone: s.zoneId, why: s.why })),
      }),
    );
  }
  return out;
}

/** One zone's verdict for one IP as reports show it (the `zones[]` of the JSON contracts). */
export function zoneReport(z: ZoneResult) {
  return {
    zone: z.zoneId,
    name: z.zone,
    status: z.status,
    codes: z.codes.map((c) => ({ code: c.code, meaning: c.meaning, kind: c.kind })),
    kind: z.kind,
    reason: z.reason,
    why: z.why,
    removalUrl: z.removalUrl,
    lookupUrl: z.lookupUrl,
  };
}

export function blocklistOutcome(result: IpResult, durationMs = 0): CheckOutcome {
  const findings = blocklistFindings(result);
  return {
    kind: 'blocklist',
    subject: result.ip,
    status: statusOf(findings),
    findings,
    details: {
      ip: result.ip,
      zones: result.zones.map(zoneReport),
      skipped: result.skipped.map((s) => ({ zone: s.zoneId, why: s.why })),
    },
    durationMs,
  };
}

/** The domain-blocklist check of one domain name (kind `domain-blocklist`, subject the domain). */
export function domainBlocklistOutcome(result: DomainResult, durationMs = 0): CheckOutcome {
  const findings = domainBlocklistFindings(result);
  return {
    kind: 'domain-blocklist',
    subject: result.domain,
    status: statusOf(findings),
    findings,
    details: {
      domain: result.domain,
      zones: result.zones.map(zoneReport),
      skipped: result.skipped.map((s) => ({ zone: s.zoneId, why: s.why })),
    },
    durationMs,
  };
}
