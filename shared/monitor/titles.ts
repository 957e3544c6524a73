/**
 * Incident titles and explanations in words, one entry per finding code (pure). An alert's title is what a PSA
 * ticket, a Slack line and an e-mail subject show first: "SPF of fabrikam.example does not authorise relay IP
 * 203.0.113.7", never the code (the code stays in the alert's JSON and the report). `why` says why the problem
 * matters, for that problem: a missing Microsoft 365 include is not about relay IPs.
 *
 * Codes are those of docs/findings.md; a code missing here gets a generic title built from the check and status
 * (a unit test keeps the table complete).
 */
import { CATALOGUE, type DiagnosisId } from '../probe/diagnosis-table.ts';

/** What a title may use: the subject (domain, IP, mailbox) and the addresses the findings of that code name. */
export interface TitleInput {
  readonly subject: string;
  /** `evidence.ip` of every finding with the code, in order (relay IPs, MX hosts' addresses…). */
  readonly ips: readonly string[];
  /** `evidence.host` / `evidence.exchange` values, when the findings name hosts. */
  readonly hosts: readonly string[];
}

type Title = (i: TitleInput) => string;

function list(items: readonly string[], one: string, many: string): string {
  const shown = items.slice(0, 3).join(', ');
  const more = items.length > 3 ? ` and ${items.length - 3} more` : '';
  return items.length === 1 ? `${one} ${shown}` : `${many} ${shown}${more}`;
}

const S =
  (t: (d: string, i: TitleInput) => string): Title =>
  (i) =>
    t(i.subject, i);

