/**
 * The probe mailbox through Microsoft Graph with an app-only token (client credentials through the `TokenProvider`
 * port, scope `https://graph.microsoft.com/.default`). The app holds the `Mail.Read` application permission only for
 * the probe mailbox, by RBAC for Applications in Exchange Online (`New-ManagementScope` +
 * `New-ManagementRoleAssignment -Role "Application Mail.Read"`; removing messages needs "Application Mail.ReadWrite");
 * see docs/configuration.md.
 *
 * Requests (v1.0):
 * - `GET /users/{mailbox}/mailFolders/inbox?$select=id` and `…/mailFolders/junkemail?$select=id` once per instance:
 *   the well-known folders' ids, to tell Inbox from Junk Email by `parentFolderId`.
 * - per probe `GET /users/{mailbox}/messages?$filter=internetMessageId eq '<id>'&$select=id,internetMessageId,
 *   receivedDateTime,parentFolderId,internetMessageHeaders&$top=10`: the user-level collection spans every folder;
 *   `internetMessageHeaders` only comes back when `$select`ed. `@odata.nextLink` is followed (same origin only, at
 *   most {@link MAX_PAGES} pages).
 * - `remove()`: `DELETE /users/{mailbox}/messages/{id}` (Exchange moves it to Deleted Items); a 404 means gone already.
 *   With `moveTo` (a folder's display name) instead: the folder's id once per instance from
 *   `GET /users/{mailbox}/mailFolders?$filter=displayName eq '<name>'&$select=id,displayName` (top-level folders),
 *   created with `POST /users/{mailbox}/mailFolders` `{ displayName }` when missing (a 409 `ErrorFolderExists` from a
 *   concurrent run: asked again), then `POST /users/{mailbox}/messages/{id}/move` `{ destinationId }` per message.
 *   Both need the "Application Mail.ReadWrite" role (RBAC for Applications), not only Mail.Read.
 *
 * Throttling: a 429 or 503 is retried after its `Retry-After` (seconds; capped at `maxRetryAfterMs`) up to
 * `maxRetries` times, then it is the `throttled` failure. Response bodies are read with a bound: {@link MAX_JSON_BYTES}
 * for JSON, {@link MAX_ERROR_BYTES} for an error; a bigger JSON answer is a `protocol` failure.
 *
 * Error contract (the port's): nothing Graph or the network does rejects. 401/403 → `auth` (with Graph's error code,
 * e.g. `ErrorAccessDenied` when the RBAC assignment is missing), 404 → `not-found` (no such mailbox), 429/503 after the
 * retries → `throttled`, other answers → `protocol`, connection failures → `network`, no answer in time → `timeout`,
 * no token → `token`. Messages never carry the token.
 */
import { Agent } from 'node:https';
import { type HttpResponse, httpRequest } from '../../http/request.ts';
import {
  bareMessageId,
  type FindResult,
  MAX_HEADER_BYTES,
  type MailboxFailure,
  type MailboxFolder,
  type MailboxMessage,
  type ProbeMailbox,
  type RemoveResult,
} from '../../ports/probe-mailbox.ts';
import type { TokenResult } from '../../ports/token-provider.ts';
import { failureText } from './text.ts';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
export const MAX_ERROR_BYTES = 4 * 1024;
export const MAX_PAGES = 10;

export interface GraphMailboxOptions {
  /** The probe mailbox's address (UPN) or object id. */
  readonly mailbox: string;
  /** A token for {@link GRAPH_SCOPE} (or the national cloud's), e.g. from `TokenProvider.getToken`. */
  readonly token: () => Promise<TokenResult>;
  /** Default `https://graph.microsoft.com` (GCC High: `https://graph.microsoft.us`). */
  readonly endpoint?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxRetries?: number | undefined;
  readonly maxRetryAfterMs?: number | undefined;
  /** Extra CA certificates to trust (tests, a TLS-inspecting proxy). */
  readonly ca?: string | readonly string[] | undefined;
  /** An https agent of the caller's (wins over `ca`). */
  readonly agent?: Agent | undefined;
  /** Waits for Retry-After; tests pass a fake. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Move read probes to this top-level folder (created when missing) instead of deleting them. */
  readonly moveTo?: string | undefined;
}

