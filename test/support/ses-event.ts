/**
 * An SES receipt event as the receipt rule's Lambda action delivers it (the shape of the sample in the Amazon SES
 * Developer Guide, "Sample incoming email event": `Records[].ses.mail` with the headers SES saw and
 * `ses.receipt` with its verdicts and the `Lambda` action), built from a raw message's header block.
 */
import type { SESEvent } from 'aws-lambda';

function headersOf(raw: string): { name: string; value: string }[] {
  const end = raw.search(/\r?\n\r?\n/);
  const block = end >= 0 ? raw.slice(0, end) : raw;
  const out: { name: string; value: string }[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      const last = out[out.length - 1]!;
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) out.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
  }
  return out;
}

export function sesEvent(
  raw: string,
  options: { messageId: string; timestamp: string; recipient: string; headersTruncated?: boolean },
): SESEvent {
  const headers = headersOf(raw);
  const h = (name: string) => headers.find((x) => x.name.toLowerCase() === name.toLowerCase())?.value ?? '';
  const verdict = { status: 'PASS' as const };
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp: options.timestamp,
            source: h('Return-Path').replace(/^<|>$/g, ''),
            messageId: options.messageId,
            destination: [options.recipient],
            headersTruncated: options.headersTruncated ?? false,
            headers,
            commonHeaders: {
              returnPath: h('Return-Path').replace(/^<|>$/g, ''),
              from: [h('From')],
              date: h('Date'),
              to: [h('To')],
              messageId: h('Message-ID'),
              subject: h('Subject'),
            },
          },
          receipt: {
            timestamp: options.timestamp,
            processingTimeMillis: 412,
            recipients: [options.recipient],
            spamVerdict: verdict,
            virusVerdict: verdict,
            spfVerdict: verdict,
            dkimVerdict: verdict,
            dmarcVerdict: verdict,
            dmarcPolicy: 'none',
            action: {
              type: 'Lambda',
              functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:relaywatch-prod-ses-inbound',
              invocationType: 'Event',
            },
          },
        },
      },
    ],
  } as SESEvent;
}
