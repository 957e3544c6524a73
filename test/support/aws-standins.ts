/**
 * Minimal local stand-ins for the AWS services the Lambda functions call besides DynamoDB (which is the real DynamoDB
 * Local): S3 (path-style GetObject with If-None-Match → 304, HeadObject, PutObject with ETags), SQS
 * (SendMessageBatch over the JSON protocol, recording every message), Secrets Manager (GetSecretValue) and SSM
 * Parameter Store (GetParameter). Each runs
 * on 127.0.0.1 with a free port, speaks the wire format the AWS SDK v3 sends, and counts requests so tests can assert
 * how often a service was asked. They implement only what relaywatch calls; anything else is answered 400.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandIn {
  readonly endpoint: string;
  readonly requests: { method: string; target: string }[];
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; endpoint: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Decode an `aws-chunked` body (`<hex>[;ext]\r\n<data>\r\n … 0\r\n<trailers>\r\n\r\n`). */
function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1').split(';')[0] ?? '0', 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

export interface S3StandIn extends StandIn {
  readonly objects: Map<string, { body: Buffer; etag: string }>;
  put(bucket: string, key: string, body: string | Buffer): string;
  /** Called once after a GET is answered (to play another writer racing the test's client). */
  afterGet: (() => void) | null;
}

export async function startS3StandIn(): Promise<S3StandIn> {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  const requests: { method: string; target: string }[] = [];
  const hooks: { afterGet: (() => void) | null } = { afterGet: null };
  const put = (bucket: string, key: string, body: string | Buffer): string => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    objects.set(`${bucket}/${key}`, { body: bytes, etag });
    return etag;
  };
  const { server, endpoint } = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname.slice(1));
    requests.push({ method: req.method ?? '', target: path });
    const raw = await readBody(req);
    const xmlError = (status: number, code: string) =>
      res
        .writeHead(status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    if (req.method === 'PUT') {
      const body = String(req.headers['content-encoding'] ?? '').includes('aws-chunked') ? decodeAwsChunked(raw) : raw;
      const slash = path.indexOf('/');
      const current = objects.get(path);
      const ifMatch = req.headers['if-match'];
      const ifNoneMatch = req.headers['if-none-match'];
      if ((ifMatch !== undefined && current?.etag !== ifMatch) || (ifNoneMatch === '*' && current !== undefined)) {
        return xmlError(412, 'PreconditionFailed');
      }
      res.writeHead(200, { etag: put(path.slice(0, slash), path.slice(slash + 1), body) }).end();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const o = objects.get(path);
      if (!o) return xmlError(404, 'NoSuchKey');
      if (req.headers['if-none-match'] === o.etag) return void res.writeHead(304, { etag: o.etag }).end();
      res.writeHead(200, {
        etag: o.etag,
        'content-length': String(o.body.byteLength),
        'content-type': 'application/yaml',
        'last-modified': new Date().toUTCString(),
      });
      res.end(req.method === 'GET' ? o.body : undefined);
      if (req.method === 'GET') hooks.afterGet?.();
      return;
    }
    xmlError(400, 'NotImplemented');
  });
  return {
    endpoint,
    requests,
    objects,
    put,
    get afterGet() {
      return hooks.afterGet;
    },
    set afterGet(fn: (() => void) | null) {
      hooks.afterGet = fn;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface SqsMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
}

export interface SqsStandIn extends StandIn {
  readonly messages: SqsMessage[];
  /** Entries whose body contains this text are reported as failed (to exercise partial failures). */
  failBodiesContaining: string | null;
}

export async function startSqsStandIn(): Promise<SqsStandIn> {
  const messages: SqsMessage[] = [];
  const requests: { method: string; target: string }[] = [];
  const state = { failBodiesContaining: null as string | null };
  let n = 0;
  const { server, endpoint } = await listen(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    requests.push({ method: req.method ?? '', target });
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as {
      Entries?: { Id: string; MessageBody: string; MessageAttributes?: SqsMessage['attributes'] }[];
    };
    if (target !== 'AmazonSQS.SendMessageBatch') {
      res
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
        .end(JSON.stringify({ __type: 'InvalidAction' }));
      return;
    }
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const e of body.Entries ?? []) {
      if (state.failBodiesContaining !== null && e.MessageBody.includes(state.failBodiesContaining)) {
        Failed.push({ Id: e.Id, Code: 'InternalError', Message: 'stand-in told to fail', SenderFault: false });
        continue;
      }
      const messageId = `m-${++n}`;
      messages.push({ messageId, body: e.MessageBody, attributes: e.MessageAttributes ?? {} });
      Successful.push({
        Id: e.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
      });
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ Successful, Failed }));
  });
  return {
    endpoint,
    requests,
    messages,
    get failBodiesContaining() {
      return state.failBodiesContaining;
    },
    set failBodiesContaining(v: string | null) {
      state.failBodiesContaining = v;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface SecretsStandIn extends StandIn {
  readonly secrets: Map<string, string>;
}

export async function startSecretsManagerStandIn(secrets: Record<string, string> = {}): Promise<SecretsStandIn> {
  const map = new Map(Object.entries(secrets));
  const requests: { method: string; target: string }[] = [];
  const { server, endpoint } = await listen(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { SecretId?: string };
    requests.push({ method: req.method ?? '', target: `${target} ${body.SecretId ?? ''}` });
    const reply = (status: number, doc: unknown) =>
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(doc));
    if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'InvalidAction' });
    const value = body.SecretId === undefined ? undefined : map.get(body.SecretId);
    if (value === undefined) {
      return reply(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    reply(200, { Name: body.SecretId, SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'] });
  });
  return { endpoint, requests, secrets: map, close: () => new Promise((r) => server.close(() => r())) };
}

export interface SsmStandIn extends StandIn {
  /** Parameters by name: their type and plaintext value; `version` grows on every `put`. */
  readonly parameters: Map<string, { type: 'String' | 'SecureString' | 'StringList'; value: string; version: number }>;
  put(name: string, value: string, type?: 'String' | 'SecureString' | 'StringList'): void;
  /** The `WithDecryption` flag of every GetParameter request, in order. */
  readonly decryption: boolean[];
}

/**
 * SSM Parameter Store's GetParameter (JSON 1.1, `AmazonSSM.GetParameter`). A SecureString asked without
 * `WithDecryption` comes back as an opaque ciphertext, as in AWS, so a client that forgets the flag gets no secret;
 * an unknown name is `ParameterNotFound`.
 */
export async function startSsmStandIn(
  initial: Record<string, string | { type: 'String' | 'SecureString' | 'StringList'; value: string }> = {},
): Promise<SsmStandIn> {
  const parameters: SsmStandIn['parameters'] = new Map();
  const put: SsmStandIn['put'] = (name, value, type = 'SecureString') => {
    parameters.set(name, { type, value, version: (parameters.get(name)?.version ?? 0) + 1 });
  };
  for (const [name, v] of Object.entries(initial)) {
    if (typeof v === 'string') put(name, v);
    else put(name, v.value, v.type);
  }
  const requests: { method: string; target: string }[] = [];
  const decryption: boolean[] = [];
  const { server, endpoint } = await listen(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as {
      Name?: string;
      WithDecryption?: boolean;
    };
    requests.push({ method: req.method ?? '', target: `${target} ${body.Name ?? ''}` });
    const reply = (status: number, doc: unknown) =>
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(doc));
    if (target !== 'AmazonSSM.GetParameter') return reply(400, { __type: 'InvalidAction' });
    decryption.push(body.WithDecryption === true);
    const p = body.Name === undefined ? undefined : parameters.get(body.Name);
    if (p === undefined) return reply(400, { __type: 'ParameterNotFound', message: '' });
    const value =
      p.type === 'SecureString' && body.WithDecryption !== true
        ? `AQICAH${createHash('sha256').update(p.value).digest('base64')}`
        : p.value;
    reply(200, {
      Parameter: {
        Name: body.Name,
        Type: p.type,
        Value: value,
        Version: p.version,
        ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${body.Name}`,
        DataType: 'text',
      },
    });
  });
  return { endpoint, requests, parameters, put, decryption, close: () => new Promise((r) => server.close(() => r())) };
}

export interface DynamoProxy extends StandIn {
  /** Requests forwarded, by X-Amz-Target operation (`PutItem`, `Query`, `TransactWriteItems`…). */
  counts(): Record<string, number>;
  reset(): void;
  /** Operations answered with an InternalServerError instead of being forwarded (failure injection). */
  failing: Set<string>;
}

/**
 * A counting proxy in front of DynamoDB Local: every request is forwarded unchanged (DynamoDB Local does not check
 * signatures), counted by operation, and optionally failed with a 500 InternalServerError for chosen operations.
 */
export async function startDynamoProxy(target: string): Promise<DynamoProxy> {
  const requests: { method: string; target: string }[] = [];
  const failing = new Set<string>();
  const upstream = new URL(target);
  const { server, endpoint } = await listen(async (req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', target: op });
    if (failing.has(op)) {
      res
        .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
        .end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }));
      return;
    }
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', (err) => res.writeHead(502).end(String(err)));
    fwd.end(body);
  });
  return {
    endpoint,
    requests,
    failing,
    counts: () => {
      const c: Record<string, number> = {};
      for (const r of requests) c[r.target] = (c[r.target] ?? 0) + 1;
      return c;
    },
    reset: () => {
      requests.length = 0;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