interface GraphMessage {
  readonly id?: unknown;
  readonly internetMessageId?: unknown;
  readonly receivedDateTime?: unknown;
  readonly parentFolderId?: unknown;
  readonly internetMessageHeaders?: unknown;
}

type Got<T> = { readonly ok: true; readonly status: number; readonly json: T | null } | MailboxFailure;

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function graphError(text: string | null): string {
  if (!text) return '';
  try {
    const v = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof v.error?.code === 'string' ? v.error.code : '';
    const message = typeof v.error?.message === 'string' ? v.error.message : '';
    return [code, message].filter(Boolean).join(': ');
  } catch {
    return text;
  }
}

function headerBlock(value: unknown): string {
  if (!Array.isArray(value)) return '';
  let out = '';
  for (const h of value) {
    if (!h || typeof h !== 'object') continue;
    const { name, value: v } = h as { name?: unknown; value?: unknown };
    if (typeof name !== 'string' || typeof v !== 'string') continue;
    const line = `${name}: ${v}\r\n`;
    if (out.length + line.length > MAX_HEADER_BYTES) break;
    out += line;
  }
  return out;
}

export class GraphMailbox implements ProbeMailbox {
  readonly #o: GraphMailboxOptions;
  readonly #base: URL;
  readonly #agent: Agent | undefined;
  #folders: { inbox: string | null; junk: string | null } | null = null;
  #moveToId: string | null = null;

