/**
 * Delisting packets: everything an MSP needs to get a customer's public IP off a blocklist, rendered, never sent.
 *
 * - Microsoft (Exchange Online 5.7.606-649 "banned sending IP", 5.7.511 "banned sender"): a ready-to-send RFC 5322
 *   message (.eml) plus the same request as plain text and Markdown, with the sender.office.com self-service steps.
 * - DNS blocklists: per list, the removal page and what to prepare (the lists have their own forms, so no e-mail).
 *
 * Every string that came from outside (the SMTP reply, TXT reasons, tenant names and other config text) is treated
 * as data: it never reaches a header with a control character in it, and it is escaped or fenced in Markdown/HTML.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { chooseRecipient, portalUrl, type RecipientSource, strictAddress } from './recipient.ts';
import { escapeHtml, mdCode, mdFence, mdText, oneLine, quotableBlock } from './sanitize.ts';

export interface DelistTenant {
  readonly id: string;
  readonly name: string;
}

export interface MspContact {
  readonly name: string;
  readonly contact: { readonly name: string; readonly email: string; readonly phone?: string };
}

export interface SpfEvidence {
  readonly domain: string;
  /** The domain's SPF record as published, or null when it has none. */
  readonly record: string | null;
  /** The SPF result for the listed IP (`pass`, `fail`, `softfail`, `neutral`, `none`, `permerror`, …). */
  readonly resultForIp: string;
}

export interface MicrosoftDelistInput {
  readonly ip: string;
  readonly tenant: DelistTenant;
  /** The customer's sending domains. */
  readonly domains: readonly string[];
  readonly reply: {
    /** The full NDR / SMTP reply, untrusted. */
    readonly text: string;
    readonly at: Date;
    /** The address that received the NDR (the device's sending address), for the portal steps. */
    readonly recipient?: string;
  };
  readonly evidence: {
    readonly spf: readonly SpfEvidence[];
    readonly relayIps: readonly string[];
    /**
     * Whether the IP is one of the tenant's configured relay IPs (default true). When it is not, the evidence section
     * says so and presents the SPF results as what they are, not as proof that the IP is a legitimate sender.
     */
    readonly ipConfigured?: boolean;
  };
  /** What the MSP confirms was done. */
  readonly remediation: readonly string[];
  readonly msp: MspContact;
  /** The MSP address the request is sent from; default `msp.contact.email`. */
  readonly from?: string;
}

export interface RenderOptions {
  /** The message's Date header (default: now). */
  readonly now?: Date;
  /** The Message-ID without angle brackets (default: a random UUID at the sender's domain). */
  readonly messageId?: string;
}

export interface MicrosoftDelistPacket {
  readonly eml: Buffer;
  readonly text: string;
  readonly markdown: string;
  readonly to: string;
  readonly subject: string;
  /** Why `to` was chosen: named by the reply, the 5.7.511 address, or the default. */
  readonly recipientSource: RecipientSource;
  /** The enhanced status code found in the reply, or null. */
  readonly code: string | null;
}

export interface DnsblListing {
  readonly zoneId: string;
  readonly zone: string;
  readonly operator: string;
  /** `kind` is optional so a `ZoneResult`'s decoded codes can be passed as they are. */
  readonly codes: ReadonlyArray<{ readonly code: string; readonly meaning: string; readonly kind?: string }>;
  /** The zone's TXT reason: third-party text. */
  readonly reason: string | null;
  readonly removalUrl: string | null;
  readonly lookupUrl: string | null;
}

export interface DnsblDelistInput {
  readonly ip: string;
  /** A listed domain (domain blocklists: Spamhaus DBL, SURBL, URIBL, NordSpam); when set, `ip` is ignored. */
  readonly domain?: string;
  readonly tenant: DelistTenant;
  readonly listings: readonly DnsblListing[];
  readonly msp: MspContact;
}

export interface DnsblDelistPacket {
  readonly text: string;
  readonly markdown: string;
}

export class DelistInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelistInputError';
  }
}

function requireIp(ip: string): string {
  if (isIP(ip) === 0) throw new DelistInputError(`not an IP address: ${JSON.stringify(oneLine(ip, 60))}`);
  return ip;
}

/** A listed domain: plain DNS labels only (it is printed in headers, text and Markdown). */
function requireDomain(domain: string): string {
  const text = domain.trim().toLowerCase().replace(/\.$/, '');
  if (text.length > 253 || !/^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))+$/.test(text))
    throw new DelistInputError(`not a domain name: ${JSON.stringify(oneLine(domain, 60))}`);
  return text;
}

