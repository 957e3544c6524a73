/**
 * A recording HTTP receiver on 127.0.0.1 (a Slack or Teams webhook, a signed-webhook consumer, an agent ingest): it
 * keeps every accepted body with its headers. `status` is what it answers (set it to 503 to play a broken endpoint;
 * a non-2xx answer records nothing); `gate` may answer a request itself first (a signature check, say). `delayMs`
 * holds every answer back that long (a slow endpoint, so that two senders overlap).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  readonly headers: Record<string, string>[];
  /** HTTP status for requests the gate lets through (default 200). */
  status: number;
  /** Milliseconds to wait before answering (default 0). */
  delayMs: number;
  close(): Promise<void>;
}

export type Gate = (
  body: string,
  headers: http.IncomingHttpHeaders,
  /** The request (method, url, Host, socket) for gates that check what was signed. */
  req: http.IncomingMessage,
) => Promise<{ readonly status: number; readonly body: string } | null>;

export async function startReceiver(path = '/', gate?: Gate): Promise<Receiver> {
  const state = { bodies: [] as string[], headers: [] as Record<string, string>[], status: 200, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      const refused = gate ? await gate(body, req.headers, req) : null;
      if (refused) {
        res.writeHead(refused.status).end(refused.body);
        return;
      }
      if (state.status >= 300) {
        res.writeHead(state.status).end('unavailable');
        return;
      }
      state.bodies.push(body);
      state.headers.push(Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])));
      res.writeHead(state.status).end(state.status === 204 ? undefined : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
