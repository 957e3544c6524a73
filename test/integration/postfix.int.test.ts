/**
 * The relay probe (NodemailerProber) against a real MTA: a private Postfix set up to answer as Exchange Online does
 * (see test/support/postfix.ts). What smtp-server cannot show: a real MTA's reply wording (Postfix wraps an access
 * map's text in its own `<localhost[127.0.0.1]>: Client host rejected: …`), where it rejects (RCPT TO, not MAIL FROM,
 * with the default smtpd_delay_reject), its queue id format, and its STARTTLS.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NodemailerProber } from '../../shared/adapters/smtp/nodemailer-prober.ts';
import type { ProbeRequest, ProbeResult } from '../../shared/ports/smtp-prober.ts';
import {
  type PostfixOptions,
  type PostfixServer,
  postfixAvailable,
  postfixMasterAlive,
  startPostfix,
  usePostfix,
} from '../support/postfix.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const FROM = 'scanner@contoso.example';
const RCPT = 'probe@contoso.example';
const EHLO = 'probe.relaywatch.test';
const PROBE_TIMEOUT_MS = 40_000;

const BANNED_TEXT =
  'Access denied, banned sending IP [127.0.0.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)';
const TENANT_ATTRIBUTION_TEXT =
  'TenantAttribution; Relay Access Denied [SN1NAM02FT0XXX.eop-nam02.prod.protection.outlook.com]';
const THROTTLED_TEXT = 'Server busy. Please try again later from [127.0.0.1]. (AS843)';

let certDir: string;
let cert: SelfSignedCert;
beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'relaywatch-postfix-cert-'));
  cert = await makeSelfSignedCert(certDir);
});
afterAll(async () => {
  await rm(certDir, { recursive: true, force: true });
});

/** Options with STARTTLS on the shared self-signed certificate (made in the top-level beforeAll, which runs first). */
function withTls(options: PostfixOptions): () => PostfixOptions {
  return () => ({ ...options, tls: { certFile: cert.certPath, keyFile: cert.keyPath } });
}

function request(mta: PostfixServer, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    host: mta.host,
    port: mta.port,
    ehloName: EHLO,
    tls: 'starttls-if-offered',
    from: FROM,
    to: RCPT,
    allowedRecipients: [RCPT],
    tenantId: 'contoso',
    probeId: 'p-postfix-0001',
    timeouts: { stepMs: 10_000, totalMs: 30_000 },
    ca: cert.cert,
    ...extra,
  };
}

const prober = new NodemailerProber();

function sentLines(r: ProbeResult): string[] {
  return r.transcript.flatMap((e) => (e.sent !== undefined ? [e.sent] : []));
}

function replyAt(r: ProbeResult, stage: string): readonly string[] | undefined {
  return r.transcript.findLast((e) => e.stage === stage && e.reply !== undefined)?.reply;
}

/** On failure, show what Postfix logged: most surprises are explained there. */
function withLog(mta: PostfixServer, r: ProbeResult): string {
  return `diagnosis ${r.diagnosis.id} at ${r.diagnosis.stage}\ntranscript ${JSON.stringify(r.transcript, null, 1)}\npostfix log:\n${mta.log()}`;
}

const postfix = postfixAvailable();

