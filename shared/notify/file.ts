/**
 * The `file` alert channel: every alert written into a folder, twice: as an RFC 5322 message (`.eml`, the same message
 * the e-mail channel sends, with the delisting request attached when there is one) and as the JSON body the webhook
 * channel posts. For PSA drop folders (ConnectWise, Autotask, HaloPSA mail connectors that pick up `.eml` files),
 * for shipping alerts with a log collector, for testing routing without sending anything, and for `relaywatch demo`.
 *
 * Files are named `<UTC time of the event>-<tenant>-<kind>-<incident>.{eml,json}`, e.g.
 * `20261202T090000Z-contoso-opened-k3m9q2p7.eml`: sorted by name they are in the order things happened, and a retried
 * send of the same alert writes the same names again (the same content) instead of a duplicate. Each file is written
 * under a dot-name first and renamed into place, so a program watching the folder never reads half a file.
 * A folder that cannot be written (permissions, a full disk) is a retryable failure: the alert stays pending and is
 * written on the next run once the folder is fixed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Alert, Notifier, SendResult } from './alert.ts';
import { type AlertEmailAddressing, buildAlertEmail, mailOptions } from './email.ts';
import { buildWebhookPayload } from './webhook.ts';

export interface FileNotifierOptions extends AlertEmailAddressing {
  /** The folder (created when missing). */
  readonly dir: string;
}

function part(value: string, max: number): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max) || 'x'
  );
}

/** `20261202T090000Z-contoso-opened-k3m9q2p7`: the file name of an alert, without the extension. */
export function alertFileBase(alert: Pick<Alert, 'at' | 'tenant' | 'kind' | 'incidentId'>): string {
  const at = Date.parse(alert.at);
  const stamp = Number.isNaN(at)
    ? 'undated'
    : new Date(at)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${part(alert.tenant.id, 64)}-${part(alert.kind, 16)}-${part(alert.incidentId, 40)}`;
}

/** Pure apart from composing MIME: the alert as the `.eml` text and the webhook JSON text. */
export async function renderAlertFiles(
  alert: Alert,
  addressing: AlertEmailAddressing,
): Promise<{ readonly eml: string; readonly json: string }> {
  // A fixed MIME boundary (nodemailer's default is random) keeps a retried alert's .eml byte for byte the same.
  const baseBoundary = createHash('sha256')
    .update(alert.delivery?.key ?? alertFileBase(alert))
    .digest('hex')
    .slice(0, 16);
  const eml = await new MailComposer({ ...mailOptions(buildAlertEmail(alert, addressing)), baseBoundary })
    .compile()
    .build();
  return { eml: eml.toString('utf8'), json: `${JSON.stringify(buildWebhookPayload(alert), null, 2)}\n` };
}

async function writeAtomically(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

export class FileNotifier implements Notifier {
  readonly channel = 'file' as const;
  readonly #options: FileNotifierOptions;

  constructor(options: FileNotifierOptions) {
    this.#options = options;
  }

  async send(alert: Alert): Promise<SendResult> {
    let files: { eml: string; json: string };
    try {
      files = await renderAlertFiles(alert, this.#options);
    } catch (error) {
      return { ok: false, retryable: false, error: `file: could not build the message (${(error as Error).name})` };
    }
    const base = alertFileBase(alert);
    const dir = this.#options.dir;
    try {
      await mkdir(dir, { recursive: true });
      // The .eml last: a PSA drop folder turns it into a ticket, so it must appear only once the whole send worked
      // (a failed .json write after it would retry and rewrite an .eml the PSA may already have taken).
      await writeAtomically(dir, `${base}.json`, files.json);
      await writeAtomically(dir, `${base}.eml`, files.eml);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
      return { ok: false, retryable: true, error: `file: cannot write to ${dir} (${code})` };
    }
    return { ok: true, detail: `file: ${join(dir, base)}.eml and .json` };
  }
}
