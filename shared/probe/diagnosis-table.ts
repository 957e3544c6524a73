/**
 * THE classification table for probe results, and the catalogue of diagnoses it can produce.
 *
 * Rules are tried in order; the first that matches wins. A rule matches on any combination of: the probe stage, a
 * transport failure (no reply), the basic reply code (or a range), the RFC 3463 enhanced status code (or a range of
 * its detail part) and a case-insensitive phrase. Codes are matched against the reply's own code pair and against code
 * pairs quoted inside its text (a relay such as Postfix wraps Exchange's answer in its own words), so specific
 * Microsoft codes come first and generic fallbacks last.
 *
 * The ids in `DIAGNOSIS_IDS` are a public contract (README "Probe diagnoses"): MSPs write PSA rules on them. Add ids;
 * never rename or reuse one.
 */
import type { DiagnosisSeverity, ProbeStage, TransportFailure } from './diagnosis.ts';

export const DIAGNOSIS_IDS = [
  'ok',
  'ms-banned-ip',
  'ms-banned-sender',
  'ms-ip-rejected',
  'ms-tenant-threshold',
  'ms-unregistered-domain',
  'ip-throttled',
  'connector-mismatch',
  'wrong-region',
  'relay-denied',
  'send-as-denied',
  'bad-outbound-sender',
  'auth-required',
  'starttls-required',
  'tls-version-unsupported',
  'smtp-auth-disabled-tenant',
  'smtp-auth-disabled-mailbox',
  'basic-auth-disabled',
  'auth-failed',
  'spf-fail',
  'dmarc-fail',
  'direct-send-rejected',
  'rate-limited',
  'dns-failure',
  'connection-refused',
  'timeout',
  'tls-handshake-failed',
  'certificate-invalid',
  'starttls-not-offered',
  'protocol-error',
  'oauth-token-failed',
  'unclassified',
] as const;

export type DiagnosisId = (typeof DIAGNOSIS_IDS)[number];

export interface CatalogueEntry {
  readonly severity: DiagnosisSeverity;
  readonly title: string;
  /** One or two sentences for a person. */
  readonly explanation: string;
  /** Concrete steps, in order. `{ip}` is replaced by the IP the reply names, or by "the sending IP". */
  readonly remediation: readonly string[];
  /** A delisting request (Microsoft's portal or delist mailbox) is the way out. */
  readonly delistable: boolean;
  /** Retrying the same send later, without changing anything, may succeed. */
  readonly retryable: boolean;
  /** One line for the README table. */
  readonly summary: string;
}

const SENDER_PORTAL = 'https://sender.office.com';