/** Titles by finding code. */
export const FINDING_TITLES: Readonly<Record<string, Title>> = {
  // SPF
  'spf-dns-unknown': S((d) => `SPF of ${d} could not be read (DNS did not answer)`),
  'spf-domain-nxdomain': S((d) => `${d} does not exist in DNS`),
  'spf-missing': S((d) => `${d} publishes no SPF record`),
  'spf-multiple-records': S((d) => `${d} publishes more than one SPF record`),
  'spf-syntax-error': S((d) => `SPF record of ${d} has a syntax error`),
  'spf-include-permerror': S((d) => `SPF of ${d} includes a domain without a usable SPF record`),
  'spf-include-temperror': S((d) => `An include in the SPF of ${d} could not be resolved`),
  'spf-include-loop': S((d) => `SPF of ${d} includes itself in a loop`),
  'spf-include-too-deep': S((d) => `SPF of ${d} nests includes too deep`),
  'spf-lookup-limit': S((d) => `SPF of ${d} needs more than 10 DNS lookups`),
  'spf-lookup-near-limit': S((d) => `SPF of ${d} is close to the 10-lookup limit`),
  'spf-lookups': S((d) => `DNS lookups of the SPF of ${d}`),
  'spf-void-lookup': S((d) => `SPF of ${d} looks up a name that does not exist`),
  'spf-void-limit': S((d) => `SPF of ${d} has more than 2 void lookups`),
  'spf-mx-too-many': S((d) => `An mx term in the SPF of ${d} names more than 10 hosts`),
  'spf-lookup-unknown': S((d) => `A lookup in the SPF of ${d} could not be resolved`),
  'spf-all-pass': S((d) => `SPF of ${d} lets anyone send (+all)`),
  'spf-all-neutral': S((d) => `SPF of ${d} ends in ?all (neutral)`),
  'spf-all-missing': S((d) => `SPF of ${d} has no all term`),
  'spf-all-softfail': S((d) => `SPF of ${d} ends in ~all`),
  'spf-all-fail': S((d) => `SPF of ${d} ends in -all`),
  'spf-all-redirect': S((d) => `SPF of ${d} ends in a redirect`),
  'spf-ptr': S((d) => `SPF of ${d} uses the ptr mechanism`),
  'spf-record-too-long': S((d) => `SPF record of ${d} is over 450 bytes`),
  'spf-redirect-ignored': S((d) => `SPF of ${d} has a redirect that is ignored`),
  'spf-m365-include': S((d) => `SPF of ${d} includes Microsoft 365`),
  'spf-m365-include-missing': S((d) => `SPF of ${d} does not include Microsoft 365 (spf.protection.outlook.com)`),
  'spf-m365-include-unknown': S((d) => `SPF of ${d}: the Microsoft 365 include could not be confirmed`),
  'spf-relay-ip-pass': S((d, i) => `SPF of ${d} authorises ${list(i.ips, 'relay IP', 'relay IPs')}`),
  'spf-relay-ip-not-authorised': S(
    (d, i) =>
      `SPF of ${d} does not authorise ${i.ips.length > 0 ? list(i.ips, 'relay IP', 'relay IPs') : 'a relay IP'}`,
  ),
  'spf-relay-ip-unknown': S((d) => `SPF of ${d} could not be evaluated for a relay IP`),
  'spf-ip-not-relay': S((d, i) => `SPF of ${d} authorises ${list(i.ips, 'IP', 'IPs')} not configured as relay IPs`),
  'spf-no-relay-ips': S((d) => `No relay IPs configured for ${d}`),
  // MX
  'mx-dns-unknown': S((d) => `MX of ${d} could not be read (DNS did not answer)`),
  'mx-domain-nxdomain': S((d) => `${d} does not exist in DNS`),
  'mx-missing': S((d) => `${d} has no MX record`),
  'mx-null': S((d) => `${d} publishes a null MX (receives no mail)`),
  'mx-null-mixed': S((d) => `${d} publishes a null MX beside other MX records`),
  'mx-host-unresolvable': S((d, i) => `An MX host of ${d} has no address${i.hosts[0] ? ` (${i.hosts[0]})` : ''}`),
  'mx-host-unknown': S((d) => `An MX host of ${d} could not be resolved`),
  'mx-m365-missing': S((d) => `MX of ${d} does not point at Exchange Online`),
  'mx-expected-missing': S((d) => `MX of ${d} is not the expected Exchange Online host`),
  'mx-m365-host-unexpected': S((d) => `MX of ${d} points at an unexpected Exchange Online host`),
  'mx-m365-not-preferred': S((d) => `Exchange Online is not the preferred MX of ${d}`),
  'mx-mixed-providers': S((d) => `MX of ${d} mixes several mail providers`),
  'mx-m365-ok': S((d) => `MX of ${d} points at Exchange Online`),
  // Submission settings
  'submission-basic-auth': S((m) => `${m} submits with Basic authentication (retired by Microsoft)`),
  'submission-oauth': S((m) => `${m} submits with OAuth 2.0`),
  // Blocklists
  'blocklist-listed': S((ip) => `${ip} is listed for abuse`),
  'blocklist-policy-listed': S((ip) => `${ip} is in a policy blocklist`),
  'blocklist-neighbourhood': S((ip) => `The network around ${ip} is listed`),
  'blocklist-unknown': S((ip) => `${ip} could not be checked against a blocklist`),
  'blocklist-clean': S((ip) => `${ip} is not listed`),
  'blocklist-none-checked': S((ip) => `${ip} was not checked against any blocklist`),
  // Domain blocklists
  'domain-blocklist-listed': S((d) => `The domain ${d} is listed for abuse`),
  'domain-blocklist-policy-listed': S((d) => `The domain ${d} is in a policy domain blocklist`),
  'domain-blocklist-unknown': S((d) => `The domain ${d} could not be checked against a domain blocklist`),
  'domain-blocklist-clean': S((d) => `The domain ${d} is not listed`),
  'domain-blocklist-none-checked': S((d) => `The domain ${d} was not checked against any domain blocklist`),
  // Probes
  'probe-ok': S((m) => `Probe from ${m} was accepted`),
  'probe-not-run': S((m) => `Probe from ${m} could not be run`),
  // Probe confirmation (the subject is the probe path, `submission:app@contoso.com`)
  delivered: S((p) => `Probe on ${p} arrived in the mailbox`),
  'delivered-late': S((p) => `Probe on ${p} arrived late`),
  'delivered-junk': S((p) => `Probe on ${p} was delivered to Junk Email`),
  'auth-failing': S((p) => `Probe on ${p} arrived failing SPF or DMARC`),
  'not-delivered': S((p) => `Probe on ${p} was accepted but never arrived`),
  'confirmation-unknown': S((p) => `Probe on ${p} could not be looked for in the mailbox`),
  // Site agent
  'agent-egress-ip-ok': S((t) => `${t}: the site sends from a configured relay IP`),
  'agent-egress-ip-changed': S((t, i) => `${t}: the site's public IP changed${i.ips[0] ? ` to ${i.ips[0]}` : ''}`),
  'agent-egress-ip-not-configured': S((t) => `${t}: the site's public IP is not configured as a relay IP`),
  'agent-egress-ip-unknown': S((t) => `${t}: the site's public IP could not be discovered`),
};

const PROBE_LABEL: Record<string, string> = { 'probe-relay': 'Relay probe', 'probe-submission': 'Submission probe' };

