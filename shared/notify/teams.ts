/**
 * Microsoft Teams through a Workflows (Power Automate) webhook: "When a Teams webhook request is received" /
 * "Post to a channel when a webhook request is received". The flow expects a message with one Adaptive Card
 * attachment and answers 202 Accepted (200 from some flows); it runs asynchronously, so a card the flow cannot post
 * still gets 202 and only shows up in the flow's run history.
 *
 * The webhook host is not validated or hard-coded: both the older `https://prod-XX.<region>.logic.azure.com:443/workflows/…`
 * URLs and the newer `https://<env>.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/…`
 * URLs carry their signature (`sig=`) in the query, so the whole URL is a secret and errors show only scheme and host.
 *
 * `buildTeamsMessage` is pure. Alert text goes through `cardText` (escape.ts); links become `Action.OpenUrl` only when
 * they are http(s). The card stays under Teams' 28 KB message limit (caps are halved until it fits).
 */
import {
  type Alert,
  type AlertSeverity,
  DEFAULT_TIMEOUT_MS,
  displayTitle,
  formatDuration,
  kindPhrase,
  microsoftEssentials,
  type Notifier,
  operatorLines,
  type SendResult,
  safeHttpUrl,
  statusWord,
} from './alert.ts';
import type { DestinationPolicy } from './destination.ts';
import { cardText, clean } from './escape.ts';
import { postJson } from './http.ts';

export type CardElement = Readonly<Record<string, unknown>>;

export interface AdaptiveCard {
  readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  readonly type: 'AdaptiveCard';
  readonly version: '1.4';
  readonly msteams: { readonly width: 'Full' };
  readonly body: readonly CardElement[];
  readonly actions: readonly { readonly type: 'Action.OpenUrl'; readonly title: string; readonly url: string }[];
}

export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: readonly [
    {
      readonly contentType: 'application/vnd.microsoft.card.adaptive';
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

/** Teams rejects messages over 28 KB; stay below with room for the envelope. */
export const TEAMS_MAX_BYTES = 27_000;

interface Caps {
  readonly text: number;
  readonly evidence: number;
  readonly evidenceLines: number;
  readonly steps: number;
  readonly step: number;
}

const FULL: Caps = { text: 2000, evidence: 2500, evidenceLines: 40, steps: 20, step: 400 };

const STYLE: Readonly<Record<AlertSeverity, { container: string; color: string }>> = {
  critical: { container: 'attention', color: 'Attention' },
  warning: { container: 'warning', color: 'Warning' },
  info: { container: 'accent', color: 'Accent' },
};

function text(value: string, extra: CardElement = {}): CardElement {
  return { type: 'TextBlock', text: value, wrap: true, ...extra };
}

function evidenceBlock(evidence: string, caps: Caps): CardElement {
  const lines = clean(evidence, true).split('\n');
  const shown: CardElement[] = [];
  let used = 0;
  for (const line of lines) {
    if (shown.length >= caps.evidenceLines || used >= caps.evidence) {
      shown.push(text('…(truncated)', { isSubtle: true, spacing: 'None' }));
      break;
    }
    const piece = cardText(line === '' ? ' ' : line, Math.max(1, Math.min(500, caps.evidence - used)));
    used += piece.length;
    shown.push(text(piece, { fontType: 'Monospace', size: 'Small', spacing: 'None' }));
  }
  return { type: 'Container', style: 'emphasis', items: shown };
}

function build(alert: Alert, caps: Caps): TeamsMessage {
  const resolved = alert.kind === 'resolved';
  const style = resolved
    ? { container: 'good', color: 'Good' }
    : alert.kind === 'test'
      ? { container: 'emphasis', color: 'Default' }
      : STYLE[alert.severity];
  const status = statusWord(alert);
  const mark = resolved ? '\u2705 ' : alert.kind === 'flapping' ? '\u{1F501} ' : '';
  const body: CardElement[] = [
    {
      type: 'Container',
      style: style.container,
      bleed: true,
      items: [
        text(`${mark}${status}: ${cardText(displayTitle(alert), 300)}`, {
          size: 'Large',
          weight: 'Bolder',
          color: style.color,
        }),
        text(cardText(kindPhrase(alert), 200), { spacing: 'None', isSubtle: true }),
      ],
    },
    {
      type: 'FactSet',
      facts: [
        { title: 'Tenant', value: `${cardText(alert.tenant.name, 300)} (${cardText(alert.tenant.id, 100)})` },
        { title: 'Check', value: cardText(alert.check, 200) },
        ...(alert.problem ? [{ title: 'Problem', value: cardText(alert.problem, 120) }] : []),
        { title: 'Subject', value: cardText(alert.subject, 500) },
        { title: 'Severity', value: cardText(resolved ? `${alert.severity} (resolved)` : alert.severity, 50) },
        { title: 'Incident', value: cardText(alert.incidentId, 40) },
        { title: 'Opened', value: cardText(alert.openedAt, 40) },
        ...(alert.kind === 'opened' ? [] : [{ title: cardText(alert.kind, 20), value: cardText(alert.at, 40) }]),
      ],
    },
    text(resolved ? 'What was wrong' : 'What broke', { weight: 'Bolder' }),
    text(cardText(alert.what, caps.text), { spacing: 'Small' }),
    ...operatorLines(alert).map((l) => text(cardText(l, 700), { weight: 'Bolder' })),
  ];
  if (resolved) {
    const took = formatDuration(alert.openedAt, alert.at);
    if (took !== null) body.push(text(`Open for ${took}.`, { isSubtle: true }));
  } else {
    body.push(text('Why', { weight: 'Bolder' }), text(cardText(alert.why, caps.text), { spacing: 'Small' }));
    if (alert.remediation.length > 0) {
      body.push(text('What to do', { weight: 'Bolder' }));
      alert.remediation.slice(0, caps.steps).forEach((step, i) => {
        body.push(text(`${i + 1}. ${cardText(step, caps.step)}`, { spacing: 'None' }));
      });
      if (alert.remediation.length > caps.steps) body.push(text('…(more steps not shown)', { isSubtle: true }));
    }
    if (alert.evidence !== null && alert.evidence.trim() !== '') {
      body.push(text('Evidence (as received, untrusted)', { weight: 'Bolder' }), evidenceBlock(alert.evidence, caps));
    }
    if (alert.packet?.microsoft) {
      const [head = '', ...rest] = microsoftEssentials(alert.packet);
      body.push(text(cardText(head, 300), { weight: 'Bolder' }));
      for (const line of rest) body.push(text(cardText(line, 600), { spacing: 'None' }));
    } else if (alert.packet !== null) {
      body.push(
        text(
          `Delisting request prepared: ${cardText(alert.packet.filename, 200)} (attached to the e-mail alert and the webhook payload).`,
          { isSubtle: true },
        ),
      );
    }
  }
  const actions = alert.links
    .flatMap((l) => {
      const url = safeHttpUrl(l.url);
      return url === null ? [] : [{ type: 'Action.OpenUrl' as const, title: clean(l.label).slice(0, 80) || url, url }];
    })
    .slice(0, 5);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions,
        },
      },
    ],
  };
}

