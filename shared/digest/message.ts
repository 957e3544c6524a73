/**
 * A rendered digest as the e-mail a route sends (pure): From, Reply-To and the transport come from the route; the
 * subject and custom headers are cleaned of control characters (no header injection from a tenant name); the
 * Message-ID is derived from the week, the audience and a caller-chosen tag, so the CLI (a timestamp) and the Lambda
 * digest function (the week alone: a retried run sends the same Message-ID, which mail systems de-duplicate) agree.
 */
import type { AlertRouteConfig } from '../config/schema.ts';
import type { AlertEmail } from '../notify/email.ts';
import { headerValue } from '../notify/escape.ts';
import type { DigestMeta } from './model.ts';

export interface DigestMessage {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly to: readonly string[];
}

/** `msp` or a tenant id, as in `sendDigests`. */
export type DigestAudience = string;

export function digestEmail(
  route: AlertRouteConfig,
  meta: DigestMeta,
  audience: DigestAudience,
  message: DigestMessage,
  tag: string,
): AlertEmail {
  const email = route.email;
  if (!email) throw new TypeError(`route ${route.id} is not an e-mail route`);
  const domain = email.from.split('@').pop()?.replace(/[>\s]/g, '') || 'relaywatch.invalid';
  const id = [meta.week.id, audience, tag]
    .filter((p) => p !== '')
    .join('.')
    .replace(/[^A-Za-z0-9._-]/g, '_');
  return {
    from: email.from,
    to: message.to,
    ...(email.replyTo ? { replyTo: email.replyTo } : {}),
    subject: headerValue(message.subject, 250),
    messageId: `<digest.${id}@${domain}>`,
    date: new Date(meta.generatedAt),
    headers: {
      'X-Relaywatch-Digest': headerValue(meta.week.id, 16),
      'X-Relaywatch-Tenant': headerValue(audience, 64),
    },
    text: message.text,
    html: message.html,
    attachments: [],
  };
}
