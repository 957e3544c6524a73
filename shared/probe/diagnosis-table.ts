/**
 * THE classification table for probe results, and the catalogue of diagnoses it can produce.
 *
 * Rules are tried in order; the first that matches wins. A rule matches on any combination of: the probe stage, a
 * transport failure (no reply), the basic reply code (or a range), the RFC 3463 enhanced status code (or a range of
 * its detail part) and a case-insensitive phrase. Codes are matched against the reply's own code pair and against code
 * pairs quoted inside its text (a relay such as Postfix wraps Exchange's answer in its own words), so specific
 * Microsoft codes come first and generic fallbacks last.
 *
 * The ids in `DIAGNOSIS_IDS` are a public contract (docs/findings.md "Probe diagnoses"): MSPs write PSA rules on them.
 * Add ids; never rename or reuse one. Every rule is checked against real replies with their sources in
 * `test/fixtures/exo-replies.ts`.
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
  'continuous-error-throttled',
  'sending-mailbox-full',
  'partner-connector-restricted',
  'ms-account-banned',
  'tenant-external-rate-limited',
  'recipient-not-found',
  'third-party-blocklist',
  'recipient-tenant-blocklist',
  'connector-blocked',
  'concurrent-connections-limited',
  'service-not-active',
  'auth-mechanism-unsupported',
  'tenant-not-licensed',
  'ms-transient-error',
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
  /**
   * Cause-specific text, keyed by the enhanced status code the reply carries (e.g. the five 5.2.25x continuous-error
   * throttles share an id but each has its own fix). Replaces explanation and remediation when the code matches.
   */
  readonly causes?: {
    readonly [enhanced: string]: { readonly explanation: string; readonly remediation: readonly string[] };
  };
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
      'Exchange Online refused the message because the sending IP is on Microsoft’s own blocklist (5.7.606–5.7.649). The refusal comes at RCPT TO, after the connection and MAIL FROM were accepted. Microsoft publishes no DNS blocklist: this reply is the only place the listing shows.',
    remediation: [
      'Confirm that {ip} is one of your public egress IPs (the connector IPs and the SPF record must list it).',
      'Find and fix the cause before delisting: an infected or compromised device, an open relay, a misbehaving app or a bulk sender behind that IP.',
      'Check that SPF (include:spf.protection.outlook.com plus ip4:/ip6: for {ip}) and the inbound connector IPs agree.',
      `Request removal at the self-service delist portal ${SENDER_PORTAL} (the IP and the address that received the NDR; confirm through the e-mail link): for 5.7.606–649 it is the only way Microsoft documents.`,
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
      'Exchange Online banned the sending IP (5.7.511 “Access denied, banned sender[{ip}]”): despite the wording it is the source IP that is banned, not the account. The self-service delist portal cannot be used for this listing.',
    remediation: [
      'Find out what else sends from {ip} (an infected device, an open relay, a bulk sender behind the same NAT) and fix it; the account that got the NDR is usually not the cause.',
      'E-mail delist@microsoft.com with the full NDR (with timestamp), the sending IP and domain, and the remediation done (the NDR table names delist@messaging.microsoft.com: use the address the NDR prints).',
      'Wait for Microsoft’s answer; re-run the probe after removal.',
    ],
    delistable: true,
    retryable: false,
    summary:
      'Microsoft banned the sending IP (5.7.511 “banned sender”); portal not usable, mail delist@microsoft.com with the NDR.',
  },
  'ms-ip-rejected': {
    severity: 'error',
    title: 'Microsoft does not accept traffic from this IP',
    explanation:
      'Exchange Online refuses the tenant’s outbound traffic (5.7.708 “traffic not accepted from this IP”). The IP it names is Microsoft’s own outbound pool, not the customer’s: trial and newly created tenants are sent out through low-reputation pools and are refused there. It is a tenant-level block; the delist portal does not apply and changing the site’s IP does not help.',
    remediation: [
      'Check the tenant’s licences: a trial or a tenant without purchased licences is the usual cause (Microsoft: “sending email from known, low reputation IP addresses that are typically used by new customers”).',
      'Open a Microsoft 365 support case from the affected tenant with the full NDR and ask for an exception until licences are purchased.',
      'Check that no account or connector of the tenant was compromised (unusual volume in message trace).',
    ],
    delistable: false,
    retryable: false,
    summary:
      'Microsoft refuses the tenant’s outbound traffic (5.7.708, trial/new tenants); tenant-level, open a support case.',
  },
  'ms-tenant-threshold': {
    severity: 'error',
    title: 'Tenant exceeded Microsoft’s sending threshold',
    explanation:
      'Exchange Online blocked outbound mail for the whole tenant (5.7.705): too much spam or bulk mail left it, usually through a compromised account, admin or connector; rarely right after an expired subscription was renewed. It is tenant-level: no egress IP or delisting request changes it.',
    remediation: [
      'Find and secure what sent the volume: compromised accounts, admins who created connectors, on-premises servers (message trace, Defender alerts, the connector list).',
      'Open a Microsoft 365 support case: support lifts the block once you can explain the cause and show it fixed.',
      'If the subscription was just renewed after expiring, allow up to a day for it to sync.',
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
      'Exchange Online temporarily deferred the sending IP (4.7.500–699, 4.7.850–899, 4.7.650/651 rate limiting for IP reputation, and 4.5.3 from the spam filter: a one-recipient probe never hits the 200-envelope-recipient limit, so a 4.5.3 here is IP reputation). This is temporary (4.5.3 usually expires within the hour) but a sign of poor or new IP reputation.',
    remediation: [
      'Let the device or MTA retry; deferrals normally clear within hours.',
      'Check {ip} on public blocklists and look for unusual volume from that IP.',
      'If it persists for more than a day, treat it as a reputation problem: fix the cause and contact Microsoft support.',
    ],
    delistable: false,
    retryable: true,
    summary:
      'Microsoft temporarily defers the IP (4.7.500–699, 4.7.850–899, 4.5.3 from the spam filter); retry, watch reputation.',
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
      'The authenticated mailbox has no permission to send as the sender address used in MAIL FROM or From (5.7.60, or 5.2.252 / 5.2.0 “SendAsDenied” from STOREDRV at the end of DATA).',
    remediation: [
      'Use the authenticated mailbox’s own address as the sender on the device.',
      'Or grant Send As on the sender mailbox: Add-RecipientPermission -Identity <sender> -Trustee <mailbox> -AccessRights SendAs.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The authenticated mailbox lacks Send As rights for the sender address (5.7.60, 5.2.252/5.2.0 SendAsDenied).',
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
      'Create a Partner inbound connector keyed on the site’s public IP (or the device’s certificate) so its mail counts as authorised (Microsoft’s fix for Reject Direct Send).',
      'Or move the device to authenticated submission (smtp.office365.com:587) with OAuth.',
      'Only if neither is possible: Set-OrganizationConfig -RejectDirectSend $false (weakens spoofing protection).',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The tenant has Reject Direct Send on (5.7.68); add a partner inbound connector (IP or certificate) or use submission.',
  },
  'rate-limited': {
    severity: 'warning',
    title: 'Sending limit reached',
    explanation:
      'The mailbox hit its recipient rate limit (10,000 recipients in a rolling 24 hours): 554 5.2.0 SubmissionQuotaExceededException on submission, 5.1.90 “daily limit for message recipients”, 5.2.2 “Submission quota exceeded”.',
    remediation: [
      'Wait: sending resumes when the recipients of the last 24 hours drop below the limit (Exchange Online: 10,000 recipients/day, 500 recipients/message, 30 messages/min per mailbox).',
      'Spread bulk sends over time, or move bulk/device mail to High Volume Email or Azure Communication Services Email.',
      'If the limit was hit unexpectedly, check the account for compromise.',
    ],
    delistable: false,
    retryable: true,
    summary:
      'The mailbox recipient rate limit was hit (5.2.0 SubmissionQuotaExceeded, 5.1.90, 5.2.2 submission quota).',
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
  'continuous-error-throttled': {
    severity: 'error',
    title: 'Mailbox throttled for continuous errors',
    explanation:
      'Exchange Online throttled SMTP AUTH for this mailbox because its submissions kept failing with the same error (5.2.251–5.2.255, “continuous error throttling”). It does not recover by retrying or lowering volume: the cause must be fixed, then the throttling period must pass. Microsoft support cannot lift it.',
    remediation: [
      'Fix the cause named by the code (mailbox full, Send As denied, licence, too many recipients, invalid recipients), then wait for the throttling period to expire.',
      'If the fix cannot wait, send through another mailbox whose configuration is correct; support cannot lift the throttle.',
    ],
    causes: {
      '5.2.251': {
        explanation:
          'SMTP AUTH for this mailbox is throttled because its submissions kept failing with “mailbox full” (5.2.251). SMTP AUTH keeps every sent message in Sent Items, so a device mailbox fills up on its own.',
        remediation: [
          'Free space in the sending mailbox: empty Sent Items and Deleted Items, or give it a larger quota.',
          'Add a retention policy that empties Sent Items of this mailbox regularly (Microsoft’s advice for device mailboxes).',
          'Wait for the throttling period to expire (support cannot lift it), or send through another mailbox meanwhile.',
        ],
      },
      '5.2.252': {
        explanation:
          'SMTP AUTH for this mailbox is throttled because its submissions kept failing with “Send As denied” (5.2.252): the device sends as an address the mailbox may not send as.',
        remediation: [
          'Set the device’s sender (MAIL FROM and From) to the authenticated mailbox’s own address, or grant Send As: Add-RecipientPermission -Identity <sender> -Trustee <mailbox> -AccessRights SendAs.',
          'Wait for the throttling period to expire (support cannot lift it), or send through another, correctly configured mailbox.',
        ],
      },
      '5.2.253': {
        explanation:
          'SMTP AUTH for this mailbox is throttled because its submissions kept failing with “invalid licence” (5.2.253): the mailbox has no licence that includes Exchange Online.',
        remediation: [
          'Assign the sending mailbox a licence that includes Exchange Online (Microsoft 365 admin centre → Users → Licences and apps).',
          'Wait for the throttling period to expire (support cannot lift it), or send through another, licensed mailbox.',
        ],
      },
      '5.2.254': {
        explanation:
          'SMTP AUTH for this mailbox is throttled because its submissions kept failing with “too many recipients” (5.2.254).',
        remediation: [
          'Lower the number of recipients per message on the device or app (default limit 500 per message) and stay under 10,000 recipients a day.',
          'Wait for the throttling period to expire (support cannot lift it), or send through another mailbox.',
        ],
      },
      '5.2.255': {
        explanation:
          'SMTP AUTH for this mailbox is throttled because its submissions kept failing with “invalid recipients” (5.2.255): the device keeps sending to addresses that do not exist.',
        remediation: [
          'Correct the recipient addresses configured on the device or app (a left-over address of a deleted user is typical).',
          'Wait for the throttling period to expire (support cannot lift it), or send through another mailbox.',
        ],
      },
    },
    delistable: false,
    retryable: false,
    summary:
      'SMTP AUTH throttled after continuous errors (5.2.251 mailbox full, .252 Send As, .253 licence, .254 too many recipients, .255 invalid recipients); fix the cause, support cannot lift it.',
  },
  'sending-mailbox-full': {
    severity: 'error',
    title: 'The sending mailbox is full',
    explanation:
      'The mailbox the device authenticates as is full (554 5.2.2 mailbox full; STOREDRV.Submission QuotaExceededException). SMTP AUTH keeps every sent message in that mailbox’s Sent Items, so a device mailbox fills up by itself; a full mailbox cannot send.',
    remediation: [
      'Empty Sent Items (and Deleted Items) of the sending mailbox, or raise its quota.',
      'Add a retention policy that empties its Sent Items regularly, before it fills again.',
      'Left unfixed, repeated failures turn into 5.2.251 continuous-error throttling.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The submission mailbox itself is full (5.2.2 STOREDRV.Submission QuotaExceeded); empty its Sent Items.',
  },
  'partner-connector-restricted': {
    severity: 'error',
    title: 'A restricted partner connector refused the message',
    explanation:
      'The recipient domain matches a Partner inbound connector that only accepts mail from given IPs or a given certificate (RestrictDomainsToIPAddresses / RestrictDomainsToCertificate), and this connection matched neither (5.7.51 TenantInboundAttribution). This is not Reject Direct Send: turning that off does not change it.',
    remediation: [
      'Exchange admin centre → Mail flow → Connectors: find the Partner inbound connector for this domain and add the site’s public IP {ip} (or the certificate the device presents).',
      'Or, if that connector should not restrict this domain, clear RestrictDomainsToIPAddresses / RestrictDomainsToCertificate on it.',
      'For an on-premises server, check that its send connector presents the certificate named in TlsSenderCertificateName.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'A Partner inbound connector restricted to IPs/certificate refused the sender (5.7.51); add the IP or certificate.',
  },
  'ms-account-banned': {
    severity: 'error',
    title: 'Sending account or domain banned by Microsoft',
    explanation:
      'Exchange Online banned the sending account (5.7.501–5.7.503) or the sender domain (5.7.800, the EHLO, MAIL FROM or From domain) for detected spam activity. There is no delisting address or portal for these: Microsoft says to contact support.',
    remediation: [
      'Treat the account as compromised: reset its credentials, revoke sessions, check inbox rules and app registrations; check the domain’s other senders.',
      'Open a Microsoft 365 support case through your regular channel to restore sending.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'Microsoft banned the sending account (5.7.501–503) or domain (5.7.800); secure it and contact support (not delistable).',
  },
  'tenant-external-rate-limited': {
    severity: 'warning',
    title: 'Tenant external recipient rate limit reached',
    explanation:
      'The whole tenant reached its daily limit of external recipients (5.7.233; 5.7.232 for a trial tenant): the tenant external recipient rate limit (TERRL), counted over a rolling 24 hours across every mailbox, app and device of the tenant, and scaled with the number of licences. One mailbox can hit it without sending much.',
    remediation: [
      'Wait: external sending resumes when the tenant’s external recipients of the last 24 hours drop below the limit.',
      'Exchange admin centre → Reports → Mail flow: look at outbound external recipients, and message-trace the last days for a mailbox or app that sent unusual volume (a compromised account?).',
      'Move bulk or automated external mail to High Volume Email, Azure Communication Services Email or a mail delivery service; more licences raise the limit.',
    ],
    delistable: false,
    retryable: true,
    summary:
      'The tenant reached its external recipient rate limit (5.7.233, trial 5.7.232); tenant-wide, rolling 24 h.',
  },
  'recipient-not-found': {
    severity: 'error',
    title: 'Probe recipient does not exist in the tenant',
    explanation:
      'Directory Based Edge Blocking refused the recipient at RCPT TO (550 5.4.1 “Recipient address rejected: Access denied”): the probe recipient is not a valid address of the tenant.',
    remediation: [
      'Check the tenant’s probeRecipients in the relaywatch configuration: each must be an existing mailbox, group or contact of the tenant.',
      'If the address was just created, allow directory synchronisation to finish.',
    ],
    delistable: false,
    retryable: false,
    summary: 'Directory Based Edge Blocking: the probe recipient does not exist in the tenant (5.4.1 Access denied).',
  },
  'third-party-blocklist': {
    severity: 'error',
    title: 'Sending IP is on a third-party blocklist Microsoft consults',
    explanation:
      'Exchange Online refused the connection because the client IP is on a third-party DNS blocklist it consults (5.7.1 “Client host [{ip}] blocked using Spamhaus”). Microsoft’s delist portal does not apply: the listing is Spamhaus’s.',
    remediation: [
      'Run relaywatch check for the tenant: the blocklist check looks {ip} up in the Spamhaus zones and its alert carries the removal packet (codes, reason, removal URL).',
      'Fix the cause first (an infected device, an open relay); a PBL listing means the ISP marks the address as dynamic: ask for a static IP with proper reverse DNS, or send through Exchange Online authenticated submission.',
      'Request removal at the URL the reply or the packet names (Spamhaus: https://check.spamhaus.org/).',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The client IP is on a third-party DNSBL Exchange Online consults (5.7.1 blocked using Spamhaus); see the DNSBL packet.',
  },
  'recipient-tenant-blocklist': {
    severity: 'error',
    title: 'Recipient tenant blocks the sending IP',
    explanation:
      'The recipient organisation put the sending IP on its own block list (5.7.513 “blocked by <domain> using Customer Block list”). Only that organisation can lift it.',
    remediation: [
      'Contact the recipient organisation’s administrators and ask them to remove {ip} from their block list (Tenant Allow/Block List or connection filter policy).',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The recipient tenant blocks the sending IP on its own Customer Block list (5.7.513); contact that tenant.',
  },
  'connector-blocked': {
    severity: 'error',
    title: 'Inbound connector restricted as compromised',
    explanation:
      'Exchange Online restricted the tenant’s inbound connector because it is suspected of sending spam or phish (5.7.711 “Access denied, bad inbound connector”): relayed mail through it is refused.',
    remediation: [
      'Regain control of what relays through the connector (compromised devices, servers or admin accounts; unexpected connectors).',
      'Microsoft 365 Defender → Email & collaboration → Review → Restricted entities: unblock the connector, or Remove-BlockedConnector -ConnectorId <id>; allow up to an hour.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The inbound connector is restricted as compromised (5.7.711); secure it, then unblock it in Restricted entities.',
  },
  'concurrent-connections-limited': {
    severity: 'warning',
    title: 'Too many concurrent connections for the mailbox',
    explanation:
      'Exchange Online allows three concurrent SMTP AUTH connections per mailbox; this one was refused (432 4.3.2 Concurrent connections limit exceeded).',
    remediation: [
      'Let the device or app retry; configure it to send over one connection at a time.',
      'Give each device or application its own mailbox.',
    ],
    delistable: false,
    retryable: true,
    summary:
      'More than three concurrent SMTP AUTH connections for the mailbox (432 4.3.2); retry, one mailbox per device.',
  },
  'service-not-active': {
    severity: 'warning',
    title: 'Exchange Online service not active',
    explanation:
      'The front-end server answered “421 4.3.2 Service not active” and closed the session: a temporary condition of the Exchange Online server, not of the tenant or the credentials.',
    remediation: ['Retry; if it persists for hours, check the Microsoft 365 service health dashboard.'],
    delistable: false,
    retryable: true,
    summary: 'The Exchange Online front end was not accepting sessions (421 4.3.2 Service not active); retry.',
  },
  'auth-mechanism-unsupported': {
    severity: 'error',
    title: 'Authentication mechanism not offered',
    explanation:
      'The server does not accept the AUTH mechanism that was tried (504 5.7.4 Unrecognized authentication type): the endpoint offers no such mechanism (the MX endpoint offers no AUTH at all), or password authentication is off for the tenant.',
    remediation: [
      'Authenticated submission goes to smtp.office365.com:587 after STARTTLS; the MX endpoint (port 25) takes no AUTH.',
      'Use a mechanism the server lists after STARTTLS (AUTH LOGIN or XOAUTH2); move Basic-auth devices to OAuth.',
    ],
    delistable: false,
    retryable: false,
    summary:
      'The AUTH mechanism is not offered (504 5.7.4 Unrecognized authentication type); wrong endpoint or Basic off.',
  },
  'tenant-not-licensed': {
    severity: 'error',
    title: 'Recipient tenant has no mail-enabled subscription',
    explanation:
      'Exchange Online attributed the recipient domain to a tenant that has no subscription able to receive mail (451 4.4.4 “… hosted tenant which has no mail-enabled subscriptions. ATTR5”): licences expired or were never assigned, or a Multi-Geo/region mismatch. It does not clear by retrying.',
    remediation: [
      'Check the tenant’s subscriptions in the Microsoft 365 admin centre → Billing: an Exchange Online licence must be active.',
      'Check that the domain is verified in the tenant you expect and that the MX points at that tenant’s endpoint.',
    ],
    delistable: false,
    retryable: false,
    summary: 'The recipient tenant has no mail-enabled subscription (451 4.4.4 ATTR5); check licences and domain.',
  },
  'ms-transient-error': {
    severity: 'warning',
    title: 'Temporary Exchange Online error',
    explanation:
      'Exchange Online reported a temporary server error while attributing the message (451 4.3.2 / 4.4.3 “Temporary server error. Please try again later ATTR55”). Senders are expected to retry.',
    remediation: ['Let the device retry; if it persists, check the Microsoft 365 service health dashboard.'],
    delistable: false,
    retryable: true,
    summary: 'Temporary Exchange Online server error (451 4.3.2/4.4.3 ATTR55); retry.',
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

  // STOREDRV on submission (end of DATA): Send As refused, the sending mailbox full, the daily recipient quota.
  // 5.2.252 is both the plain refusal (“SendAsDenied; … not allowed to send as …”) and the continuous-error throttle.
  { id: 'send-as-denied', code: ANY_5XX, text: /\bsendasdenied(?:exception)?\b/i },
  { id: 'continuous-error-throttled', enhanced: enh('5.2.251-255') },
  { id: 'continuous-error-throttled', code: ANY_5XX, text: /sender throttled due to continuous/i },
  { id: 'sending-mailbox-full', code: ANY_5XX, text: /storedrv\.submission\.exception:quotaexceeded/i },
  { id: 'rate-limited', code: ANY_5XX, text: /submissionquotaexceededexception/i },

  // Microsoft blocklists and tenant blocks.
  { id: 'ms-banned-ip', enhanced: enh('5.7.606-649') },
  { id: 'ms-banned-sender', enhanced: enh('5.7.511') },
  { id: 'ms-account-banned', enhanced: enh('5.7.501-503', '5.7.800') },
  { id: 'recipient-tenant-blocklist', enhanced: enh('5.7.513') },
  { id: 'connector-blocked', enhanced: enh('5.7.711') },
  { id: 'ms-ip-rejected', enhanced: enh('5.7.708') },
  { id: 'ms-tenant-threshold', enhanced: enh('5.7.705') },
  { id: 'ms-unregistered-domain', enhanced: enh('5.7.750') },

  // Attribution: connector, Direct Send, region, unlicensed tenant.
  { id: 'partner-connector-restricted', enhanced: enh('5.7.51') },
  { id: 'partner-connector-restricted', code: ANY_ERROR, text: /there is a partner connector configured/i },
  { id: 'connector-mismatch', enhanced: enh('5.7.64') },
  { id: 'direct-send-rejected', enhanced: enh('5.7.68') },
  { id: 'wrong-region', enhanced: enh('4.4.62') },
  { id: 'tenant-not-licensed', code: ANY_ERROR, text: /no mail-enabled subscriptions|\battr5\b/i },
  { id: 'ms-transient-error', code: ANY_4XX, text: /\battr55\b/i },

  // Third-party and recipient-side block lists Exchange Online consults at RCPT.
  { id: 'third-party-blocklist', code: ANY_5XX, text: /\bblocked using\b/i },
  { id: 'recipient-tenant-blocklist', code: ANY_5XX, text: /using customer block ?list/i },
  { id: 'connector-blocked', code: ANY_5XX, text: /bad inbound connector/i },

  // Directory Based Edge Blocking: the recipient does not exist in the tenant.
  { id: 'recipient-not-found', enhanced: enh('5.4.1'), text: /recipient address rejected: access denied/i },

  // Submission service limits.
  { id: 'concurrent-connections-limited', code: ANY_4XX, text: /concurrent connections limit|sender thread limit/i },
  { id: 'service-not-active', code: ANY_4XX, text: /service not active/i },

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
  { id: 'auth-mechanism-unsupported', enhanced: enh('5.7.4') },
  { id: 'auth-mechanism-unsupported', code: 504, text: /unrecognized authentication type/i },
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

  // Limits. 5.2.2 on delivery (STOREDRV.Deliver) is the recipient's mailbox full: not ours to classify.
  { id: 'tenant-external-rate-limited', enhanced: enh('5.7.232-233') },
  { id: 'ip-throttled', enhanced: enh('4.5.3') },
  { id: 'rate-limited', enhanced: enh('5.1.90', '5.5.3') },
  { id: 'unclassified', enhanced: enh('5.2.2'), text: /mailbox (?:is )?full|quotaexceededexception|storedrv/i },
  { id: 'rate-limited', enhanced: enh('5.2.2') },

  // Phrase fallbacks for replies without (or with a different) enhanced code.
  { id: 'ms-banned-ip', code: ANY_5XX, text: /banned sending ip/i },
  { id: 'ms-banned-sender', code: ANY_5XX, text: /banned sender\s*\[/i },
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
  { id: 'tenant-external-rate-limited', code: ANY_5XX, text: /tenant external recipient rate limit/i },
  { id: 'rate-limited', code: ANY_ERROR, text: /submission quota exceeded|daily limit for message recipients/i },

  // RFC 3207: 454 to STARTTLS means the server will not start TLS now.
  { id: 'tls-handshake-failed', stages: ['starttls'], code: 454 },
];