function requireAddress(value: string, what: string): string {
  const address = strictAddress(value.trim());
  if (address === null) throw new DelistInputError(`${what} is not a plain e-mail address: ${JSON.stringify(value)}`);
  return address;
}

function iso(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new DelistInputError('reply.at is not a valid date');
  return at.toISOString();
}

const PORTAL_STEPS = (portal: string, ndrRecipient: string, ip: string): string[] => [
  `Open ${portal}`,
  `Enter the address that got the NDR (${ndrRecipient}) and the IP address ${ip}.`,
  'Confirm the request through the link in the e-mail the portal sends to that address.',
  'Allow up to 24 hours for the removal to take effect, then send a test message.',
];

// ---------------------------------------------------------------------------------------------------------------
// Microsoft

interface MicrosoftModel {
  readonly ip: string;
  readonly tenantName: string;
  readonly tenantId: string;
  readonly domains: readonly string[];
  readonly replyBlock: string;
  readonly replyAt: string;
  readonly code: string | null;
  readonly spf: readonly SpfEvidence[];
  readonly relayIps: readonly string[];
  /** The evidence section's heading and the notes that qualify it (IP not configured, SPF not passing). */
  readonly evidenceHeading: string;
  readonly evidenceNotes: readonly string[];
  readonly remediation: readonly string[];
  readonly mspName: string;
  readonly contactName: string;
  readonly contactEmail: string;
  readonly contactPhone: string | null;
  readonly portal: string;
  readonly ndrRecipient: string;
}

function subjectFor(ip: string, tenantName: string, domains: readonly string[]): string {
  const shown = domains.slice(0, 3).join(', ');
  const more = domains.length > 3 ? ` +${domains.length - 3} more` : '';
  const inside = [tenantName, shown + more].filter((s) => s !== '').join(', ');
  return oneLine(`Delisting request for ${ip}${inside === '' ? '' : ` (${inside})`}`, 250);
}

function spfLine(ip: string, s: SpfEvidence): string {
  const record = s.record === null ? '(no SPF record published)' : oneLine(s.record, 1000);
  return `${oneLine(s.domain, 253)}: ${record} -> SPF result for ${ip}: ${oneLine(s.resultForIp, 40)}`;
}

function microsoftText(m: MicrosoftModel): string {
  const lines: string[] = [];
  const bullet = (items: readonly string[], empty: string) =>
    items.length === 0 ? [`  - ${empty}`] : items.map((i) => `  - ${i}`);
  lines.push(
    'Hello,',
    '',
    `We ask you to remove the IP address ${m.ip} from the Microsoft 365 / Exchange Online blocklist.`,
    `It is the public address of our customer ${m.tenantName}; their devices and applications relay mail through`,
    'Exchange Online from it. The cause has been dealt with (see "Remediation" below).',
    '',
    'Listed IP address',
    `  ${m.ip}`,
    '',
    'Customer (Microsoft 365 tenant)',
    `  Name:      ${m.tenantName}`,
    `  Tenant ID: ${m.tenantId}`,
    '  Sending domains:',
    ...bullet(m.domains, '(none given)'),
    '',
    `Reply received ${m.replyAt} (UTC)${m.code === null ? '' : `, status ${m.code}`}, quoted in full as received:`,
    '',
    ...m.replyBlock.split('\n').map((l) => (l === '' ? '>' : `> ${l}`)),
    '',
    m.evidenceHeading,
    ...m.evidenceNotes.map((n) => `  Note: ${n}`),
    '  SPF records of the sending domains and their result for this IP:',
    ...bullet(
      m.spf.map((s) => spfLine(m.ip, s)),
      '(no SPF evidence given)',
    ),
    '  Relay IPs configured on the tenant (Exchange Online inbound connector):',
    ...bullet(m.relayIps, '(none given)'),
    '',
    'Remediation done (confirmed by the MSP)',
    ...bullet(m.remediation, '(none given)'),
    '',
    'Contact',
    `  ${m.contactName}, ${m.mspName} (managed service provider for ${m.tenantName})`,
    `  E-mail: ${m.contactEmail}`,
    ...(m.contactPhone === null ? [] : [`  Phone:  ${m.contactPhone}`]),
    '',
    'Self-service removal (sender.office.com)',
    ...PORTAL_STEPS(m.portal, m.ndrRecipient, m.ip).map((s, i) => `  ${i + 1}. ${s}`),
    '',
    'Thank you,',
    `${m.contactName}`,
    `${m.mspName}`,
  );
  return `${lines.join('\n')}\n`;
}

