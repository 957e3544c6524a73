import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddressObject, type Attachment, simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderMicrosoftDelist } from '../../shared/delist/packet.ts';
import type { Alert, SendResult } from '../../shared/notify/alert.ts';
import { EmailNotifier } from '../../shared/notify/email.ts';
import { closedPort, type SmtpLab, type SmtpLabScript, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const NDR_606 =
  '550 5.7.606 Access denied, banned sending IP [203.0.113.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions. AS(1430)';
const HOSTILE_NAME = 'Evil <!channel> *bold* \r\nBcc: x@y';
const PASSWORD = 'Sm7p-Pa55word-very-secret';
const FROM = 'relaywatch@msp.example';
const TO = 'help@psa.example';

let certDir: string;
let cert: SelfSignedCert;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'relaywatch-notify-'));
  cert = await makeSelfSignedCert(certDir);
});
afterAll(async () => {
  await rm(certDir, { recursive: true, force: true });
});

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function lab(script: SmtpLabScript = {}): Promise<SmtpLab> {
  const l = await startSmtpLab(script, cert);
  running.push(l);
  return l;
}

async function packetAlert(over: Partial<Alert> = {}): Promise<Alert> {
  const packet = await renderMicrosoftDelist(
    {
      ip: '203.0.113.10',
      tenant: { id: 'contoso', name: 'Contoso Ltd' },
      domains: ['contoso.com'],
      reply: { text: NDR_606, at: new Date('2026-11-27T09:15:42Z'), recipient: 'scanner@contoso.com' },
      evidence: { spf: [], relayIps: ['203.0.113.10'] },
      remediation: ['Malware removed'],
      msp: { name: 'Fabrikam IT', contact: { name: 'Jo Smith', email: 'jo@fabrikam.example' } },
    },
    { now: new Date('2026-11-27T10:00:00Z'), messageId: 'delist-1@fabrikam.example' },
  );
  return {
    kind: 'opened',
    incidentId: 'k3m9q2p7',
    tenant: { id: 'contoso', name: HOSTILE_NAME },
    severity: 'critical',
    check: 'probe-relay',
    subject: '203.0.113.10 on Microsoft 365 blocklist',
    title: 'Exchange Online refuses mail from 203.0.113.10',
    what: 'The scanner cannot send.',
    why: 'The IP is on the Microsoft blocklist.',
    remediation: ['Send the attached delisting request'],
    links: [{ label: 'Portal', url: 'https://sender.office.com/' }],
    evidence: `${NDR_606}\n<script>alert(1)</script> <http://evil|click>`,
    openedAt: '2026-11-27T10:00:00.000Z',
    at: '2026-11-27T10:00:00.000Z',
    packet: {
      filename: 'delist-203.0.113.10-contoso',
      eml: packet.eml.toString('utf8'),
      text: packet.text,
      markdown: packet.markdown,
    },
    ...over,
  };
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value.map((v) => v.address ?? ''));
}