  constructor(options: GraphMailboxOptions) {
    const base = new URL(options.endpoint ?? DEFAULT_GRAPH_ENDPOINT);
    if (base.protocol !== 'https:') throw new TypeError(`the Graph endpoint must be https, got ${base.origin}`);
    if (options.mailbox.trim() === '' || /[/?#\s]/.test(options.mailbox)) {
      throw new TypeError(`not a mailbox address or id: ${JSON.stringify(options.mailbox)}`);
    }
    this.#o = options;
    this.#base = base;
    const ca = options.ca === undefined ? [] : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
    this.#agent = options.agent ?? (ca.length > 0 ? new Agent({ keepAlive: true, ca: [...ca] }) : undefined);
  }

  #url(path: string, query: Record<string, string> = {}): string {
    const u = new URL(`/v1.0/users/${encodeURIComponent(this.#o.mailbox)}${path}`, this.#base);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    // Graph documents OData parameters with a literal `$`; URLSearchParams encodes it as %24, which Graph also takes.
    return u.toString();
  }

  async #request<T>(method: 'GET' | 'DELETE' | 'POST', url: string, token: string, body?: unknown): Promise<Got<T>> {
    const retries = this.#o.maxRetries ?? 3;
    const sleep = this.#o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await httpRequest(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
          // a JSON answer may be long, anything else is read only far enough to quote
          maxBodyBytes: (status) => (status >= 200 && status < 300 ? MAX_JSON_BYTES : MAX_ERROR_BYTES),
          ...(this.#agent ? { agent: this.#agent } : {}),
        });
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'TimeoutError' || name === 'AbortError') {
          return { ok: false, reason: 'timeout', message: `no answer from ${this.#base.host} in time` };
        }
        let code = '';
        for (
          let e: unknown = err, d = 0;
          e && typeof e === 'object' && d < 4;
          e = (e as { cause?: unknown }).cause, d++
        ) {
          const c = (e as { code?: unknown }).code;
          if (typeof c === 'string') code = c;
        }
        return {
          ok: false,
          reason: 'network',
          message: failureText(`${code || 'request failed'} (${this.#base.host})`, [token]),
        };
      }
      const retryAfterHeader = headerValue(res.headers['retry-after']);
      if (res.status >= 300 && res.status < 400) {
        // never followed: the bearer token goes to the configured endpoint only
        return { ok: false, reason: 'protocol', message: `Graph answered ${res.status} (a redirect, not followed)` };
      }
      if (res.status === 429 || res.status === 503) {
        const after = Number(retryAfterHeader);
        const waitMs = Math.min(
          Number.isFinite(after) && after >= 0 ? after * 1000 : 1000,
          this.#o.maxRetryAfterMs ?? 30_000,
        );
        if (attempt >= retries) {
          return {
            ok: false,
            reason: 'throttled',
            message: `Graph answered ${res.status} (Retry-After ${retryAfterHeader ?? 'not given'}) ${attempt + 1} times`,
          };
        }
        await sleep(waitMs);
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        if (res.status === 204 || method === 'DELETE') return { ok: true, status: res.status, json: null };
        if (res.overflow)
          return { ok: false, reason: 'protocol', message: `Graph's answer is over ${MAX_JSON_BYTES} bytes` };
        const text = res.body.toString('utf8');
        try {
          return { ok: true, status: res.status, json: JSON.parse(text) as T };
        } catch {
          return { ok: false, reason: 'protocol', message: 'Graph answered with something that is not JSON' };
        }
      }
      const detail = failureText(graphError(res.overflow ? null : res.body.toString('utf8')), [token], 240);
      const what = `Graph answered ${res.status}${detail ? ` (${detail})` : ''}`;
      if (res.status === 404 || (res.status === 409 && method === 'POST'))
        return { ok: true, status: res.status, json: null };
      if (res.status === 401 || res.status === 403) return { ok: false, reason: 'auth', message: what };
      return { ok: false, reason: 'protocol', message: what };
    }
  }

  async #token(): Promise<string | MailboxFailure> {
    const t = await this.#o.token();
    return t.ok ? t.token : { ok: false, reason: 'token', message: failureText(`${t.reason}: ${t.message}`) };
  }

  async #folderIds(token: string): Promise<{ inbox: string | null; junk: string | null } | MailboxFailure> {
    if (this.#folders) return this.#folders;
    const ids: { inbox: string | null; junk: string | null } = { inbox: null, junk: null };
    for (const [key, name] of [
      ['inbox', 'inbox'],
      ['junk', 'junkemail'],
    ] as const) {
      const r = await this.#request<{ id?: unknown }>(
        'GET',
        this.#url(`/mailFolders/${name}`, { $select: 'id' }),
        token,
      );
      if (!r.ok) return r;
      if (r.status === 404) {
        return {
          ok: false,
          reason: 'not-found',
          message: `no mailbox ${this.#o.mailbox} (or no ${name} folder) in Graph`,
        };
      }
      ids[key] = typeof r.json?.id === 'string' ? r.json.id : null;
    }
    this.#folders = ids;
    return ids;
  }

  async find(messageIds: readonly string[]): Promise<FindResult> {
    const wanted = messageIds.map((asked) => ({ asked, bare: bareMessageId(asked) }));
    const found = new Map<string, MailboxMessage[]>(wanted.map((w) => [w.asked, []]));
    if (wanted.length === 0) return { ok: true, found };
    const token = await this.#token();
    if (typeof token !== 'string') return token;
    const folders = await this.#folderIds(token);
    if ('ok' in folders) return folders;
    for (const w of wanted) {
      let url: string | null = this.#url('/messages', {
        $filter: `internetMessageId eq '<${w.bare.replaceAll("'", "''")}>'`,
        $select: 'id,internetMessageId,receivedDateTime,parentFolderId,internetMessageHeaders',
        $top: '10',
      });
      for (let page = 0; url !== null && page < MAX_PAGES; page++) {
        const r: Got<{ value?: unknown; '@odata.nextLink'?: unknown }> = await this.#request('GET', url, token);
        if (!r.ok) return r;
        if (r.status === 404) {
          return { ok: false, reason: 'not-found', message: `no mailbox ${this.#o.mailbox} in Graph` };
        }
        const value = Array.isArray(r.json?.value) ? (r.json.value as GraphMessage[]) : null;
        if (value === null)
          return { ok: false, reason: 'protocol', message: 'Graph’s message list has no value array' };
        for (const m of value) {
          if (typeof m.id !== 'string' || typeof m.internetMessageId !== 'string') continue;
          if (m.internetMessageId.replace(/^<|>$/g, '') !== w.bare) continue;
          const parent = typeof m.parentFolderId === 'string' ? m.parentFolderId : '';
          const folder: MailboxFolder =
            parent !== '' && parent === folders.junk
              ? 'junk'
              : parent !== '' && parent === folders.inbox
                ? 'inbox'
                : 'other';
          const received = typeof m.receivedDateTime === 'string' ? Date.parse(m.receivedDateTime) : Number.NaN;
          found.get(w.asked)?.push({
            ref: `graph:${m.id}`,
            messageId: w.bare,
            folder,
            folderName: folder === 'inbox' ? 'Inbox' : folder === 'junk' ? 'Junk Email' : parent,
            receivedAt: Number.isNaN(received) ? null : new Date(received).toISOString(),
            headers: headerBlock(m.internetMessageHeaders),
          });
        }
        const next = r.json?.['@odata.nextLink'];
        if (typeof next !== 'string') url = null;
        else {
          let nextUrl: URL;
          try {
            nextUrl = new URL(next);
          } catch {
            return { ok: false, reason: 'protocol', message: 'Graph’s @odata.nextLink is not a URL' };
          }
          if (nextUrl.origin !== this.#base.origin) {
            return { ok: false, reason: 'protocol', message: `Graph’s @odata.nextLink leaves ${this.#base.origin}` };
          }
          url = nextUrl.toString();
        }
      }
    }
    return { ok: true, found };
  }

  /** The id of the `moveTo` folder, created when missing. */
  async #moveTarget(token: string, name: string): Promise<string | MailboxFailure> {
    if (this.#moveToId) return this.#moveToId;
    const lookup = async (): Promise<string | null | MailboxFailure> => {
      const r = await this.#request<{ value?: unknown }>(
        'GET',
        this.#url('/mailFolders', {
          $filter: `displayName eq '${name.replaceAll("'", "''")}'`,
          $select: 'id,displayName',
        }),
        token,
      );
      if (!r.ok) return r;
      if (r.status === 404)
        return { ok: false, reason: 'not-found', message: `no mailbox ${this.#o.mailbox} in Graph` };
      const value = Array.isArray(r.json?.value) ? (r.json.value as { id?: unknown; displayName?: unknown }[]) : [];
      const hit = value.find((f) => typeof f.id === 'string' && f.displayName === name);
      return typeof hit?.id === 'string' ? hit.id : null;
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      const found = await lookup();
      if (found === null) {
        const created = await this.#request<{ id?: unknown }>('POST', this.#url('/mailFolders'), token, {
          displayName: name,
        });
        if (!created.ok) return created;
        // 409 ErrorFolderExists: another run created it meanwhile; ask again.
        if (created.status === 409) continue;
        if (typeof created.json?.id !== 'string') {
          return { ok: false, reason: 'protocol', message: `Graph did not return the id of the new folder ${name}` };
        }
        this.#moveToId = created.json.id;
        return created.json.id;
      }
      if (typeof found !== 'string') return found;
      this.#moveToId = found;
      return found;
    }
    return { ok: false, reason: 'protocol', message: `folder ${name} exists but Graph does not list it` };
  }

  async remove(refs: readonly string[]): Promise<RemoveResult> {
    const ids = refs.map((ref) => {
      if (!ref.startsWith('graph:') || ref.length <= 6)
        throw new TypeError(`not a ref from the Graph mailbox: ${ref.slice(0, 40)}`);
      return ref.slice(6);
    });
    if (ids.length === 0) return { ok: true, removed: 0 };
    const token = await this.#token();
    if (typeof token !== 'string') return token;
    const moveTo = this.#o.moveTo;
    const destination = moveTo ? await this.#moveTarget(token, moveTo) : null;
    if (destination !== null && typeof destination !== 'string') return destination;
    let removed = 0;
    for (const id of ids) {
      const path = `/messages/${encodeURIComponent(id)}`;
      const r =
        destination === null
          ? await this.#request('DELETE', this.#url(path), token)
          : await this.#request('POST', this.#url(`${path}/move`), token, { destinationId: destination });
      if (!r.ok) return r;
      if (r.status !== 404) removed++;
    }
    return { ok: true, removed };
  }
}