function microsoftMarkdown(m: MicrosoftModel, to: string, subject: string): string {
  const list = (items: readonly string[], empty: string) =>
    items.length === 0 ? [`- ${empty}`] : items.map((i) => `- ${i}`);
  const lines: string[] = [
    `# ${mdText(subject, 300)}`,
    '',
    `**To:** ${mdCode(to)}  `,
    `**Listed IP:** ${mdCode(m.ip)}`,
    '',
    '## Customer',
    '',
    `- **Tenant:** ${mdText(m.tenantName)} (${mdCode(m.tenantId)})`,
    `- **Sending domains:** ${m.domains.length === 0 ? '(none given)' : m.domains.map((d) => mdCode(d)).join(', ')}`,
    '',
    '## Reply',
    '',
    `Received ${mdCode(m.replyAt)} (UTC)${m.code === null ? '' : `, status ${mdCode(m.code)}`}, quoted in full as received:`,
    '',
    mdFence(m.replyBlock),
    '',
    `## ${mdText(m.evidenceHeading)}`,
    '',
    ...m.evidenceNotes.map((n) => `> **Note:** ${mdText(n, 600)}`),
    ...(m.evidenceNotes.length > 0 ? [''] : []),
    '### SPF',
    '',
    ...list(
      m.spf.map(
        (s) =>
          `${mdCode(s.domain)}: ${s.record === null ? '(no SPF record published)' : mdCode(s.record, 1000)}, result for ${mdCode(m.ip)}: **${mdText(s.resultForIp, 40)}**`,
      ),
      '(no SPF evidence given)',
    ),
    '',
    '### Relay IPs configured (Exchange Online inbound connector)',
    '',
    ...list(
      m.relayIps.map((r) => mdCode(r)),
      '(none given)',
    ),
    '',
    '## Remediation done',
    '',
    ...list(
      m.remediation.map((r) => mdText(r, 1000)),
      '(none given)',
    ),
    '',
    '## Contact',
    '',
    `- ${mdText(m.contactName)}, ${mdText(m.mspName)}`,
    `- E-mail: ${mdCode(m.contactEmail)}`,
    ...(m.contactPhone === null ? [] : [`- Phone: ${mdText(m.contactPhone)}`]),
    '',
    '## Self-service removal (sender.office.com)',
    '',
    `1. Open <${m.portal}>`,
    `2. Enter the address that got the NDR (${mdCode(m.ndrRecipient)}) and the IP address ${mdCode(m.ip)}.`,
    '3. Confirm the request through the link in the e-mail the portal sends to that address.',
    '4. Allow up to 24 hours for the removal to take effect, then send a test message.',
  ];
  return `${lines.join('\n')}\n`;
}

function microsoftHtml(m: MicrosoftModel): string {
  const e = escapeHtml;
  const ul = (items: readonly string[], empty: string) =>
    `<ul>${(items.length === 0 ? [empty] : items).map((i) => `<li>${e(i)}</li>`).join('')}</ul>`;
  return [
    '<!doctype html><html><body>',
    '<p>Hello,</p>',
    `<p>We ask you to remove the IP address <strong>${e(m.ip)}</strong> from the Microsoft 365 / Exchange Online blocklist. `,
    `It is the public address of our customer ${e(m.tenantName)}; the cause has been dealt with (see Remediation).</p>`,
    `<h3>Customer</h3><p>${e(m.tenantName)} (tenant ID ${e(m.tenantId)})</p>`,
    `<p>Sending domains:</p>${ul(m.domains, '(none given)')}`,
    `<h3>Reply received ${e(m.replyAt)} (UTC)${m.code === null ? '' : `, status ${e(m.code)}`}</h3>`,
    `<pre>${e(m.replyBlock)}</pre>`,
    `<h3>${e(m.evidenceHeading)}</h3>`,
    ...m.evidenceNotes.map((n) => `<p><strong>Note:</strong> ${e(n)}</p>`),
    `<p>SPF:</p>${ul(
      m.spf.map((s) => spfLine(m.ip, s)),
      '(no SPF evidence given)',
    )}`,
    `<p>Relay IPs configured (Exchange Online inbound connector):</p>${ul(m.relayIps, '(none given)')}`,
    `<h3>Remediation done</h3>${ul(m.remediation, '(none given)')}`,
    `<h3>Contact</h3><p>${e(m.contactName)}, ${e(m.mspName)}<br>E-mail: ${e(m.contactEmail)}`,
    m.contactPhone === null ? '</p>' : `<br>Phone: ${e(m.contactPhone)}</p>`,
    `<h3>Self-service removal (sender.office.com)</h3><ol>${PORTAL_STEPS(m.portal, m.ndrRecipient, m.ip)
      .map((s) => `<li>${e(s)}</li>`)
      .join('')}</ol>`,
    `<p>Thank you,<br>${e(m.contactName)}<br>${e(m.mspName)}</p>`,
    '</body></html>',
  ].join('\n');
}