describe.skipIf(!postfix.ok)(
  `relay probe against a real Postfix${postfix.ok ? '' : ` (SKIPPED: ${postfix.reason})`}`,
  () => {
    describe('the client IP is on the (Exchange-style) ban list', () => {
      const mta = usePostfix(withTls({ bannedCidr: [{ cidr: '127.0.0.1', reply: `550 5.7.606 ${BANNED_TEXT}` }] }));

      it(
        'ends with ms-banned-ip at RCPT TO, quoting the IP, with the reply line Postfix sent',
        async () => {
          const r = await prober.probe(request(mta()));
          const why = withLog(mta(), r);
          expect(r.diagnosis.id, why).toBe('ms-banned-ip');
          // Postfix evaluates smtpd_client_restrictions only at RCPT TO (smtpd_delay_reject = yes, the default: it
          // waits so that it can log the sender and recipient), so the ban shows at `rcpt` here, not at MAIL FROM as
          // in the smtp-server lab test, nor at the greeting (smtpd_delay_reject = no: see the next suite).
          expect(r.diagnosis.stage, why).toBe('rcpt');
          expect(r.diagnosis.ip).toBe('127.0.0.1');
          expect(r.diagnosis.delistable).toBe(true);
          expect(r.diagnosis.retryable).toBe(false);
          expect(r.diagnosis.reply?.code).toBe(550);
          expect(r.diagnosis.reply?.enhanced).toBe('5.7.606');
          expect(r.diagnosis.remediation.join(' ')).toContain('127.0.0.1');
          expect(r.queueId).toBeNull();

          // Postfix puts its own words between the codes and the map's text; the client name comes from the reverse
          // lookup of 127.0.0.1 (/etc/hosts: `localhost`).
          const rcptReply = replyAt(r, 'rcpt');
          expect(rcptReply).toHaveLength(1);
          expect(rcptReply?.[0]).toMatch(/^550 5\.7\.606 <[^<>\s]*\[127\.0\.0\.1\]>: Client host rejected: /);
          expect(rcptReply?.[0]?.endsWith(`: Client host rejected: ${BANNED_TEXT}`)).toBe(true);
          expect(r.diagnosis.reply?.text).toMatch(/^<[^<>\s]*\[127\.0\.0\.1\]>: Client host rejected: Access denied/);

          // MAIL FROM was accepted; the rejection came after STARTTLS.
          expect(replyAt(r, 'mail')?.[0]).toBe('250 2.1.0 Ok');
          expect(r.tls?.version).toMatch(/^TLSv1\.[23]$/);
          // Postfix offers PIPELINING, so nodemailer sends MAIL FROM, RCPT TO and DATA in one batch (RFC 2920): DATA
          // goes out before the RCPT TO rejection is known, and Postfix refuses it. The diagnosis still names the
          // RCPT TO reply.
          expect(sentLines(r), why).toEqual([
            `EHLO ${EHLO}`,
            'STARTTLS',
            `EHLO ${EHLO}`,
            `MAIL FROM:<${FROM}>`,
            `RCPT TO:<${RCPT}>`,
            'DATA',
          ]);
          expect(replyAt(r, 'data')).toEqual(['554 5.5.1 Error: no valid recipients']);
          // …and the transcript says so, so nobody takes the 554 for a second problem
          expect(r.transcript.find((e) => e.stage === 'data' && e.reply)?.note).toMatch(
            /PIPELINING.*refused recipient/,
          );
          await expect
            .poll(() => mta().log())
            .toMatch(
              /NOQUEUE: reject: RCPT from [^\s[]*\[127\.0\.0\.1\]: 550 5\.7\.606 .*Access denied, banned sending IP/,
            );
        },
        PROBE_TIMEOUT_MS,
      );
    });

    describe('the client IP is banned at connect (smtpd_delay_reject = no)', () => {
      const mta = usePostfix(
        withTls({
          bannedCidr: [{ cidr: '127.0.0.1', reply: `550 5.7.606 ${BANNED_TEXT}` }],
          extraMainCf: ['smtpd_delay_reject = no'],
        }),
      );

      it(
        'ends with ms-banned-ip at the banner: smtpd sends the reject instead of its 220 greeting',
        async () => {
          const r = await prober.probe(request(mta()));
          const why = withLog(mta(), r);
          expect(r.diagnosis.id, why).toBe('ms-banned-ip');
          expect(r.diagnosis.stage, why).toBe('banner');
          expect(r.diagnosis.ip).toBe('127.0.0.1');
          expect(r.diagnosis.delistable).toBe(true);
          expect(replyAt(r, 'banner')?.[0]).toMatch(
            /^550 5\.7\.606 <[^<>\s]*\[127\.0\.0\.1\]>: Client host rejected: Access denied, banned sending IP \[127\.0\.0\.1\]\./,
          );
          expect(sentLines(r)).toEqual([]);
          expect(r.tls).toBeNull();
          await expect
            .poll(() => mta().log())
            .toMatch(/NOQUEUE: reject: CONNECT from [^\s[]*\[127\.0\.0\.1\]: 550 5\.7\.606 /);
        },
        PROBE_TIMEOUT_MS,
      );
    });

    describe('nothing is rejected', () => {
      const mta = usePostfix(withTls({}));

      it(
        'ends ok after STARTTLS, with the queue id from "250 2.0.0 Ok: queued as …"',
        async () => {
          const r = await prober.probe(request(mta()));
          const why = withLog(mta(), r);
          expect(r.diagnosis.id, why).toBe('ok');
          expect(r.diagnosis.stage).toBe('data-end');

          const final = replyAt(r, 'data-end')?.[0] ?? '';
          const queued = /^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$/.exec(final);
          expect(queued, final).not.toBeNull();
          expect(r.queueId).toBe(queued?.[1]);
          // Postfix's default (short) queue ids are upper-case hex.
          expect(r.queueId).toMatch(/^[0-9A-F]{6,}$/);
          expect(r.diagnosis.messageId).toBeNull();

          // STARTTLS, verified against the self-signed certificate given as `ca` (its SAN has IP:127.0.0.1).
          expect(r.tls?.version).toMatch(/^TLSv1\.[23]$/);
          expect(r.tls?.cipher).toBeTruthy();
          expect(r.tls?.subject).toBe('CN=localhost');
          expect(r.tls?.authorized).toBe(true);
          const ehlo = r.transcript.find((e) => e.stage === 'ehlo' && e.reply !== undefined);
          expect(ehlo?.reply).toContain('250-STARTTLS');
          expect(ehlo?.note).toMatch(/extensions: .*\bSTARTTLS\b/);
          expect(ehlo?.note).toMatch(/\bPIPELINING\b.*\bENHANCEDSTATUSCODES\b/);
          // After STARTTLS Postfix no longer offers it.
          const ehloAfterTls = r.transcript.findLast((e) => e.stage === 'ehlo' && e.reply !== undefined);
          expect(ehloAfterTls).not.toBe(ehlo);
          expect(ehloAfterTls?.reply).not.toContain('250-STARTTLS');
          expect(replyAt(r, 'starttls')?.[0]).toBe('220 2.0.0 Ready to start TLS');
          expect(replyAt(r, 'banner')?.[0]).toMatch(/^220 mx\.relaywatch\.test ESMTP Postfix/);
          expect(replyAt(r, 'rcpt')?.[0]).toBe('250 2.1.5 Ok');
          expect(replyAt(r, 'data')?.[0]).toMatch(/^354 /);
          expect([...new Set(r.transcript.map((e) => e.stage))]).toEqual([
            'connect',
            'banner',
            'ehlo',
            'starttls',
            'mail',
            'rcpt',
            'data',
            'data-end',
          ]);

          // Postfix took the probe message (its Message-ID) over TLS and discarded it: nothing is ever delivered.
          const qid = r.queueId ?? '?';
          await expect.poll(() => mta().log(), { timeout: 10_000 }).toContain(`${qid}: message-id=<${r.messageId}>`);
          await expect
            .poll(() => mta().log(), { timeout: 10_000 })
            .toMatch(new RegExp(`${qid}: to=<${RCPT.replaceAll('.', '\\.')}>, relay=none, .*status=sent \\(lab\\)`));
          expect(mta().log()).toMatch(/TLS connection established from [^\s[]*\[127\.0\.0\.1\]: TLSv1\.[23]/);
        },
        PROBE_TIMEOUT_MS,
      );
    });

    describe('no inbound connector matches (5.7.64 TenantAttribution)', () => {
      const mta = usePostfix(
        withTls({ rcptRejects: [{ address: RCPT, reply: `550 5.7.64 ${TENANT_ATTRIBUTION_TEXT}` }] }),
      );

      it(
        'ends with connector-mismatch at RCPT TO',
        async () => {
          const r = await prober.probe(request(mta()));
          const why = withLog(mta(), r);
          expect(r.diagnosis.id, why).toBe('connector-mismatch');
          expect(r.diagnosis.stage).toBe('rcpt');
          expect(r.diagnosis.reply?.enhanced).toBe('5.7.64');
          // The bracketed name is a host, not an IP.
          expect(r.diagnosis.ip).toBeNull();
          expect(r.diagnosis.retryable).toBe(false);
          expect(replyAt(r, 'rcpt')).toEqual([
            `550 5.7.64 <${RCPT}>: Recipient address rejected: ${TENANT_ATTRIBUTION_TEXT}`,
          ]);
          expect(r.queueId).toBeNull();
        },
        PROBE_TIMEOUT_MS,
      );
    });

    describe('the client IP is throttled (4.7.500)', () => {
      const mta = usePostfix(
        withTls({ bannedCidr: [{ cidr: '127.0.0.0/8', reply: `451 4.7.500 ${THROTTLED_TEXT}` }] }),
      );

      it(
        'ends with ip-throttled at RCPT TO, retryable',
        async () => {
          const r = await prober.probe(request(mta()));
          const why = withLog(mta(), r);
          expect(r.diagnosis.id, why).toBe('ip-throttled');
          expect(r.diagnosis.stage).toBe('rcpt');
          expect(r.diagnosis.retryable).toBe(true);
          expect(r.diagnosis.delistable).toBe(false);
          expect(r.diagnosis.severity).toBe('warning');
          expect(r.diagnosis.ip).toBe('127.0.0.1');
          expect(replyAt(r, 'rcpt')?.[0]).toMatch(
            /^451 4\.7\.500 <[^<>\s]*\[127\.0\.0\.1\]>: Client host rejected: Server busy\. Please try again later from \[127\.0\.0\.1\]\. \(AS843\)$/,
          );
        },
        PROBE_TIMEOUT_MS,
      );
    });

    describe('the harness', () => {
      it(
        'stop() ends the master daemon, frees the port and removes the directory',
        async () => {
          const mta = await startPostfix({ myhostname: 'mx2.relaywatch.test' });
          try {
            expect(mta.pid).toBeGreaterThan(1);
            expect(postfixMasterAlive(mta)).toBe(true);
            // postfix-script logs "starting" before master logs "daemon started": wait for the second line.
            await vi.waitFor(
              () => expect(mta.log()).toMatch(/daemon started -- version \d+\.\d+\.\d+, configuration /),
              { timeout: 10_000, interval: 100 },
            );
            // Without `tls` STARTTLS is not offered: the probe goes on in plaintext and still queues.
            const r = await prober.probe(request(mta));
            expect(r.diagnosis.id, withLog(mta, r)).toBe('ok');
            expect(r.tls).toBeNull();
            expect(sentLines(r)).not.toContain('STARTTLS');
            expect(replyAt(r, 'banner')?.[0]).toMatch(/^220 mx2\.relaywatch\.test /);
          } finally {
            await mta.stop();
          }
          expect(postfixMasterAlive(mta)).toBe(false);
          expect(existsSync(mta.dir)).toBe(false);
          const refused = await new Promise<boolean>((resolve) => {
            const s = connect({ host: '127.0.0.1', port: mta.port });
            s.once('connect', () => {
              s.destroy();
              resolve(false);
            });
            s.once('error', () => resolve(true));
          });
          expect(refused).toBe(true);
          await mta.stop(); // idempotent
        },
        PROBE_TIMEOUT_MS + 20_000,
      );
    });
  },
);