export const CATALOGUE: { readonly [K in DiagnosisId]: CatalogueEntry } = {
  ok: {
    severity: 'info',
    title: 'Accepted',
    explanation:
      'Exchange Online accepted this step (2xx/3xx reply); at the end of DATA the message was queued for delivery.',
    remediation: [],
    delistable: false,
    retryable: false,
    summary: 'The server accepted the step; after the final dot the message was queued (queue id kept when given).',
  },
  'ms-banned-ip': {
    severity: 'error',
    title: 'Sending IP is on Microsoft’s blocklist',
    explanation:
      'Exchange Online refused the connection because the sending IP is on Microsoft’s own blocklist (5.7.606–5.7.649). Microsoft publishes no DNS blocklist: this reply is the only place the listing shows.',
    remediation: [
      'Confirm that {ip} is one of your public egress IPs (the connector IPs and the SPF record must list it).',
      'Find and fix the cause before delisting: an infected or compromised device, an open relay, a misbehaving app or a bulk sender behind that IP.',
      'Check that SPF (include:spf.protection.outlook.com plus ip4:/ip6: for {ip}) and the inbound connector IPs agree.',
      `Request removal at ${SENDER_PORTAL} (the IP and the address that received the NDR; confirm through the e-mail link), or at delist@messaging.microsoft.com or whatever address/URL the NDR itself prints.`,
      'Allow up to 24 hours for the removal to take effect, then re-run the probe.',
    ],
    delistable: true,
    retryable: false,
    summary: 'Microsoft lists the sending IP (5.7.606–649); fix the cause, delist at sender.office.com.',
  },
  'ms-banned-sender': {
    severity: 'error',
    title: 'Sender is banned by Microsoft',
    explanation:
      'Exchange Online banned the sender (5.7.511). The self-service delist portal cannot be used for this listing.',
    remediation: [
      'Check the sending account and domain for compromise or abuse and fix the cause.',
      'E-mail delist@microsoft.com with the full NDR (with timestamp), the sending IP and domain, and the remediation done.',
      'Wait for Microsoft’s answer; re-run the probe after removal.',
    ],
    delistable: true,
    retryable: false,
    summary: 'Microsoft banned the sender (5.7.511); portal not usable, mail delist@microsoft.com with the NDR.',
  },
  'ms-ip-rejected': {
    severity: 'error',
    title: 'Microsoft does not accept traffic from this IP',
    explanation:
      'Exchange Online refuses traffic from the sending IP (5.7.708), usually because most traffic from it looked suspicious. This is not the ordinary blocklist and the delist portal does not apply.',
    remediation: [
      'Confirm that {ip} is your public egress IP and that only your devices send through it.',
      'Send through a different, clean egress IP (or authenticated submission on port 587) while this lasts.',
      'Open a Microsoft 365 support case from the affected tenant, with the full NDR.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Microsoft refuses traffic from the IP (5.7.708); not delistable via portal, open a support case.',
  },
  'ms-tenant-threshold': {
    severity: 'error',
    title: 'Tenant exceeded Microsoft’s sending threshold',
    explanation:
      'Exchange Online blocked the tenant because it exceeded a sending threshold (5.7.705), often after a compromised account sent spam.',
    remediation: [
      'Look for compromised accounts or devices that sent unusual volumes (message trace, Defender alerts) and secure them.',
      'Check Microsoft 365 Defender → Restricted entities for blocked users and release them once clean.',
      'Open a Microsoft 365 support case to lift the tenant block.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The tenant went over a sending threshold (5.7.705); secure accounts, open a support case.',
  },
  'ms-unregistered-domain': {
    severity: 'error',
    title: 'Sender domain is not an accepted domain',
    explanation:
      'Exchange Online refused to relay because the sender domain is not registered as an accepted domain in the tenant (5.7.750).',
    remediation: [
      'Set the device’s sender address to a domain of the tenant (Microsoft 365 admin centre → Settings → Domains).',
      'Or add and verify the domain as an accepted domain in the tenant.',
      'If the tenant is new or was used for spam, open a Microsoft 365 support case.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Sending from a domain the tenant has not registered (5.7.750).',
  },
  'ip-throttled': {
    severity: 'warning',
    title: 'Sending IP is throttled',
    explanation:
      'Exchange Online temporarily deferred the sending IP (4.7.500–699, 4.7.850–899, including 4.7.650/651 rate limiting for IP reputation). This is temporary but a sign of poor or new IP reputation.',
    remediation: [
      'Let the device or MTA retry; deferrals normally clear within hours.',
      'Check {ip} on public blocklists and look for unusual volume from that IP.',
      'If it persists for more than a day, treat it as a reputation problem: fix the cause and contact Microsoft support.',
    ],
    delistable: false,
    retryable: true,
    summary: 'Microsoft temporarily defers the IP (4.7.500–699, 4.7.850–899); retry, watch reputation.',
  },
  'connector-mismatch': {
    severity: 'error',
    title: 'No inbound connector matches the sending IP',
    explanation:
      'Exchange Online could not attribute the relay to the tenant (5.7.64 TenantAttribution): the source IP or certificate matches no On-premises inbound connector. Most often the site’s public IP changed.',
    remediation: [
      'Find the site’s current public IP (the agent reports it; the reply may name {ip}).',
      'Exchange admin centre → Mail flow → Connectors: update the On-premises inbound connector’s IP addresses (or certificate subject) to match.',
      'Update the SPF record so it lists the same IP (ip4:/ip6:), keeping include:spf.protection.outlook.com.',
      'Re-run the probe; connector changes can take a few minutes to apply.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The relay IP/certificate matches no inbound connector (5.7.64); public IP changed? Update the connector.',
  },
  'wrong-region': {
    severity: 'error',
    title: 'Mail sent to the wrong Microsoft 365 region',
    explanation:
      'Exchange Online deferred the message because it reached the wrong region for the tenant (4.4.62, ATTR35), usually because the sender domain or connector does not belong to the tenant behind that endpoint.',
    remediation: [
      'Use the tenant’s own MX endpoint (<domain>.mail.protection.outlook.com) shown in the Microsoft 365 admin centre.',
      'Check that the sender domain is an accepted domain of that tenant and that the inbound connector is in the same tenant.',
      'If both are right, open a Microsoft 365 support case.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The message reached the wrong Microsoft 365 region (4.4.62); check endpoint, domain and connector.',
  },
  'relay-denied': {
    severity: 'error',
    title: 'Relay denied',
    explanation:
      'The server refused to relay to the recipient (5.7.1 / 5.7.54 Unable to relay): the connection was not recognised as a trusted relay for an external recipient.',
    remediation: [
      'For relay to external recipients, create or fix an On-premises inbound connector that trusts the site’s public IP (or certificate).',
      'Make sure the sender address uses an accepted domain of the tenant.',
      'Or switch the device to authenticated submission (smtp.office365.com:587 with STARTTLS and a licensed mailbox).',
    ],
    delistable: false,
    retryable: false,
    summary: 'Relay to the recipient refused (5.7.1 Unable to relay); connector or accepted domain missing.',
  },
  'send-as-denied': {
    severity: 'error',
    title: 'Mailbox may not send as this sender',
    explanation:
      'The authenticated mailbox has no permission to send as the sender address used in MAIL FROM or From (5.7.60).',
    remediation: [
      'Use the authenticated mailbox’s own address as the sender on the device.',
      'Or grant Send As on the sender mailbox: Add-RecipientPermission -Identity <sender> -Trustee <mailbox> -AccessRights SendAs.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The authenticated mailbox lacks Send As rights for the sender address (5.7.60).',
  },
  'bad-outbound-sender': {
    severity: 'error',
    title: 'Outbound sender blocked',
    explanation:
      'Exchange Online blocked the sending account as a bad outbound sender (5.1.8), typically after it was detected sending spam.',
    remediation: [
      'Treat the account as compromised: reset its password, revoke sessions, check inbox rules and app registrations.',
      'Microsoft 365 Defender → Restricted entities: release the user once it is clean.',
      'Re-run the probe after the release (can take up to 24 hours).',
    ],
    delistable: false,
    retryable: false,
    summary: 'The sending account is restricted as a bad outbound sender (5.1.8); secure it, release it.',
  },
  'auth-required': {
    severity: 'error',
    title: 'Authentication required',
    explanation:
      'The server wants SMTP AUTH before accepting mail (5.7.57 Client not authenticated): the device sent without logging in to smtp.office365.com.',
    remediation: [
      'Configure the device with SMTP AUTH credentials of a licensed mailbox (OAuth where the device supports it).',
      'Or, for devices that cannot authenticate, use relay through the tenant’s MX endpoint with an inbound connector.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Submission without SMTP AUTH (5.7.57); configure credentials or use a relay connector.',
  },
  'starttls-required': {
    severity: 'error',
    title: 'STARTTLS required',
    explanation: 'The server requires STARTTLS before this step (5.7.3 STARTTLS is required to send mail).',
    remediation: [
      'Enable STARTTLS (often labelled TLS or “SSL/TLS: STARTTLS”) on port 587 in the device’s SMTP settings; implicit TLS on 465 is not supported.',
      'If the device cannot do TLS 1.2, it cannot use submission: use relay through the MX endpoint with an inbound connector instead.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The client did not start TLS where it is required (5.7.3 STARTTLS is required).',
  },
  'tls-version-unsupported': {
    severity: 'error',
    title: 'TLS version not supported',
    explanation: 'Exchange Online refuses TLS 1.0 and 1.1 (4.7.66); the device negotiated an old TLS version.',
    remediation: [
      'Update the device firmware or app so it supports TLS 1.2 or later.',
      'If it cannot, route it through a local relay that speaks TLS 1.2, or use relay through the MX endpoint with an inbound connector.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The client offered only TLS 1.0/1.1 (4.7.66); update firmware or use a local relay.',
  },
  'smtp-auth-disabled-tenant': {
    severity: 'error',
    title: 'SMTP AUTH disabled for the tenant',
    explanation:
      'Authenticated SMTP submission is turned off for the whole tenant (5.7.139 SmtpClientAuthentication is disabled for the Tenant). This blocks OAuth submission too.',
    remediation: [
      'Decide whether the tenant should allow SMTP AUTH at all; if yes: Set-TransportConfig -SmtpClientAuthenticationDisabled $false.',
      'Prefer enabling it only per mailbox: keep the tenant switch off and run Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false.',
      'Or move the device to relay through an inbound connector, High Volume Email or Azure Communication Services Email.',
    ],
    delistable: false,
    retryable: false,
    summary: 'SMTP AUTH is off for the whole tenant (5.7.139 …for the Tenant); blocks OAuth too.',
  },
  'smtp-auth-disabled-mailbox': {
    severity: 'error',
    title: 'SMTP AUTH disabled for the mailbox',
    explanation:
      'Authenticated SMTP submission is turned off for this mailbox (5.7.139 SmtpClientAuthentication is disabled for the Mailbox).',
    remediation: [
      'Enable it for the sending mailbox: Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false (or Microsoft 365 admin centre → user → Mail → Manage email apps → Authenticated SMTP).',
      'Allow a few minutes to an hour for the change to apply, then re-run the probe.',
    ],
    delistable: false,
    retryable: false,
    summary: 'SMTP AUTH is off for the sending mailbox (5.7.139 …for the Mailbox).',
  },
  'basic-auth-disabled': {
    severity: 'error',
    title: 'Basic authentication disabled',
    explanation:
      'Exchange Online refused username/password (Basic) authentication for SMTP AUTH (5.7.139 basic authentication is disabled, or 5.7.30). Basic auth for SMTP AUTH is off by default from the end of December 2026 and will be removed.',
    remediation: [
      'Migrate the device or app to OAuth 2.0 (SASL XOAUTH2): register an Entra app with Office 365 Exchange Online → Application → SMTP.SendAsApp and grant admin consent.',
      'Register its service principal in Exchange (New-ServicePrincipal) and grant it the mailbox (Add-MailboxPermission).',
      'Request tokens from https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token with scope https://outlook.office365.com/.default.',
      'If the device cannot do OAuth: relay through an inbound connector, High Volume Email (smtp.hve.mx.microsoft:587) or Azure Communication Services Email (smtp.azurecomm.net:587).',
    ],
    delistable: false,
    retryable: false,
    summary: 'Basic (password) auth refused for SMTP AUTH (5.7.139 basic / 5.7.30); migrate to OAuth.',
  },
  'auth-failed': {
    severity: 'error',
    title: 'Authentication failed',
    explanation:
      'The server rejected the credentials (535, 5.7.139, or 5.7.3 Authentication unsuccessful): wrong password or token, MFA/security defaults, Conditional Access, or a missing OAuth permission.',
    remediation: [
      'Check the username (full UPN) and password or token; for OAuth check the SMTP.SendAsApp permission, admin consent, the Exchange service principal and its mailbox permission.',
      'Check the Entra sign-in logs for the mailbox: security defaults or a Conditional Access policy may block legacy SMTP sign-in.',
      'Check that the account is not locked and is licensed.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Credentials or token rejected (535, other 5.7.139 texts, 5.7.3 Authentication unsuccessful).',
  },
  'oauth-token-failed': {
    severity: 'error',
    title: 'OAuth token could not be obtained',
    explanation:
      'Entra ID did not issue an access token for SMTP AUTH (client credentials), so the probe never connected to the submission endpoint. The detail names the reason and the AADSTS code when Entra gave one.',
    remediation: [
      'Check the Entra application: the client ID, a client secret that has not expired (Certificates & secrets), and the tenant ID or domain in the configuration.',
      'Check that the app has Office 365 Exchange Online → SMTP.SendAsApp (application permission) with admin consent.',
      'If the reason is a network error or a timeout, check that login.microsoftonline.com is reachable from where relaywatch runs; the next run retries.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The OAuth 2.0 client-credentials token request to Entra ID failed (before any SMTP connection).',
  },
  'spf-fail': {
    severity: 'error',
    title: 'SPF failed',
    explanation: 'The message was rejected for a Sender Policy Framework violation (5.7.23).',
    remediation: [
      'Add the sending public IP {ip} to the sender domain’s SPF record (ip4:/ip6:), keeping include:spf.protection.outlook.com.',
      'Keep the record to one v=spf1 TXT record and at most 10 DNS-querying terms; re-run the SPF check.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Rejected for an SPF violation (5.7.23); add the sending IP to SPF.',
  },
  'dmarc-fail': {
    severity: 'error',
    title: 'DMARC failed',
    explanation: 'The sending domain does not pass DMARC verification (5.7.509): neither SPF nor DKIM aligned.',
    remediation: [
      'Make SPF pass and align for the From domain (add the sending IP), or enable DKIM signing for the domain in Microsoft 365 Defender.',
      'Make sure the device’s From address uses the domain it is authorised for.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The sending domain fails DMARC (5.7.509); fix SPF alignment or enable DKIM.',
  },
  'direct-send-rejected': {
    severity: 'error',
    title: 'Direct Send rejected',
    explanation:
      'The tenant rejects Direct Send from unauthorised sources (5.7.68 TenantInboundAttribution; Reject Direct Send is on).',
    remediation: [
      'Create an On-premises inbound connector for the site’s public IP (or certificate) so the device’s mail is attributed to the tenant.',
      'Or move the device to authenticated submission (smtp.office365.com:587) with OAuth.',
      'Only if neither is possible: Set-OrganizationConfig -RejectDirectSend $false (weakens spoofing protection).',
    ],
    delistable: false,
    retryable: false,
    summary: 'The tenant has Reject Direct Send on (5.7.68); add a connector or use submission.',
  },
  'rate-limited': {
    severity: 'warning',
    title: 'Sending limit reached',
    explanation:
      'A sending limit was hit (5.7.233 external recipient rate, 5.2.2 submission quota, 4.5.3 too many recipients, 5.2.251–255 sender throttled).',
    remediation: [
      'Reduce volume or recipients per message (Exchange Online: 30 messages/min per mailbox, 10,000 recipients/day, 500 recipients/message).',
      'Spread bulk sends over time, or move bulk/device mail to High Volume Email or Azure Communication Services Email.',
      'If the limit was hit unexpectedly, check the account for compromise.',
    ],
    delistable: false,
    retryable: true,
    summary: 'A tenant or mailbox sending limit was hit (5.7.233, 5.2.2, 4.5.3, 5.2.251–255).',
  },
  'dns-failure': {
    severity: 'error',
    title: 'DNS lookup failed',
    explanation: 'The probe could not resolve the SMTP endpoint’s name, so no connection was attempted.',
    remediation: [
      'Check the configured host name (the tenant MX host shown in the Microsoft 365 admin centre, or smtp.office365.com).',
      'Check the site’s DNS resolver; retry later if it was a temporary outage.',
    ],
    delistable: false,
    retryable: true,
    summary: 'The endpoint name did not resolve; no connection attempted.',
  },
  'connection-refused': {
    severity: 'error',
    title: 'Connection refused',
    explanation: 'The TCP connection to the SMTP endpoint was refused or reset before a banner.',
    remediation: [
      'Check the host and port (25 for relay/Direct Send, 587 for submission; 465 is not supported).',
      'Check the site’s firewall and ISP: many ISPs and clouds block outbound port 25.',
    ],
    delistable: false,
    retryable: true,
    summary: 'TCP connection refused or reset; wrong port or outbound port blocked.',
  },
  timeout: {
    severity: 'error',
    title: 'Timed out',
    explanation: 'The connection or an SMTP step did not complete in time.',
    remediation: [
      'Check that outbound traffic to the port is allowed (port 25 is often silently dropped by ISPs and clouds).',
      'Retry; if it persists, test from another network to isolate the site’s firewall.',
    ],
    delistable: false,
    retryable: true,
    summary: 'No answer in time (often a silently dropped port 25).',
  },
  'tls-handshake-failed': {
    severity: 'error',
    title: 'TLS handshake failed',
    explanation: 'STARTTLS could not be completed: the handshake failed or the server would not start TLS.',
    remediation: [
      'Make sure the client supports TLS 1.2 or later with current cipher suites.',
      'Check for a firewall or proxy that inspects or breaks SMTP STARTTLS.',
    ],
    delistable: false,
    retryable: true,
    summary: 'STARTTLS could not be completed (handshake failure or 454 TLS not available).',
  },
  'certificate-invalid': {
    severity: 'error',
    title: 'Server certificate invalid',
    explanation: 'The server’s TLS certificate did not validate for the host name the probe connected to.',
    remediation: [
      'Connect to the documented host name (the tenant MX host or smtp.office365.com), not an IP or alias.',
      'Check for a TLS-intercepting firewall or proxy that replaces the certificate.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The server certificate did not validate (wrong host name or TLS interception).',
  },
  'starttls-not-offered': {
    severity: 'error',
    title: 'STARTTLS not offered',
    explanation:
      'The server did not advertise STARTTLS, which this probe requires. Exchange Online always offers it, so something between the site and Microsoft (an SMTP-inspecting firewall, a wrong host or port) is answering instead.',
    remediation: [
      'Check that the probe (and the device) connect to the tenant MX host or smtp.office365.com, port 25 or 587.',
      'Turn off SMTP inspection ("ESMTP fixup", "mailguard") on the site firewall: it strips STARTTLS from the EHLO reply.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The server did not offer STARTTLS (an SMTP-inspecting firewall or the wrong host is in the path).',
  },
  'protocol-error': {
    severity: 'error',
    title: 'SMTP protocol error',
    explanation:
      'The server broke the SMTP conversation: it closed the connection mid-session, or sent an oversized or garbled reply.',
    remediation: [
      'Retry; if it persists, check for a firewall or proxy that interferes with SMTP between the site and Microsoft.',
      'Confirm the host and port are the Exchange Online endpoint.',
    ],
    delistable: false,
    retryable: true,
    summary: 'The server closed the connection mid-session or sent an oversized or garbled reply.',
  },
  unclassified: {
    severity: 'error',
    title: 'Unrecognised reply',
    explanation:
      'The server answered with a reply this version does not recognise. The raw reply is kept (capped) for a person to read.',
    remediation: [
      'Read the raw reply below; search Microsoft’s NDR documentation for its enhanced status code.',
      'Report it so a rule can be added.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'A reply no rule recognises; raw reply kept (capped). Severity warning and retryable for 4xx, error for 5xx.',
  },
};

/** An enhanced status code or a range of its detail part: `5.7.606`, `5.7.606-649`. */
export interface EnhancedMatch {
  readonly cls: number;
  readonly subject: number;
  readonly lo: number;
  readonly hi: number;
}

export type CodeMatch = number | readonly [lo: number, hi: number];

export interface Rule {
  readonly id: DiagnosisId;
  readonly stages?: readonly ProbeStage[];
  readonly failure?: TransportFailure;
  /** Basic reply code or inclusive range. */
  readonly code?: CodeMatch;
  readonly enhanced?: readonly EnhancedMatch[];
  /** Matched against the reply text (joined lines), case-insensitively. Keep these linear: no nested quantifiers. */
  readonly text?: RegExp;
  /** Only the reply's own code pair counts, not pairs quoted inside its text. */
  readonly ownCodeOnly?: boolean;
}

function enh(...specs: string[]): EnhancedMatch[] {
  return specs.map((spec) => {
    const m = /^([245])\.(\d{1,3})\.(\d{1,3})(?:-(\d{1,3}))?$/.exec(spec);
    if (!m) throw new Error(`bad enhanced code spec ${spec}`);
    const lo = Number(m[3]);
    return { cls: Number(m[1]), subject: Number(m[2]), lo, hi: m[4] === undefined ? lo : Number(m[4]) };
  });
}

const ANY_5XX: CodeMatch = [500, 599];
const ANY_4XX: CodeMatch = [400, 499];
const ANY_ERROR: CodeMatch = [400, 599];

export const RULES: readonly Rule[] = [
  // Transport failures: no reply.
  { id: 'dns-failure', failure: 'dns' },
  { id: 'connection-refused', failure: 'refused' },
  { id: 'timeout', failure: 'timeout' },
  { id: 'tls-handshake-failed', failure: 'tls-handshake' },
  { id: 'certificate-invalid', failure: 'certificate' },
  { id: 'starttls-not-offered', failure: 'starttls-not-offered' },
  { id: 'protocol-error', failure: 'protocol' },
  { id: 'oauth-token-failed', failure: 'token' },

  // Positive replies.
  { id: 'ok', code: [200, 399], ownCodeOnly: true },

  // Microsoft blocklists and tenant blocks.
  { id: 'ms-banned-ip', enhanced: enh('5.7.606-649') },
  { id: 'ms-banned-sender', enhanced: enh('5.7.511') },
  { id: 'ms-ip-rejected', enhanced: enh('5.7.708') },
  { id: 'ms-tenant-threshold', enhanced: enh('5.7.705') },
  { id: 'ms-unregistered-domain', enhanced: enh('5.7.750') },

  // Attribution: connector, Direct Send, region.
  { id: 'connector-mismatch', enhanced: enh('5.7.64') },
  { id: 'direct-send-rejected', enhanced: enh('5.7.68') },
  { id: 'wrong-region', enhanced: enh('4.4.62') },

  // TLS.
  { id: 'tls-version-unsupported', enhanced: enh('4.7.66') },
  { id: 'ip-throttled', enhanced: enh('4.7.500-699', '4.7.850-899') },

  // SMTP AUTH: the specific 5.7.139 texts first, then any other 5.7.139.
  { id: 'smtp-auth-disabled-tenant', code: ANY_ERROR, text: /smtpclientauthentication is disabled for the tenant/i },
  { id: 'smtp-auth-disabled-mailbox', code: ANY_ERROR, text: /smtpclientauthentication is disabled for the mailbox/i },
  { id: 'basic-auth-disabled', enhanced: enh('5.7.139'), text: /basic auth(?:entication)? is disabled/i },
  { id: 'basic-auth-disabled', enhanced: enh('5.7.30') },
  { id: 'basic-auth-disabled', code: ANY_5XX, text: /basic authentication is (?:disabled|not supported)/i },
  { id: 'auth-failed', enhanced: enh('5.7.139') },
  { id: 'starttls-required', enhanced: enh('5.7.3'), text: /starttls/i },
  { id: 'auth-failed', enhanced: enh('5.7.3'), text: /authentication unsuccessful/i },
  { id: 'auth-failed', enhanced: enh('5.7.8') },
  {
    id: 'starttls-required',
    code: ANY_ERROR,
    text: /must issue a starttls|starttls (?:is )?required|encryption required/i,
  },
  { id: 'auth-required', enhanced: enh('5.7.57') },
  { id: 'auth-required', code: ANY_5XX, text: /client (?:was )?not authenticated|authentication required/i },
  { id: 'auth-failed', code: 535 },

  // Sender rights.
  { id: 'send-as-denied', enhanced: enh('5.7.60') },
  { id: 'send-as-denied', code: ANY_5XX, text: /does not have permissions to send as/i },
  { id: 'bad-outbound-sender', enhanced: enh('5.1.8') },
  { id: 'bad-outbound-sender', code: ANY_5XX, text: /bad outbound sender/i },

  // Authentication of the message.
  { id: 'spf-fail', enhanced: enh('5.7.23') },
  { id: 'dmarc-fail', enhanced: enh('5.7.509') },

  // Limits. 5.2.2 is also "mailbox full" on delivery: that is not ours to classify.
  { id: 'rate-limited', enhanced: enh('5.7.233', '4.5.3', '5.5.3', '5.2.251-255') },
  { id: 'unclassified', enhanced: enh('5.2.2'), text: /mailbox (?:is )?full|quotaexceededexception|storedrv/i },
  { id: 'rate-limited', enhanced: enh('5.2.2') },

  // Phrase fallbacks for replies without (or with a different) enhanced code.
  { id: 'ms-banned-ip', code: ANY_5XX, text: /banned sending ip/i },
  { id: 'ms-banned-sender', code: ANY_5XX, text: /banned sender/i },
  { id: 'ms-ip-rejected', code: ANY_5XX, text: /traffic not accepted from this ip/i },
  { id: 'ms-tenant-threshold', code: ANY_5XX, text: /tenant has exceeded threshold/i },
  { id: 'ms-unregistered-domain', code: ANY_5XX, text: /from unregistered domains?/i },
  { id: 'connector-mismatch', code: ANY_ERROR, text: /\btenantattribution\b/i },
  { id: 'direct-send-rejected', code: ANY_ERROR, text: /\btenantinboundattribution\b|direct send not allowed/i },
  { id: 'wrong-region', code: ANY_ERROR, text: /wrong office 365 region|\battr35\b/i },
  { id: 'tls-version-unsupported', code: ANY_ERROR, text: /tls 1\.[01] (?:and 1\.1 )?(?:are|is) not supported/i },
  { id: 'relay-denied', enhanced: enh('5.7.54') },
  {
    id: 'relay-denied',
    code: ANY_5XX,
    text: /unable to relay|relay access denied|relaying denied|relay not permitted/i,
  },
  { id: 'spf-fail', code: ANY_5XX, text: /sender policy framework violation/i },
  { id: 'dmarc-fail', code: ANY_5XX, text: /does not pass dmarc/i },
  {
    id: 'ip-throttled',
    code: ANY_4XX,
    text: /access denied, please try again later|rate limited due to ip reputation/i,
  },
  { id: 'rate-limited', code: ANY_ERROR, text: /submission quota exceeded|too many recipients/i },

  // RFC 3207: 454 to STARTTLS means the server will not start TLS now.
  { id: 'tls-handshake-failed', stages: ['starttls'], code: 454 },
];