/**
 * The evidence is called evidence of legitimacy only when it is: the IP is a configured relay IP and SPF passes it
 * for at least one sending domain. Otherwise the heading is neutral and a note says what does not hold.
 */
function evidenceFraming(
  ip: string,
  evidence: MicrosoftDelistInput['evidence'],
): { evidenceHeading: string; evidenceNotes: string[] } {
  const notes: string[] = [];
  if (evidence.ipConfigured === false) {
    notes.push(
      `${ip} is not one of the relay IPs configured for this customer; the SPF results below are shown for reference, not as evidence that it is a legitimate sender.`,
    );
  }
  const passing = evidence.spf.filter((x) => x.resultForIp === 'pass').map((x) => oneLine(x.domain, 253));
  if (evidence.spf.length > 0 && passing.length === 0) {
    notes.push(`SPF does not authorise ${ip} for any of the sending domains (results below).`);
  }
  const legitimate = evidence.ipConfigured !== false && passing.length > 0;
  return {
    evidenceHeading: legitimate ? `Evidence that ${ip} is a legitimate sender` : `What we know about ${ip}`,
    evidenceNotes: notes,
  };
}

/**
 * Render a Microsoft delisting request. Throws `DelistInputError` when the IP, the sender address or the
 * contact address is malformed (those are ours, not the reply's). Nothing is sent.
 */
