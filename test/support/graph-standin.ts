/**
 * A Microsoft Graph stand-in over HTTPS on 127.0.0.1 holding one mailbox: the well-known folders (`inbox`,
 * `junkemail`) and any folder created, messages in them. It answers what the Graph probe mailbox asks, in the shapes of
 * Microsoft's documented responses (v1.0):
 * - `GET /v1.0/users/{m}/mailFolders/{wellKnown}?$select=id`
 * - `GET /v1.0/users/{m}/mailFolders?$filter=displayName eq '…'&$select=id,displayName` (top-level folders)
 * - `POST /v1.0/users/{m}/mailFolders` `{ displayName }` → 201 (409 `ErrorFolderExists` when it exists)
 * - `GET /v1.0/users/{m}/messages?$filter=internetMessageId eq '<…>'&$select=…` (every folder)
 * - `DELETE /v1.0/users/{m}/messages/{id}` → 204 (404 when gone)
 * - `POST /v1.0/users/{m}/messages/{id}/move` `{ destinationId }` → 201 with the moved message (a new id)
 * Every request is recorded (method, path, query, bearer, JSON body) so tests assert the request shapes; a request
 * without the expected bearer token is answered 401 `InvalidAuthenticationToken`.
 */
import { createServer, type Server } from 'node:https';
import type { SelfSignedCert } from './tls-cert.ts';

export interface GraphRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly auth: string | undefined;
  readonly body: unknown;
}

export interface GraphMessage {
  id: string;
  internetMessageId: string;
  receivedDateTime: string;
  parentFolderId: string;
  internetMessageHeaders: { name: string; value: string }[];
}

export interface GraphStandIn {
  readonly origin: string;
  readonly mailbox: string;
  readonly requests: GraphRequest[];
  readonly messages: GraphMessage[];
  /** Folder id by display name (the well-known ones as `Inbox`, `Junk Email`). */
  readonly folders: Map<string, string>;
  /** Folder names left out of the next folder listing only (another client creating it at the same moment). */
  readonly hiddenOnce: Set<string>;
  /** Answer the next N requests with this status (throttling, outages). */
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export const INBOX_ID = 'AAMkAD-inbox';
export const JUNK_ID = 'AAMkAD-junk';

export async function startGraphStandIn(options: {
  cert: SelfSignedCert;
  mailbox: string;
  token: string;
}): Promise<GraphStandIn> {
  const requests: GraphRequest[] = [];
  const messages: GraphMessage[] = [];
  const folders = new Map<string, string>([
    ['Inbox', INBOX_ID],
    ['Junk Email', JUNK_ID],
  ]);
  let failing: { count: number; status: number; headers: Record<string, string> } | null = null;
  const hiddenOnce = new Set<string>();
  let moves = 0;
  const base = `/v1.0/users/${options.mailbox}`;
  const server: Server = createServer({ key: options.cert.key, cert: options.cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const path = decodeURIComponent(url.pathname);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const r: GraphRequest = {
        method: req.method ?? '',
        path,
        query: Object.fromEntries(url.searchParams),
        auth: req.headers.authorization,
        body,
      };
      requests.push(r);
      const json = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(value === undefined ? '' : JSON.stringify(value));
      };
      const error = (status: number, code: string, message: string) => json(status, { error: { code, message } });
      if (failing && failing.count > 0) {
        failing.count--;
        return json(failing.status, { error: { code: 'TooManyRequests', message: 'throttled' } }, failing.headers);
      }
      if (r.auth !== `Bearer ${options.token}`) return error(401, 'InvalidAuthenticationToken', 'bad token');
      if (!path.startsWith(base)) return error(404, 'ErrorInvalidUser', 'no such mailbox');
      const rest = path.slice(base.length);
      if (r.method === 'GET' && rest === '/mailFolders/inbox') return json(200, { id: INBOX_ID });
      if (r.method === 'GET' && rest === '/mailFolders/junkemail') return json(200, { id: JUNK_ID });
      if (r.method === 'GET' && rest === '/mailFolders') {
        const name = /^displayName eq '((?:[^']|'')*)'$/.exec(r.query.$filter ?? '')?.[1]?.replaceAll("''", "'");
        const value = [...folders]
          .filter(([n]) => (name === undefined || n === name) && !hiddenOnce.has(n))
          .map(([displayName, id]) => ({ id, displayName }));
        hiddenOnce.clear();
        return json(200, { value });
      }
      if (r.method === 'POST' && rest === '/mailFolders') {
        const name = (body as { displayName?: unknown } | null)?.displayName;
        if (typeof name !== 'string' || name === '') return error(400, 'ErrorInvalidRequest', 'displayName');
        if (folders.has(name))
          return error(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
        const id = `AAMkAD-folder-${folders.size}`;
        folders.set(name, id);
        return json(201, { id, displayName: name, parentFolderId: 'AAMkAD-root', childFolderCount: 0 });
      }
      if (r.method === 'GET' && rest === '/messages') {
        const wanted = /^internetMessageId eq '((?:[^']|'')*)'$/
          .exec(r.query.$filter ?? '')?.[1]
          ?.replaceAll("''", "'");
        return json(200, {
          '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${options.mailbox}')/messages`,
          value: messages.filter((m) => m.internetMessageId === wanted),
        });
      }
      const move = /^\/messages\/([^/]+)\/move$/.exec(rest);
      if (r.method === 'POST' && move) {
        const m = messages.find((x) => x.id === move[1]);
        if (!m) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        const dest = (body as { destinationId?: unknown } | null)?.destinationId;
        if (typeof dest !== 'string' || ![...folders.values()].includes(dest)) {
          return error(400, 'ErrorInvalidIdMalformed', 'destinationId');
        }
        m.parentFolderId = dest;
        m.id = `${m.id}-moved${++moves}`;
        return json(201, { ...m });
      }
      const del = /^\/messages\/([^/]+)$/.exec(rest);
      if (r.method === 'DELETE' && del) {
        const i = messages.findIndex((x) => x.id === del[1]);
        if (i < 0) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        messages.splice(i, 1);
        return json(204);
      }
      return error(400, 'BadRequest', `not scripted: ${r.method} ${rest}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const origin = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    mailbox: options.mailbox,
    requests,
    messages,
    folders,
    hiddenOnce,
    failNext: (count, status, headers = {}) => {
      failing = { count, status, headers };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