function failed(r: SendResult): { retryable: boolean; error: string } {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

describe('EmailNotifier over SMTP', () => {
  it('delivers subject, X-Relaywatch headers, escaped HTML, text and the packet as message/rfc822', async () => {
    const l = await lab({ auth: { methods: ['PLAIN', 'LOGIN'], user: FROM, secret: PASSWORD } });
    const notifier = new EmailNotifier({
      transport: {
        kind: 'smtp',
        host: l.host,
        port: l.port,
        auth: { user: FROM, pass: PASSWORD },
        ca: cert.cert,
        requireTLS: true,
      },
      from: FROM,
      to: [TO],
    });
    const result = await notifier.send(await packetAlert());
    expect(result.ok).toBe(true);
    expect(l.received).toHaveLength(1);
    const msg = l.received[0]!;
    expect(msg.secure).toBe(true);
    expect(msg.to).toEqual([TO]);
    const mail = await simpleParser(msg.raw);
    expect(mail.subject).toBe(
      '[relaywatch][contoso] CRITICAL: Exchange Online refuses mail from 203.0.113.10 #k3m9q2p7',
    );
    expect(mail.headers.get('x-relaywatch-tenant')).toBe('contoso');
    expect(mail.headers.get('x-relaywatch-incident')).toBe('k3m9q2p7');
    expect(mail.headers.get('x-relaywatch-check')).toBe('probe-relay');
    expect(mail.headers.get('x-relaywatch-kind')).toBe('opened');
    expect(mail.headers.get('x-relaywatch-severity')).toBe('critical');
    expect(addresses(mail.bcc)).toEqual([]);
    expect(addresses(mail.to)).toEqual([TO]);
    expect(mail.headerLines.map((h) => h.key)).not.toContain('bcc');

    const html = String(mail.html);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('Evil &lt;!channel&gt; *bold* Bcc: x@y');
    expect(mail.text).toContain('What to do');
    expect(mail.text).toContain('Evil <!channel> *bold* Bcc: x@y');
    expect(mail.text).toContain('We ask you to remove the IP address 203.0.113.10');

    const eml = mail.attachments.find((a: Attachment) => a.contentType === 'message/rfc822');
    expect(eml).toBeDefined();
    expect(eml?.filename).toBe('delist-203.0.113.10-contoso.eml');
    const inner = await simpleParser(eml!.content);
    expect(addresses(inner.to)).toEqual(['delist@messaging.microsoft.com']);
    expect(inner.subject).toContain('Delisting request for 203.0.113.10');
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('a hostile tenant id cannot add a header', async () => {
    const l = await lab({ starttls: false });
    const alert = await packetAlert({
      tenant: { id: 'contoso\r\nBcc: victim@evil.example', name: HOSTILE_NAME },
      check: 'spf\r\nX-Injected: yes',
      title: 'Listed\r\nBcc: victim2@evil.example',
    });
    const result = await new EmailNotifier({
      transport: { kind: 'smtp', host: l.host, port: l.port },
      from: FROM,
      to: [TO],
    }).send(alert);
    expect(result.ok).toBe(true);
    const msg = l.received[0]!;
    expect(msg.to).toEqual([TO]);
    const mail = await simpleParser(msg.raw);
    expect(addresses(mail.bcc)).toEqual([]);
    expect(mail.headers.has('x-injected')).toBe(false);
    expect(mail.headers.get('x-relaywatch-tenant')).toBe('contoso Bcc: victim@evil.example');
    expect(mail.subject).toBe(
      '[relaywatch][contoso Bcc: victim@evil.example] CRITICAL: Listed Bcc: victim2@evil.example #k3m9q2p7',
    );
    const top = msg.raw.slice(0, msg.raw.indexOf('\r\n\r\n'));
    expect(top).not.toMatch(/^Bcc:/im);
    expect(top).not.toMatch(/^X-Injected:/im);
  });

  it('a resolved alert says RESOLVED and references the opening message', async () => {
    const l = await lab({ starttls: false });
    const alert = await packetAlert({ kind: 'resolved', at: '2026-11-27T13:12:00.000Z', packet: null });
    const result = await new EmailNotifier({
      transport: { kind: 'smtp', host: l.host, port: l.port },
      from: FROM,
      to: [TO],
    }).send(alert);
    expect(result.ok).toBe(true);
    const mail = await simpleParser(l.received[0]!.raw);
    expect(mail.subject).toBe(
      '[relaywatch][contoso] RESOLVED: Exchange Online refuses mail from 203.0.113.10 #k3m9q2p7',
    );
    expect(mail.headers.get('x-relaywatch-kind')).toBe('resolved');
    expect(mail.references).toBe('<relaywatch.k3m9q2p7@msp.example>');
    expect(mail.text).toContain('Resolved after 3 h 12 min');
    expect(mail.attachments).toHaveLength(0);
  });

  it('a wrong password is not retryable and never shown', async () => {
    const l = await lab({ auth: { methods: ['PLAIN', 'LOGIN'], user: FROM, secret: 'the-right-one' } });
    const result = await new EmailNotifier({
      transport: { kind: 'smtp', host: l.host, port: l.port, auth: { user: FROM, pass: PASSWORD }, ca: cert.cert },
      from: FROM,
      to: [TO],
    }).send(await packetAlert());
    const f = failed(result);
    expect(f.retryable).toBe(false);
    expect(f.error).toContain('535');
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('5xx at RCPT is not retryable; 4xx at the end of DATA is', async () => {
    const reject = await lab({ starttls: false, onRcptTo: { code: 550, message: '5.1.1 User unknown' } });
    const r1 = await new EmailNotifier({
      transport: { kind: 'smtp', host: reject.host, port: reject.port },
      from: FROM,
      to: [TO],
    }).send(await packetAlert());
    expect(failed(r1).retryable).toBe(false);
    expect(failed(r1).error).toContain('550');

    const defer = await lab({ starttls: false, onData: { code: 451, message: '4.3.0 Try again later' } });
    const r2 = await new EmailNotifier({
      transport: { kind: 'smtp', host: defer.host, port: defer.port },
      from: FROM,
      to: [TO],
    }).send(await packetAlert());
    expect(failed(r2).retryable).toBe(true);
    expect(failed(r2).error).toContain('451');
  });

  it('connection refused is retryable', async () => {
    const port = await closedPort();
    const result = await new EmailNotifier({
      transport: { kind: 'smtp', host: '127.0.0.1', port, auth: { user: FROM, pass: PASSWORD } },
      from: FROM,
      to: [TO],
      timeoutMs: 2000,
    }).send(await packetAlert());
    const f = failed(result);
    expect(f.retryable).toBe(true);
    expect(f.error).toContain(`smtp://127.0.0.1:${port}`);
    expect(f.error).not.toContain(PASSWORD);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// SES (Query API emulator)

interface SesRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly params: URLSearchParams;
}

interface SesEmulator {
  readonly endpoint: string;
  readonly requests: SesRequest[];
  stop(): Promise<void>;
}

async function sesEmulator(mode: 'ok' | 'reject' | 'throttle'): Promise<SesEmulator> {
  const requests: SesRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      requests.push({ headers: req.headers, params });
      res.setHeader('content-type', 'text/xml');
      if (mode === 'ok' && params.get('Action') === 'SendRawEmail') {
        res.end(
          '<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult>' +
            '<MessageId>0100018c-test-message-id</MessageId></SendRawEmailResult>' +
            '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></SendRawEmailResponse>',
        );
        return;
      }
      const [status, code, message, type] =
        mode === 'throttle'
          ? [400, 'Throttling', 'Maximum sending rate exceeded.', 'Sender']
          : [400, 'MessageRejected', 'Email address is not verified.', 'Sender'];
      res.statusCode = status;
      res.end(
        `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>${type}</Type><Code>${code}</Code>` +
          `<Message>${message}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const emulator: SesEmulator = {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  running.push(emulator);
  return emulator;
}

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

function sesNotifier(endpoint: string, timeoutMs?: number): EmailNotifier {
  return new EmailNotifier({
    transport: { kind: 'ses', region: 'eu-west-1', endpoint, credentials: CREDENTIALS },
    from: `relaywatch <${FROM}>`,
    to: [TO],
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

describe('EmailNotifier over SES (SendRawEmail)', () => {
  it('sends the raw MIME message with Action=SendRawEmail, signed', async () => {
    const ses = await sesEmulator('ok');
    const result = await sesNotifier(ses.endpoint).send(await packetAlert());
    expect(result).toEqual({ ok: true, detail: 'email: SES MessageId 0100018c-test-message-id' });
    expect(ses.requests).toHaveLength(1);
    const { params, headers } = ses.requests[0]!;
    expect(params.get('Action')).toBe('SendRawEmail');
    expect(params.get('Version')).toBe('2010-12-01');
    expect(params.get('Source')).toBe(FROM);
    expect(params.get('Destinations.member.1')).toBe(TO);
    expect(String(headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/ses\//,
    );
    const data = params.get('RawMessage.Data');
    expect(data).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const mail = await simpleParser(Buffer.from(data!, 'base64'));
    expect(mail.subject).toBe(
      '[relaywatch][contoso] CRITICAL: Exchange Online refuses mail from 203.0.113.10 #k3m9q2p7',
    );
    expect(mail.headers.get('x-relaywatch-incident')).toBe('k3m9q2p7');
    const eml = mail.attachments.find((a: Attachment) => a.contentType === 'message/rfc822');
    const inner = await simpleParser(eml!.content);
    expect(addresses(inner.to)).toEqual(['delist@messaging.microsoft.com']);
  });

  it('a rejection is not retryable, throttling is; the secret key is never shown', async () => {
    const reject = await sesEmulator('reject');
    const r1 = await sesNotifier(reject.endpoint).send(await packetAlert());
    expect(failed(r1).retryable).toBe(false);
    expect(failed(r1).error).toContain('MessageRejected');
    expect(JSON.stringify(r1)).not.toContain(CREDENTIALS.secretAccessKey);

    const throttle = await sesEmulator('throttle');
    const r2 = await sesNotifier(throttle.endpoint).send(await packetAlert());
    expect(failed(r2).retryable).toBe(true);
    expect(failed(r2).error).toContain('Throttling');
  });

  it('an unreachable endpoint is retryable', async () => {
    const port = await closedPort();
    const result = await sesNotifier(`http://127.0.0.1:${port}`, 2000).send(await packetAlert());
    const f = failed(result);
    expect(f.retryable).toBe(true);
    expect(f.error).toContain('SES eu-west-1');
  });
});