export async function renderMicrosoftDelist(
  input: MicrosoftDelistInput,
  options: RenderOptions = {},
): Promise<MicrosoftDelistPacket> {
  const ip = requireIp(input.ip);
  const contactEmail = requireAddress(input.msp.contact.email, 'msp.contact.email');
  const from = input.from === undefined ? contactEmail : requireAddress(input.from, 'from');
  const recipient = chooseRecipient(input.reply.text);
  const domains = input.domains.map((d) => oneLine(d, 253)).filter((d) => d !== '');
  const tenantName = oneLine(input.tenant.name, 120);
  const tenantId = oneLine(input.tenant.id, 120);
  const ndrRecipient =
    input.reply.recipient !== undefined && strictAddress(input.reply.recipient.trim()) !== null
      ? strictAddress(input.reply.recipient.trim())!
      : `the device's sending address${domains.length === 0 ? '' : ` at ${domains.join(', ')}`}`;

  const model: MicrosoftModel = {
    ip,
    tenantName,
    tenantId,
    domains,
    replyBlock: quotableBlock(input.reply.text),
    replyAt: iso(input.reply.at),
    code: recipient.code,
    spf: input.evidence.spf,
    relayIps: input.evidence.relayIps.map((r) => oneLine(r, 100)),
    ...evidenceFraming(ip, input.evidence),
    remediation: input.remediation.map((r) => oneLine(r, 1000)).filter((r) => r !== ''),
    mspName: oneLine(input.msp.name, 120),
    contactName: oneLine(input.msp.contact.name, 120),
    contactEmail,
    contactPhone: input.msp.contact.phone === undefined ? null : oneLine(input.msp.contact.phone, 40),
    portal: portalUrl(input.reply.text),
    ndrRecipient,
  };
  const subject = subjectFor(ip, tenantName, domains);
  const text = microsoftText(model);
  const fromDomain = from.slice(from.indexOf('@') + 1);
  const messageId = oneLine(options.messageId ?? `relaywatch-delist.${randomUUID()}@${fromDomain}`, 200).replace(
    /[<>\s]/g,
    '',
  );

  // nodemailer is loaded when a packet is composed, not by every process that imports the packet rules.
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    from: { name: oneLine(`${model.contactName} (${model.mspName})`, 160), address: from },
    to: recipient.to,
    subject,
    date: options.now ?? new Date(),
    messageId: `<${messageId}>`,
    headers: {
      'X-Relaywatch-Tenant': tenantId,
      'X-Relaywatch-Listed-IP': ip,
    },
    text,
    html: microsoftHtml(model),
  });
  const eml = await composer.compile().build();
  return {
    eml,
    text,
    markdown: microsoftMarkdown(model, recipient.to, subject),
    to: recipient.to,
    subject,
    recipientSource: recipient.source,
    code: recipient.code,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// DNS blocklists

/** A URL we print: http(s), no white space, quotes or angle brackets; else null. */
function safeUrl(url: string | null): string | null {
  if (url === null) return null;
  return /^https?:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:[/?#][A-Za-z0-9/_\-.~%?=&#+:@!$,;*]*)?$/.test(url) ? url : null;
}

/** What to prepare for a listed domain. */
function domainPreparation(l: DnsblListing, domain: string): string[] {
  const steps = [
    `This lists the domain ${domain} itself: mail from it (MAIL FROM, From) or linking to it is refused or junked whatever IP it comes from.`,
    'Find the cause first: a compromised mailbox of the domain sending spam, a hacked website or form on it, a redirect or link on it abused in spam, or bulk mail without consent.',
  ];
  if (l.zoneId.toLowerCase().startsWith('nordspam')) {
    steps.push(
      'NordSpam takes removal requests only by e-mail from an address at the listed domain, in English and plain text, with an explanation of what was fixed; listings do not expire.',
    );
  }
  steps.push(
    `Prepare: the domain ${domain}, the listing codes below, when the problem started and stopped, what was fixed (remediation) and the contact who will answer the list.`,
  );
  return steps;
}

/** What to prepare for one listing, from its operator and codes. */
function preparation(l: DnsblListing, ip: string): string[] {
  const id = l.zoneId.toLowerCase();
  const kinds = new Set(l.codes.map((c) => c.kind));
  const meanings = l.codes.map((c) => c.meaning.toLowerCase()).join(' ');
  const steps: string[] = [];
  if (kinds.has('neighbourhood') || /^uceprotect-[23]$/.test(id)) {
    steps.push(
      `This lists the network range or ASN around ${ip}, not the address itself: the customer cannot request removal.`,
      'Ask the ISP that owns the range to clean it up, or send through a relay/smarthost that is not in the range.',
      'Do not pay for "express delisting".',
    );
    return steps;
  }
  if (kinds.has('policy') || /\bpbl\b/.test(meanings)) {
    steps.push(
      'This is a policy listing (address space that should not send mail directly, e.g. dynamic IPs), not an abuse listing.',
      'Remove only if the address is a static business IP that really sends mail itself: have the ISP set a meaningful reverse DNS (PTR) first.',
      'Otherwise leave it listed and send through Exchange Online (connector or submission), which does not need the address to be unlisted.',
    );
  }
  if (/\bxbl\b|infected|exploited|botnet/.test(meanings)) {
    steps.push(
      'The address was seen sending from an infected or exploited host: find and clean the host (malware scan, NAT/firewall logs for outbound port 25) before asking.',
      'Block outbound port 25 at the firewall for everything except the devices that must relay.',
    );
  }
  if (id.startsWith('spamcop')) {
    steps.push(
      'SpamCop listings expire automatically about 24 hours after the reports stop: stop the source, then wait.',
    );
  }
  if (id.startsWith('s5h')) {
    steps.push(
      'Removal is automatic when the removal page is visited from the listed address itself (e.g. curl from a host behind that IP).',
    );
  }
  if (id.startsWith('barracuda')) {
    steps.push(
      'The Barracuda form asks for the IP, an e-mail address, a phone number and the reason: have them ready.',
    );
  }
  steps.push(
    `Prepare: the IP ${ip}, the listing codes below, the date the problem started and stopped, what was fixed (remediation), its reverse DNS (PTR) and the contact who will answer the list.`,
  );
  return steps;
}

interface DnsblModel {
  readonly zoneId: string;
  readonly zone: string;
  readonly operator: string;
  readonly codes: ReadonlyArray<{ code: string; meaning: string }>;
  readonly reason: string | null;
  readonly removalUrl: string | null;
  readonly lookupUrl: string | null;
  readonly prepare: readonly string[];
}

/** Per-list removal pages and what to prepare, as plain text and Markdown (the lists have their own forms). */
export function renderDnsblDelist(input: DnsblDelistInput): DnsblDelistPacket {
  const isDomain = input.domain !== undefined;
  const ip = isDomain ? requireDomain(input.domain ?? '') : requireIp(input.ip);
  const tenantName = oneLine(input.tenant.name, 120);
  const tenantId = oneLine(input.tenant.id, 120);
  const contactEmail = requireAddress(input.msp.contact.email, 'msp.contact.email');
  const contactName = oneLine(input.msp.contact.name, 120);
  const mspName = oneLine(input.msp.name, 120);
  const phone = input.msp.contact.phone === undefined ? null : oneLine(input.msp.contact.phone, 40);
  const listings: DnsblModel[] = input.listings.map((l) => ({
    zoneId: oneLine(l.zoneId, 80),
    zone: oneLine(l.zone, 253),
    operator: oneLine(l.operator, 120),
    codes: l.codes.map((c) => ({ code: oneLine(c.code, 40), meaning: oneLine(c.meaning, 300) })),
    reason: l.reason === null ? null : oneLine(l.reason, 300),
    removalUrl: safeUrl(l.removalUrl),
    lookupUrl: safeUrl(l.lookupUrl),
    prepare: isDomain ? domainPreparation(l, ip) : preparation(l, ip),
  }));
  const where = (l: DnsblModel) => l.removalUrl ?? (l.lookupUrl === null ? null : l.lookupUrl);
  const title = `DNS blocklist delisting for ${ip} (${tenantName})`;

  const text: string[] = [
    title,
    '',
    `Customer: ${tenantName} (tenant ID ${tenantId})`,
    `Contact:  ${contactName}, ${mspName}, ${contactEmail}${phone === null ? '' : `, ${phone}`}`,
    `Listed on ${listings.length} list${listings.length === 1 ? '' : 's'}. Each list has its own removal page or form; nothing is sent by relaywatch.`,
  ];
  const md: string[] = [
    `# ${mdText(title)}`,
    '',
    `- **Customer:** ${mdText(tenantName)} (${mdCode(tenantId)})`,
    `- **Contact:** ${mdText(contactName)}, ${mdText(mspName)}, ${mdCode(contactEmail)}${phone === null ? '' : `, ${mdText(phone)}`}`,
    `- **Listed on:** ${listings.length} list${listings.length === 1 ? '' : 's'}. Each list has its own removal page or form; nothing is sent by relaywatch.`,
  ];
  for (const l of listings) {
    const page = where(l);
    text.push(
      '',
      `== ${l.operator}: ${l.zone} (${l.zoneId})`,
      `Removal: ${l.removalUrl ?? (page === null ? 'no removal page known: contact the operator' : `no removal page; look up at ${page}`)}`,
      ...(l.lookupUrl === null || l.lookupUrl === l.removalUrl ? [] : [`Lookup:  ${l.lookupUrl}`]),
      'Codes:',
      ...(l.codes.length === 0 ? ['  - (none decoded)'] : l.codes.map((c) => `  - ${c.code}: ${c.meaning}`)),
      `Reason given by the list: ${l.reason === null ? '(none)' : JSON.stringify(l.reason)}`,
      'What to prepare:',
      ...l.prepare.map((p) => `  - ${p}`),
    );
    md.push(
      '',
      `## ${mdText(l.operator)}: ${mdCode(l.zone)} (${mdCode(l.zoneId)})`,
      '',
      `- **Removal:** ${l.removalUrl !== null ? `<${l.removalUrl}>` : page === null ? 'no removal page known: contact the operator' : `no removal page; look up at <${page}>`}`,
      ...(l.lookupUrl === null || l.lookupUrl === l.removalUrl ? [] : [`- **Lookup:** <${l.lookupUrl}>`]),
      `- **Codes:** ${l.codes.length === 0 ? '(none decoded)' : l.codes.map((c) => `${mdCode(c.code)} ${mdText(c.meaning)}`).join('; ')}`,
      `- **Reason given by the list:** ${l.reason === null ? '(none)' : mdCode(l.reason)}`,
      '',
      '**What to prepare:**',
      '',
      // Our own text; the only variable in it is the validated IP.
      ...l.prepare.map((p) => `- ${p}`),
    );
  }
  return { text: `${text.join('\n')}\n`, markdown: `${md.join('\n')}\n` };
}