/** The title of a probe incident: the diagnosis's own title (`Sending IP is on Microsoft’s blocklist`). */
export function probeTitle(kind: string, subject: string, diagnosis: string): string {
  const entry = (CATALOGUE as Readonly<Record<string, { readonly title: string } | undefined>>)[diagnosis];
  const label = PROBE_LABEL[kind] ?? 'Probe';
  return entry ? `${label} from ${subject}: ${entry.title}` : `${label} from ${subject}: the reply was not recognised`;
}

/** The title for a finding code; `fallback` when the code is not in the table (a new code, a custom check). */
export function findingTitle(code: string, input: TitleInput, fallback: string): string {
  if (code.startsWith('probe-') && code !== 'probe-ok' && code !== 'probe-not-run') {
    const id = code.slice('probe-'.length) as DiagnosisId;
    if (id in CATALOGUE) return `Probe from ${input.subject}: ${CATALOGUE[id].title}`;
  }
  const t = FINDING_TITLES[code];
  return t ? t(input) : fallback;
}

const SPF_RELAY =
  'Exchange Online and other receivers check SPF for mail relayed from the site: a relay IP the record does not authorise fails SPF, and mail is rejected or junked.';
const SPF_BROKEN =
  'A receiver that cannot evaluate the SPF record treats it as a permanent error (permerror): mail from every sender of the domain, Microsoft 365 included, can fail SPF and DMARC, and be rejected or junked.';

/** Why a problem matters, by the finding code that opened the incident. */
export const FINDING_WHY: Readonly<Record<string, string>> = {
  'spf-relay-ip-not-authorised': SPF_RELAY,
  'spf-missing':
    'Without an SPF record no receiver can tell the domain’s real senders from forgeries: mail from the tenant’s mailboxes and relayed devices is more likely to be junked, and DMARC cannot pass on SPF.',
  'spf-domain-nxdomain':
    'The domain does not exist in DNS: nothing sent as it can pass SPF, and mail to it cannot be delivered.',
  'spf-multiple-records': `Two SPF records are a permanent error by RFC 7208. ${SPF_BROKEN}`,
  'spf-syntax-error': SPF_BROKEN,
  'spf-include-permerror': SPF_BROKEN,
  'spf-include-loop': SPF_BROKEN,
  'spf-include-too-deep': SPF_BROKEN,
  'spf-lookup-limit': `Receivers stop after 10 DNS lookups. ${SPF_BROKEN}`,
  'spf-void-limit': `Strict receivers stop after 2 lookups that return nothing. ${SPF_BROKEN}`,
  'spf-mx-too-many': SPF_BROKEN,
  'spf-all-pass':
    '+all authorises every server on the Internet to send as the domain: SPF protects nothing, and receivers that notice treat the domain as a spam source.',
  'spf-m365-include-missing':
    'Mail the tenant’s mailboxes send through Exchange Online leaves from Microsoft’s servers: without include:spf.protection.outlook.com those servers are not authorised, so that mail fails SPF (and DMARC, unless DKIM passes) at receivers outside the tenant.',
  'mx-domain-nxdomain': 'The domain does not exist in DNS: mail to it bounces, and nothing sent as it can pass SPF.',
  'mx-missing':
    'Without an MX record mail to the domain is not routed to Exchange Online, and devices that relay to the MX endpoint have nowhere to go.',
  'mx-null': 'A null MX says the domain receives no mail: every message to it bounces.',
  'mx-null-mixed': 'A null MX beside other records is contradictory: receivers may bounce mail to the domain.',
  'mx-host-unresolvable':
    'Senders cannot reach an MX host without an address: mail to the domain is delayed or bounces.',
  'mx-m365-missing':
    'Devices relay to the tenant’s Exchange Online MX endpoint, and mail to the domain is routed by MX: an MX that is not Exchange Online breaks both.',
  'mx-expected-missing':
    'The MX is not the Exchange Online endpoint the admin centre shows for the tenant: devices relaying to the expected host and mail routed by MX may go elsewhere.',
};

/** Why a domain problem matters: the code's own explanation, else the check's general one. */
export function findingWhy(check: string, code: string | undefined): string {
  const own = code ? FINDING_WHY[code] : undefined;
  if (own) return own;
  return check === 'spf'
    ? 'Receivers check SPF for the domain: a record they cannot use, or one that does not authorise the real senders, gets mail rejected or junked.'
    : 'Devices relay to the MX endpoint, and mail to the domain is routed by MX: a wrong MX breaks both.';
}