/** The Workflows webhook payload for an alert: one Adaptive Card (1.4), under `TEAMS_MAX_BYTES` serialised. */
export function buildTeamsMessage(alert: Alert): TeamsMessage {
  let caps = FULL;
  for (let i = 0; i < 5; i++) {
    const message = build(alert, caps);
    if (Buffer.byteLength(JSON.stringify(message), 'utf8') <= TEAMS_MAX_BYTES) return message;
    caps = {
      text: Math.floor(caps.text / 2),
      evidence: Math.floor(caps.evidence / 2),
      evidenceLines: Math.max(5, Math.floor(caps.evidenceLines / 2)),
      steps: Math.max(3, Math.floor(caps.steps / 2)),
      step: Math.floor(caps.step / 2),
    };
  }
  return build(alert, { text: 200, evidence: 200, evidenceLines: 5, steps: 3, step: 100 });
}

export interface TeamsNotifierOptions {
  /** The Workflows webhook URL (a secret: it carries the `sig` in its query). Any host. */
  readonly webhookUrl: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** Where it may post (default: public Internet hosts over https only; a lab allows private addresses). */
  readonly destinations?: DestinationPolicy;
}

export class TeamsNotifier implements Notifier {
  readonly channel = 'teams' as const;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #destinations: DestinationPolicy | undefined;

  constructor(options: TeamsNotifierOptions) {
    this.#url = options.webhookUrl;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#destinations = options.destinations;
  }

  async send(alert: Alert): Promise<SendResult> {
    if (safeHttpUrl(this.#url) === null) {
      return { ok: false, retryable: false, error: 'teams: the webhook URL is not an http(s) URL' };
    }
    let body: string;
    try {
      body = JSON.stringify(buildTeamsMessage(alert));
    } catch (error) {
      return { ok: false, retryable: false, error: `teams: could not build the card (${(error as Error).name})` };
    }
    return postJson(this.#url, body, {
      channel: 'teams',
      timeoutMs: this.#timeoutMs,
      accept: (status) => status === 200 || status === 202 || (status >= 200 && status < 300),
      ...(this.#destinations ? { destinations: this.#destinations } : {}),
    });
  }
}
