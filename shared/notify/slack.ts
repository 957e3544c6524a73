/**
 * Slack: a Block Kit message for an Incoming Webhook, and the sender.
 *
 * `buildSlackMessage` is pure. Every piece of alert text goes through `slackMrkdwn`/`slackPlain`/`slackCodeBlock`
 * (see escape.ts) and every mrkdwn object is `verbatim: true`, so Slack neither auto-links nor parses mentions in it.
 * Limits kept: header 150 characters, section text 3000, section field 2000 (at most 10), button text 75, button URL
 * 3000, at most 5 link buttons, evidence capped at 2,500 characters.
 *
 * `SlackNotifier` posts with `@slack/webhook`'s `IncomingWebhook` (v8: uses `fetch`, any http(s) URL, `timeout`
 * option, no retries by default, `redirect: 'error'`), given our `boundedFetch`: the destination guard and at most
 * 4 KiB of the response body (the library reads the whole body of an error otherwise).
 */
import {
  type FetchFunction,
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import {
  type Alert,
  type AlertSeverity,
  DEFAULT_TIMEOUT_MS,
  displayTitle,
  kindPhrase,
  microsoftEssentials,
  type Notifier,
  operatorLines,
  type SendResult,
  safeHttpUrl,
  statusWord,
} from './alert.ts';
import type { DestinationPolicy } from './destination.ts';
import { clean, slackCodeBlock, slackMrkdwn, slackPlain } from './escape.ts';
import { boundedFetch, requestFailure, statusFailure } from './http.ts';

export interface SlackPlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface SlackMrkdwnText {
  readonly type: 'mrkdwn';
  readonly text: string;
  readonly verbatim?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackPlainText }
  | { readonly type: 'section'; readonly text?: SlackMrkdwnText; readonly fields?: readonly SlackMrkdwnText[] }
  | { readonly type: 'divider' }
  | { readonly type: 'context'; readonly elements: readonly SlackMrkdwnText[] }
  | {
      readonly type: 'actions';
      readonly elements: readonly {
        readonly type: 'button';
        readonly text: SlackPlainText;
        readonly url: string;
        readonly action_id: string;
      }[];
    };

export interface SlackMessage {
  /** Fallback for notifications and clients without blocks (mrkdwn, escaped). */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  buttonText: 75,
  buttonUrl: 3000,
  blocks: 50,
  evidence: 2500,
} as const;

const SEVERITY_EMOJI: Readonly<Record<AlertSeverity, string>> = {
  critical: '\u{1F534}', // red circle
  warning: '\u{1F7E0}', // orange circle
  info: '\u{1F535}', // blue circle
};

function emojiFor(alert: Alert): string {
  switch (alert.kind) {
    case 'resolved':
      return '\u2705'; // white heavy check mark (green)
    case 'flapping':
      return '\u{1F501}'; // repeat
    case 'test':
      return '\u{1F9EA}'; // test tube
    case 'escalated':
      return `\u{1F6A8} ${SEVERITY_EMOJI[alert.severity]}`; // rotating light
    default:
      return SEVERITY_EMOJI[alert.severity];
  }
}

function md(text: string): SlackMrkdwnText {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** A section with a bold label over escaped text, the whole within Slack's 3000 characters. */
function labelled(label: string, body: string): SlackBlock {
  const head = `*${label}*\n`;
  return { type: 'section', text: md(head + slackMrkdwn(body, SLACK_LIMITS.sectionText - head.length, true)) };
}

function timeText(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? slackMrkdwn(iso, 40) : new Date(t).toISOString().replace('.000Z', 'Z');
}

export function buildSlackMessage(alert: Alert): SlackMessage {
  const resolved = alert.kind === 'resolved';
  const status = statusWord(alert);
  const title = displayTitle(alert);
  const blocks: SlackBlock[] = [];

  blocks.push({
    type: 'header',
    text: { type: 'plain_text', text: slackPlain(`${emojiFor(alert)} ${status}: ${title}`, 150), emoji: true },
  });
  blocks.push({
    type: 'section',
    text: md(resolved ? `\u2705 *${slackMrkdwn(kindPhrase(alert), 200)}*` : `*${slackMrkdwn(kindPhrase(alert), 200)}*`),
  });
  blocks.push({
    type: 'section',
    fields: [
      md(`*Tenant*\n${slackMrkdwn(alert.tenant.name, 300)} (${slackMrkdwn(alert.tenant.id, 100)})`),
      md(
        `*Check*\n${slackMrkdwn(alert.check, 300)}${alert.problem ? ` (\`${slackMrkdwn(alert.problem, 120)}\`)` : ''}`,
      ),
      md(`*Subject*\n${slackMrkdwn(alert.subject, 500)}`),
      md(`*Severity*\n${slackMrkdwn(resolved ? `${alert.severity} (resolved)` : alert.severity, 100)}`),
    ],
  });
  blocks.push(labelled(resolved ? 'What was wrong' : 'What broke', alert.what));
  for (const line of operatorLines(alert)) blocks.push({ type: 'section', text: md(slackMrkdwn(line, 1000)) });
  if (!resolved) {
    blocks.push(labelled('Why', alert.why));
    if (alert.remediation.length > 0) {
      const steps = alert.remediation
        .slice(0, 20)
        .map((step, i) => `${i + 1}. ${slackMrkdwn(step, 400)}`)
        .join('\n');
      const head = '*What to do*\n';
      blocks.push({ type: 'section', text: md(head + capLines(steps, SLACK_LIMITS.sectionText - head.length)) });
    }
    if (alert.evidence !== null && alert.evidence.trim() !== '') {
      const head = '*Evidence* (as received, untrusted)\n';
      blocks.push({ type: 'section', text: md(head + slackCodeBlock(alert.evidence, SLACK_LIMITS.evidence)) });
    }
    if (alert.packet?.microsoft) {
      const [head = '', ...rest] = microsoftEssentials(alert.packet);
      blocks.push({
        type: 'section',
        text: md(
          capLines(
            [`*${slackMrkdwn(head, 300)}*`, ...rest.map((l) => slackMrkdwn(l, 600))].join('\n'),
            SLACK_LIMITS.sectionText,
          ),
        ),
      });
    } else if (alert.packet !== null) {
      blocks.push({
        type: 'section',
        text: md(
          `*Delisting request prepared:* ${slackMrkdwn(alert.packet.filename, 200)} (attached to the e-mail alert and the webhook payload)`,
        ),
      });
    }
  }

  const buttons = alert.links
    .flatMap((l) => {
      const url = safeHttpUrl(l.url);
      return url === null || url.length > SLACK_LIMITS.buttonUrl ? [] : [{ label: l.label, url }];
    })
    .slice(0, 5)
    .map((l, i) => ({
      type: 'button' as const,
      text: { type: 'plain_text' as const, text: slackPlain(l.label === '' ? l.url : l.label, 75), emoji: false },
      url: l.url,
      action_id: `relaywatch-link-${i}`,
    }));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });

  blocks.push({
    type: 'context',
    elements: [
      md(
        `Incident *${slackMrkdwn(alert.incidentId, 40)}* · opened ${timeText(alert.openedAt)}${
          alert.kind === 'opened' ? '' : ` · ${slackMrkdwn(alert.kind, 20)} ${timeText(alert.at)}`
        } · relaywatch`,
      ),
    ],
  });

  const text = slackMrkdwn(
    `${status}: ${title} (${alert.tenant.name}, ${alert.subject}) #${alert.incidentId}${resolved ? ` ${kindPhrase(alert)}` : ''}`,
    300,
  );
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

/** Join lines, dropping whole lines (with a note) rather than cutting one in half. */
function capLines(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = '\n…(more steps not shown)';
  let out = '';
  for (const line of text.split('\n')) {
    const next = out === '' ? line : `${out}\n${line}`;
    if (next.length + note.length > max) break;
    out = next;
  }
  return out + note;
}

export interface SlackNotifierOptions {
  /** The Incoming Webhook URL (a secret: never shown in errors). */
  readonly webhookUrl: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** Where it may post (default: public Internet hosts over https only; a lab allows private addresses). */
  readonly destinations?: DestinationPolicy;
}

export class SlackNotifier implements Notifier {
  readonly channel = 'slack' as const;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #destinations: DestinationPolicy;

  constructor(options: SlackNotifierOptions) {
    this.#url = options.webhookUrl;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#destinations = options.destinations ?? {};
  }

  async send(alert: Alert): Promise<SendResult> {
    if (safeHttpUrl(this.#url) === null) {
      return { ok: false, retryable: false, error: 'slack: the webhook URL is not an http(s) URL' };
    }
    try {
      const message = buildSlackMessage(alert);
      const webhook = new IncomingWebhook(this.#url, {
        timeout: this.#timeoutMs,
        fetch: boundedFetch(this.#destinations) as unknown as FetchFunction,
      });
      // Our readonly Block Kit types are a subset of @slack/types' (mutable) ones.
      const result = await webhook.send(message as unknown as IncomingWebhookSendArguments);
      return { ok: true, detail: `slack: accepted (${clean(result.text).slice(0, 40)})` };
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        return statusFailure('slack', this.#url, error.statusCode, error.body);
      }
      if (error instanceof IncomingWebhookRequestError) {
        return requestFailure('slack', this.#url, this.#timeoutMs, error.original);
      }
      return { ok: false, retryable: false, error: `slack: could not send (${errorName(error)})` };
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
