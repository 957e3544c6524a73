/**
 * Warnings for quiet times and routes that match nothing (pure, on the validated configuration): a mute or a
 * maintenance window that names a check kind relaywatch does not have, a mute whose subject is none of the tenant's
 * (a domain, relay IP, blocklist zone or mailbox it does not monitor), and an alert
 * route no tenant sends to. Each of these silently does nothing at run time, which is exactly what a user who wrote it
 * did not mean: `check` and `config validate` show them.
 *
 * Mute subjects are matched as the incidents name them: a domain (`spf`, `mx`), a mailbox (`probe-submission`,
 * `probe-relay`), `<ip>@<zone>` (`blocklist`) and `<domain>@<zone>` (`domain-blocklist`), where the zone may be its
 * id (`spamhaus-zen`) or its name as alerts show it (`zen.spamhaus.org`).
 */

import { ZONES } from '../blocklist/registry.ts';
import { ipInEntries } from '../domain/ip.ts';
import { quote } from './problems.ts';
import type { RuleProblem } from './rules.ts';
import type { RelaywatchConfig } from './schema.ts';

/** The check kinds incidents are opened for (what `check:` of a mute or window may name). */
export const INCIDENT_CHECKS: readonly string[] = [
  'spf',
  'mx',
  'blocklist',
  'domain-blocklist',
  'probe-submission',
  'probe-relay',
  'submission',
  'relaywatch',
];

function splitAt(subject: string): [string, string] | null {
  const at = subject.lastIndexOf('@');
  return at <= 0 || at === subject.length - 1 ? null : [subject.slice(0, at), subject.slice(at + 1)];
}

/** Why a subject matches nothing of the tenant for the check (or any check), or null when it can match. */
function subjectMismatch(
  config: RelaywatchConfig,
  tenant: RelaywatchConfig['tenants'][number],
  check: string | undefined,
  subject: string,
): string | null {
  const s = subject.toLowerCase();
  const domains = new Set(tenant.domains.map((d) => d.name.toLowerCase()));
  const mailboxes = new Set(
    [tenant.submission?.mailbox, tenant.relay?.sender].filter((m): m is string => !!m).map((m) => m.toLowerCase()),
  );
  // Every zone a run may ask (`--zone` picks any registry or custom zone), not only those enabled by default.
  const zones = [...ZONES, ...(config.blocklists?.custom ?? [])];
  const zoneKnown = (z: string) => zones.some((x) => x.id.toLowerCase() === z || x.name.toLowerCase() === z);
  const zoneNames = () =>
    `registry zones such as zen.spamhaus.org or bl.spamcop.net${
      config.blocklists?.custom?.length ? `, or custom ${config.blocklists.custom.map((z) => z.name).join(', ')}` : ''
    }; see relaywatch blocklist --help`;
  const reasons: string[] = [];
  const tryBlocklist = (kind: 'blocklist' | 'domain-blocklist'): boolean => {
    const parts = splitAt(s);
    if (!parts) {
      reasons.push(`a ${kind} subject is <${kind === 'blocklist' ? 'ip' : 'domain'}>@<zone>`);
      return false;
    }
    const [left, zone] = parts;
    if (!zoneKnown(zone)) {
      reasons.push(`${quote(zone)} is none of the tenant's blocklist zones (${zoneNames()})`);
      return false;
    }
    if (kind === 'domain-blocklist') {
      if (domains.has(left)) return true;
      reasons.push(`${quote(left)} is none of the tenant's domains`);
      return false;
    }
    if (ipInEntries(left, tenant.relayIps ?? [])) return true;
    reasons.push(
      `${quote(left)} is none of the tenant's relay IPs (it matches only if the tenant's own SPF record authorises it)`,
    );
    return false;
  };
  const kinds = check === undefined ? INCIDENT_CHECKS : [check];
  for (const k of kinds) {
    switch (k) {
      case 'spf':
      case 'mx':
        if (domains.has(s)) return null;
        if (check !== undefined) reasons.push(`${quote(subject)} is none of the tenant's domains`);
        break;
      case 'probe-submission':
      case 'probe-relay':
        if (mailboxes.has(s)) return null;
        if (check !== undefined) reasons.push(`${quote(subject)} is not the tenant's probe mailbox or relay sender`);
        break;
      case 'blocklist':
      case 'domain-blocklist':
        if (tryBlocklist(k)) return null;
        break;
      default:
        if (check !== undefined) return null; // other checks: any subject
    }
  }
  return reasons.length > 0
    ? reasons.join('; ')
    : `${quote(subject)} is none of the tenant's domains, relay IPs, mailboxes or <ip>@<zone> listings`;
}

export function checkMatchRules(config: RelaywatchConfig): RuleProblem[] {
  const out: RuleProblem[] = [];
  const checks = () => INCIDENT_CHECKS.join(', ');
  config.tenants.forEach((t, ti) => {
    (t.mutes ?? []).forEach((m, mi) => {
      const path = ['tenants', ti, 'mutes', mi] as const;
      if (m.check !== undefined && !INCIDENT_CHECKS.includes(m.check)) {
        out.push({
          path: [...path, 'check'],
          message: `this mute matches nothing: ${quote(m.check)} is not a check kind (${checks()})`,
          severity: 'warning',
        });
        return;
      }
      if (m.subject !== undefined) {
        const why = subjectMismatch(config, t, m.check, m.subject);
        if (why !== null) {
          out.push({
            path: [...path, 'subject'],
            message: `this mute matches nothing: ${why}`,
            severity: 'warning',
          });
          return;
        }
      }
    });
    (t.maintenance ?? []).forEach((w, wi) => {
      const path = ['tenants', ti, 'maintenance', wi] as const;
      const unknown = (w.checks ?? []).filter((c) => !INCIDENT_CHECKS.includes(c));
      if (unknown.length > 0) {
        out.push({
          path: [...path, 'checks'],
          message: `${unknown.map((c) => quote(c)).join(', ')} ${unknown.length === 1 ? 'is not a check kind' : 'are not check kinds'} (${checks()}): ${
            unknown.length === (w.checks ?? []).length ? 'this window matches nothing' : 'that part matches nothing'
          }`,
          severity: 'warning',
        });
      }
    });
  });
  const used = new Set<string>(config.alerts?.default ?? []);
  for (const t of config.tenants) for (const r of t.alerts?.routes ?? []) used.add(r);
  // A route that only sends the weekly digest is used (config validate checks the digest's references itself).
  for (const r of [config.digest?.msp?.route, config.digest?.tenantRoute ?? config.digest?.msp?.route]) {
    if (r !== undefined && config.digest?.enabled !== false) used.add(r);
  }
  (config.alerts?.routes ?? []).forEach((r, ri) => {
    if (used.has(r.id)) return;
    out.push({
      path: ['alerts', 'routes', ri, 'id'],
      message: `route ${quote(r.id)} matches nothing: it is not in alerts.default and no tenant names it in alerts.routes, so it is never sent to`,
      severity: 'warning',
    });
  });
  return out;
}
