/**
 * An incident's notification as an `Alert` for the notifiers: the content kept with the incident, the tenant, and the
 * prepared delisting request:
 * - a blocklist listing: the list's removal guidance as text and Markdown, and the same as a ready-to-forward `.eml`
 *   draft addressed to the MSP's own contact, because DNSBL removals go through web forms;
 * - a Microsoft listing seen by a probe (5.7.606–649 banned sending IP, 5.7.511 banned sender): the Microsoft request
 *   from `shared/delist/` (`.eml` addressed per the recipient rules, with the sender.office.com steps), plus the
 *   essentials (IP, portal, where to send) for chat messages.
 */
import { renderDnsblDelist, renderMicrosoftDelist } from '../delist/packet.ts';
import { chooseRecipient, portalUrl } from '../delist/recipient.ts';
import type { NotificationKind } from '../incidents/deliveries.ts';
import type { Alert, AlertPacket } from '../notify/alert.ts';
import type { IncidentRecord } from '../ports/stores.ts';
import { decodeContent, type ListingContent, type MicrosoftListingContent } from './observe.ts';

export interface AlertContext {
  readonly msp: {
    readonly name: string;
    readonly contact: { readonly name: string; readonly email: string; readonly phone?: string | undefined };
  };
  /** Operator names for registry zones, by zone id (for the packet). */
  readonly operatorOf?: (zoneId: string) => string | undefined;
}

/** The MSP contact a delisting packet is signed with (the phone only when the config has one). */
function packetContact(ctx: AlertContext): { name: string; email: string; phone?: string } {
  const { name, email, phone } = ctx.msp.contact;
  return { name, email, ...(phone ? { phone } : {}) };
}

async function dnsblPacket(
  listing: ListingContent,
  tenant: { id: string; name: string },
  ctx: AlertContext,
  at: Date,
): Promise<AlertPacket | null> {
  try {
    const contact = packetContact(ctx);
    const listed = listing.domain ?? listing.ip;
    const packet = renderDnsblDelist({
      ...(listing.domain !== undefined ? { ip: '', domain: listing.domain } : { ip: listing.ip }),
      tenant,
      msp: { name: ctx.msp.name, contact },
      listings: [
        {
          zoneId: listing.zoneId,
          zone: listing.zone,
          operator: ctx.operatorOf?.(listing.zoneId) ?? listing.zone,
          codes: listing.codes,
          reason: listing.reason,
          removalUrl: listing.removalUrl,
          lookupUrl: listing.lookupUrl,
        },
      ],
    });
    // nodemailer is loaded when a packet is prepared, not at cold start of every function that builds alerts.
    const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
    const eml = await new MailComposer({
      from: { name: `relaywatch (${ctx.msp.name})`, address: ctx.msp.contact.email },
      to: { name: ctx.msp.contact.name, address: ctx.msp.contact.email },
      subject: `Delisting request prepared: ${listed} on ${listing.zone} (${tenant.name})`,
      date: at,
      headers: {
        'X-Relaywatch-Tenant': tenant.id,
        ...(listing.domain !== undefined
          ? { 'X-Relaywatch-Listed-Domain': listing.domain }
          : { 'X-Relaywatch-Listed-IP': listing.ip }),
      },
      text: packet.text,
    })
      .compile()
      .build();
    return {
      filename: `delist-${listed.replaceAll(':', '-')}-${listing.zoneId}.eml`,
      eml: eml.toString('utf8'),
      text: packet.text,
      markdown: packet.markdown,
    };
  } catch {
    // A listing the packet renderer refuses (an odd custom zone) still gets its alert, without the packet.
    return null;
  }
}

async function microsoftPacket(
  listing: MicrosoftListingContent,
  incident: IncidentRecord,
  tenant: { id: string; name: string },
  ctx: AlertContext,
  at: Date,
): Promise<AlertPacket | null> {
  try {
    const contact = packetContact(ctx);
    const domain = ctx.msp.contact.email.split('@').pop() ?? 'relaywatch.invalid';
    const packet = await renderMicrosoftDelist(
      {
        ip: listing.ip,
        tenant,
        domains: listing.domains,
        reply: {
          text: listing.reply,
          at: new Date(listing.at),
          ...(listing.recipient ? { recipient: listing.recipient } : {}),
        },
        evidence: { spf: listing.spf, relayIps: listing.relayIps },
        remediation: ['(to be confirmed by the MSP before sending: what was found and fixed behind this IP)'],
        msp: { name: ctx.msp.name, contact },
      },
      // One request per episode: the same Message-ID on every alert of it, so a forwarded copy is recognisable.
      { now: at, messageId: `delist.${incident.id}.${Date.parse(incident.openedAt).toString(36)}@${domain}` },
    );
    const recipient = chooseRecipient(listing.reply);
    return {
      filename: `delist-${listing.ip.replaceAll(':', '-')}-microsoft.eml`,
      eml: packet.eml.toString('utf8'),
      text: packet.text,
      markdown: packet.markdown,
      microsoft: {
        ip: listing.ip,
        code: packet.code,
        portal: recipient.code === '5.7.511' ? null : portalUrl(listing.reply),
        to: packet.to,
        recipient: listing.recipient,
      },
    };
  } catch {
    // A request the renderer refuses (a malformed contact address) still leaves the alert, without the packet.
    return null;
  }
}

/** The alert for one pending notification of an incident. */
export async function alertFor(
  incident: IncidentRecord,
  kind: NotificationKind,
  tenantName: string,
  at: Date,
  ctx: AlertContext,
): Promise<Alert> {
  const content = decodeContent(incident.lastDetail);
  const tenant = { id: incident.tenantId, name: tenantName };
  const packet =
    kind === 'resolved'
      ? null
      : content.listing
        ? await dnsblPacket(content.listing, tenant, ctx, at)
        : content.microsoft
          ? await microsoftPacket(content.microsoft, incident, tenant, ctx, at)
          : null;
  const subject = content.listing
    ? `${content.listing.domain ?? content.listing.ip} on ${content.listing.zone}`
    : incident.subject;
  return {
    kind,
    incidentId: incident.id,
    tenant,
    severity: incident.severity,
    check: incident.check,
    problem: incident.problem,
    subject,
    title: incident.title,
    what: content.what,
    why: content.why,
    remediation: content.remediation,
    links: content.links,
    evidence: content.evidence,
    openedAt: incident.openedAt,
    at: (kind === 'resolved' && incident.resolvedAt) || at.toISOString(),
    packet,
    acknowledged: incident.ack ?? null,
    resolution: kind === 'resolved' ? (incident.resolution ?? { kind: 'passed', by: null, note: null }) : null,
  };
}
