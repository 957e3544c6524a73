import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  classify,
  classifyRaw,
  type ProbeStage,
  parseReply,
  REPLY_KEEP_CHARS,
  type TransportFailure,
} from '../../../shared/probe/diagnosis.ts';
import { CATALOGUE, DIAGNOSIS_IDS, type DiagnosisId } from '../../../shared/probe/diagnosis-table.ts';
import { mulberry32 } from '../../support/prng.ts';

/**
 * Replies quoted from DOMAIN.md §2 (exact where it is exact). Where DOMAIN.md elides the text ("..."), the tail is
 * marked GUESSED in the comment: the rule must not depend on it. The real replies, each with its source and the date
 * it was read, are the corpus in test/fixtures/exo-replies.ts (test/unit/probe/exo-replies.test.ts); these cases
 * stay as the shapes the rules must also accept (Postfix prefixes, case, multi-line below).
 */
const CASES: ReadonlyArray<readonly [DiagnosisId, ProbeStage, string]> = [
  [
    'ok',
    'data-end',
    '250 2.6.0 <abc@contoso.com> [InternalId=12345, Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] Queued mail for delivery',
  ],
  ['ok', 'auth', '235 2.7.0 Authentication successful'],
  ['ok', 'data', '354 Start mail input; end with <CRLF>.<CRLF>'],
  // GUESSED tail after "https://sender.office.com/".
  [
    'ms-banned-ip',
    'rcpt',
    '550 5.7.606 Access denied, banned sending IP [203.0.113.5]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
  ],
  ['ms-banned-ip', 'mail', '550 5.7.649 Access denied, banned sending IP [198.51.100.7].'],
  ['ms-banned-ip', 'rcpt', '550 5.7.627 Access denied, banned sending IP [2001:db8::25].'],
  [
    'ms-banned-sender',
    'rcpt',
    '550 5.7.511 Access denied, banned sender[203.0.113.5]. To request removal from this list, forward this message to delist@microsoft.com.',
  ],
  ['ms-ip-rejected', 'rcpt', '550 5.7.708 Access denied, traffic not accepted from this IP'],
  ['ms-tenant-threshold', 'rcpt', '550 5.7.705 Access denied, tenant has exceeded threshold'],
  [
    'ms-unregistered-domain',
    'rcpt',
    '550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains',
  ],
  ['ip-throttled', 'rcpt', '451 4.7.500 Access denied, please try again later'],
  ['ip-throttled', 'rcpt', '451 4.7.699 Access denied, please try again later'],
  ['ip-throttled', 'rcpt', '451 4.7.850 Access denied, please try again later'],
  ['ip-throttled', 'rcpt', '451 4.7.899 Access denied, please try again later'],
  // Real shape (Mailu#3013 in the corpus) carries "(S844) [host timestamp]" after the sentence.
  [
    'ip-throttled',
    'mail',
    '451 4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.',
  ],
  [
    'ip-throttled',
    'mail',
    '451 4.7.651 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.',
  ],
  ['connector-mismatch', 'rcpt', '550 5.7.64 TenantAttribution; Relay Access Denied'],
  ['wrong-region', 'rcpt', '451 4.4.62 Mail sent to the wrong Office 365 region. ATTR35'],
  ['relay-denied', 'rcpt', '550 5.7.1 Unable to relay'],
  ['relay-denied', 'rcpt', '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain'],
  ['send-as-denied', 'data-end', '550 5.7.60 SMTP; Client does not have permissions to send as this sender'],
  ['bad-outbound-sender', 'mail', '550 5.1.8 Access denied, bad outbound sender'],
  ['auth-required', 'mail', '530 5.7.57 Client not authenticated to send mail'],
  ['starttls-required', 'mail', '451 5.7.3 STARTTLS is required to send mail'],
  ['tls-version-unsupported', 'starttls', '421 4.7.66 TLS 1.0 and 1.1 are not supported'],
  [
    'smtp-auth-disabled-tenant',
    'auth',
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant',
  ],
  [
    'smtp-auth-disabled-mailbox',
    'auth',
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox',
  ],
  ['basic-auth-disabled', 'auth', '535 5.7.139 Authentication unsuccessful, basic authentication is disabled'],
  ['basic-auth-disabled', 'auth', '550 5.7.30 Basic authentication is not supported for Client Submission'],
  // GUESSED: the other 5.7.139 texts (security defaults, Conditional Access, credentials) are from memory.
  [
    'auth-failed',
    'auth',
    "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy",
  ],
  [
    'auth-failed',
    'auth',
    '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully',
  ],
  ['auth-failed', 'auth', '535 5.7.139 Authentication unsuccessful, the user credentials were incorrect'],
  ['auth-failed', 'auth', '535 5.7.3 Authentication unsuccessful'],
  ['auth-failed', 'auth', '535 Authentication failed'],
  // The NDR table's text for 5.7.23, verbatim.
  ['spf-fail', 'data-end', '550 5.7.23 The message was rejected because of Sender Policy Framework violation'],
  // GUESSED tail after "DMARC verification".
  [
    'dmarc-fail',
    'data-end',
    '550 5.7.509 Access denied, sending domain [contoso.com] does not pass DMARC verification and has a DMARC policy of reject.',
  ],
  [
    'direct-send-rejected',
    'rcpt',
    '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources',
  ],
  // The limits: real texts and their sources are in test/fixtures/exo-replies.ts (issue 16).
  [
    'tenant-external-rate-limited',
    'rcpt',
    "550 5.7.233 Your message can't be sent because your tenant exceeded its daily limit for sending email to external recipients (tenant external recipient rate limit)",
  ],
  ['rate-limited', 'data-end', '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException'],
  ['ip-throttled', 'rcpt', '452 4.5.3 Too many recipients'],
  ['continuous-error-throttled', 'mail', '550 5.2.251 Sender throttled due to continuous mailbox full errors.'],
  ['continuous-error-throttled', 'mail', '550 5.2.255 Sender throttled due to continuous invalid recipients errors.'],
  [
    'sending-mailbox-full',
    'data-end',
    '554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionQuotaExceeded',
  ],
  [
    'partner-connector-restricted',
    'rcpt',
    "550 5.7.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set",
  ],
  ['ms-account-banned', 'rcpt', '550 5.7.502 Access denied, banned sender'],
  ['recipient-not-found', 'rcpt', '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)'],
  ['third-party-blocklist', 'rcpt', '550 5.7.1 Service unavailable, Client host [50.31.49.41] blocked using Spamhaus.'],
  [
    'recipient-tenant-blocklist',
    'rcpt',
    '550 5.7.513 Service unavailable, Client host [203.0.113.10] blocked by contoso.com using Customer Block list (AS16012607)',
  ],
  ['connector-blocked', 'rcpt', '550 5.7.711 Access denied, bad inbound connector. AS(2204).'],
  ['concurrent-connections-limited', 'data-end', '432 4.3.2 Concurrent connections limit exceeded.'],
  ['service-not-active', 'auth', '421 4.3.2 Service not active'],
  ['auth-mechanism-unsupported', 'auth', '504 5.7.4 Unrecognized authentication type'],
  [
    'tenant-not-licensed',
    'rcpt',
    '451 4.4.4 Mail received as unauthenticated, incoming to a recipient domain configured in a hosted tenant which has no mail-enabled subscriptions. ATTR5',
  ],
  ['ms-transient-error', 'rcpt', '451 4.3.2 Temporary server error. Please try again later ATTR55'],
];

const FAILURES: ReadonlyArray<readonly [TransportFailure, DiagnosisId]> = [
  ['dns', 'dns-failure'],
  ['refused', 'connection-refused'],
  ['timeout', 'timeout'],
  ['tls-handshake', 'tls-handshake-failed'],
  ['certificate', 'certificate-invalid'],
  ['starttls-not-offered', 'starttls-not-offered'],
  ['protocol', 'protocol-error'],
  ['token', 'oauth-token-failed'],
];

function ids(): Set<string> {
  return new Set<string>(DIAGNOSIS_IDS);
}

describe('DIAGNOSIS_IDS', () => {
  it('is a unique, kebab-case list, each with a catalogue entry', () => {
    expect(ids().size).toBe(DIAGNOSIS_IDS.length);
    for (const id of DIAGNOSIS_IDS) {
      expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(CATALOGUE[id].title.length).toBeGreaterThan(0);
      if (id !== 'ok') expect(CATALOGUE[id].remediation.length).toBeGreaterThan(0);
    }
  });

  it('covers every id the requirement names (the public contract)', () => {
    const required = [
      'ok',
      'ms-banned-ip',
      'ms-banned-sender',
      'ms-ip-rejected',
      'ms-tenant-threshold',
      'ms-unregistered-domain',
      'ip-throttled',
      'connector-mismatch',
      'wrong-region',
      'relay-denied',
      'send-as-denied',
      'bad-outbound-sender',
      'auth-required',
      'starttls-required',
      'tls-version-unsupported',
      'smtp-auth-disabled-tenant',
      'smtp-auth-disabled-mailbox',
      'basic-auth-disabled',
      'auth-failed',
      'spf-fail',
      'dmarc-fail',
      'direct-send-rejected',
      'rate-limited',
      'dns-failure',
      'connection-refused',
      'timeout',
      'tls-handshake-failed',
      'certificate-invalid',
      'unclassified',
    ];
    // every id the requirement names, plus the ones added since (ids are only ever added)
    const added = [
      'starttls-not-offered',
      'protocol-error',
      'oauth-token-failed',
      // issue 16: facts checked against the sources
      'continuous-error-throttled',
      'sending-mailbox-full',
      'partner-connector-restricted',
      'ms-account-banned',
      'tenant-external-rate-limited',
      'recipient-not-found',
      'third-party-blocklist',
      'recipient-tenant-blocklist',
      'connector-blocked',
      'concurrent-connections-limited',
      'service-not-active',
      'auth-mechanism-unsupported',
      'tenant-not-licensed',
      'ms-transient-error',
    ];
    expect([...DIAGNOSIS_IDS].sort()).toEqual([...required, ...added].sort());
  });

  it('has a test reply or failure for every id', () => {
    const covered = new Set<string>([...CASES.map(([id]) => id), ...FAILURES.map(([, id]) => id), 'unclassified']);
    expect([...ids()].filter((id) => !covered.has(id))).toEqual([]);
  });
});

describe('classify: Exchange Online replies (DOMAIN.md §2)', () => {
  it.each(CASES)('%s at %s: %s', (id, stage, raw) => {
    const d = classifyRaw(stage, raw);
    expect(d.id).toBe(id);
    expect(d.stage).toBe(stage);
    expect(d.reply?.lines).toEqual([raw]);
  });

  it.each(CASES)('%s survives a Postfix-style prefix: %s', (id, stage, raw) => {
    expect(classifyRaw(stage, `<localhost[127.0.0.1]>: Client host rejected: ${raw}`).id).toBe(id);
    expect(classifyRaw(stage, `host contoso-com.mail.protection.outlook.com[52.101.1.1] said: ${raw}`).id).toBe(id);
  });

  it.each(CASES)('%s is case-insensitive: %s', (id, stage, raw) => {
    expect(classifyRaw(stage, raw.toLowerCase()).id).toBe(id);
    expect(classifyRaw(stage, raw.toUpperCase()).id).toBe(id);
  });

  it.each(CASES)('%s as a multi-line reply: %s', (id, stage, raw) => {
    const m = /^(\d{3}) (.*)$/.exec(raw)!;
    const enhanced = /^([245]\.\d+\.\d+) /.exec(m[2]!)?.[1];
    const second = enhanced ? `${enhanced} [Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com]` : '[Hostname=x]';
    const multi = `${m[1]}-${m[2]}\r\n${m[1]} ${second}`;
    const d = classifyRaw(stage, multi);
    expect(d.id).toBe(id);
    expect(d.reply?.lines).toHaveLength(2);
  });

  it('marks transport failures without a reply', () => {
    for (const [failure, id] of FAILURES) {
      const d = classify({ stage: 'connect', failure, detail: 'connect ECONNREFUSED 52.101.1.1:25' });
      expect(d.id).toBe(id);
      expect(d.reply).toBeNull();
      expect(d.failure).toBe(failure);
      expect(d.detail).toBe('connect ECONNREFUSED 52.101.1.1:25');
      expect(d.ip).toBeNull();
    }
  });

  it('carries the catalogue flags', () => {
    const banned = classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [203.0.113.5].');
    expect(banned).toMatchObject({ severity: 'error', delistable: true, retryable: false, ip: '203.0.113.5' });
    expect(banned.remediation.join(' ')).toContain('https://sender.office.com');
    // Microsoft documents only the portal for 5.7.606–649 (issue 16).
    expect(banned.remediation.join(' ')).not.toContain('delist@');
    expect(banned.remediation[0]).toContain('203.0.113.5');
    const throttled = classifyRaw('rcpt', '451 4.7.500 Access denied, please try again later');
    expect(throttled).toMatchObject({ severity: 'warning', delistable: false, retryable: true });
    const basic = classifyRaw('auth', '535 5.7.139 Authentication unsuccessful, basic authentication is disabled');
    expect(basic.remediation.join(' ')).toContain('SMTP.SendAsApp');
    expect(classifyRaw('rcpt', '550 5.7.64 TenantAttribution; Relay Access Denied').remediation.join(' ')).toMatch(
      /inbound connector/,
    );
  });
});

describe('classify: precedence and fallbacks', () => {
  it('resolves overlapping ranges and shared codes', () => {
    expect(classifyRaw('mail', '451 4.7.650 whatever').id).toBe('ip-throttled');
    expect(classifyRaw('mail', '451 4.7.700 whatever').id).toBe('unclassified');
    expect(classifyRaw('mail', '550 5.7.605 whatever').id).toBe('unclassified');
    expect(classifyRaw('mail', '550 5.7.650 whatever').id).toBe('unclassified');
    expect(classifyRaw('mail', '550 5.7.612 whatever').id).toBe('ms-banned-ip');
    expect(classifyRaw('mail', '451 5.7.3 STARTTLS is required to send mail').id).toBe('starttls-required');
    expect(classifyRaw('auth', '535 5.7.3 Authentication unsuccessful').id).toBe('auth-failed');
    expect(classifyRaw('auth', '550 5.7.3 something else').id).toBe('unclassified');
    // 5.7.64 text contains "Relay Access Denied" but is a connector problem
    expect(classifyRaw('rcpt', '550 5.7.64 TenantAttribution; Relay Access Denied').id).toBe('connector-mismatch');
    // 5.2.2 on delivery means a full mailbox, not a sending limit
    expect(
      classifyRaw('data-end', '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException').id,
    ).toBe('unclassified');
  });

  it('prefers the cause Exchange quotes inside a 5.7.57 reply', () => {
    expect(
      classifyRaw(
        'mail',
        '530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
      ).id,
    ).toBe('smtp-auth-disabled-tenant');
  });

  it('looks through a relay that wraps the reply with its own code', () => {
    const d = classifyRaw(
      'rcpt',
      '554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: 550 5.7.606 Access denied, banned sending IP [203.0.113.9]',
    );
    expect(d.id).toBe('ms-banned-ip');
    expect(d.ip).toBe('203.0.113.9');
  });

  it('falls back to the basic code and text without an enhanced code', () => {
    expect(classifyRaw('rcpt', '554 Access denied, banned sending IP [203.0.113.5]')).toMatchObject({
      id: 'ms-banned-ip',
      ip: '203.0.113.5',
    });
    expect(classifyRaw('rcpt', '554 Transaction failed').id).toBe('unclassified');
    expect(classifyRaw('rcpt', '550 Unable to relay').id).toBe('relay-denied');
    expect(classifyRaw('rcpt', '554 relay access denied').id).toBe('relay-denied');
    expect(classifyRaw('auth', '535 Authentication credentials invalid').id).toBe('auth-failed');
    expect(classifyRaw('mail', '530 Must issue a STARTTLS command first').id).toBe('starttls-required');
    expect(classifyRaw('mail', '530 Authentication required').id).toBe('auth-required');
    expect(classifyRaw('starttls', '454 TLS not available due to temporary reason').id).toBe('tls-handshake-failed');
  });

  it('extracts the queue id and message id from Exchange’s final 250', () => {
    const d = classifyRaw(
      'data-end',
      '250 2.6.0 <abc.123@contoso.com> [InternalId=41961830493285, Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] Queued mail for delivery',
    );
    expect(d).toMatchObject({
      id: 'ok',
      severity: 'info',
      queueId: '41961830493285',
      messageId: 'abc.123@contoso.com',
    });
    expect(classifyRaw('data-end', '250 2.0.0 Ok: queued as 4Xy1Z2abCd').queueId).toBe('4Xy1Z2abCd');
    expect(classifyRaw('ehlo', '250 2.6.0 <a@b> [InternalId=1] Queued').queueId).toBeNull();
  });
});

describe('parseReply', () => {
  it('parses a single line with and without an enhanced code', () => {
    expect(parseReply('550 5.7.606 Access denied')).toEqual({
      code: 550,
      enhanced: '5.7.606',
      text: 'Access denied',
      lines: ['550 5.7.606 Access denied'],
      truncated: false,
    });
    expect(parseReply('535 Authentication failed')).toMatchObject({
      code: 535,
      enhanced: null,
      text: 'Authentication failed',
    });
    expect(parseReply('250')).toMatchObject({ code: 250, enhanced: null, text: '' });
  });

  it('joins multi-line replies and strips repeated codes', () => {
    const r = parseReply(
      '550-5.7.606 Access denied, banned sending IP [203.0.113.5].\r\n550 5.7.606 To request removal visit https://sender.office.com/\r\n',
    );
    expect(r).toMatchObject({
      code: 550,
      enhanced: '5.7.606',
      text: 'Access denied, banned sending IP [203.0.113.5]. To request removal visit https://sender.office.com/',
    });
    expect(r?.lines).toHaveLength(2);
    expect(parseReply('250-a\n250-b\n250 c')?.text).toBe('a b c');
  });

  it('does not read an IP address as an enhanced code', () => {
    expect(parseReply('550 5.7.1.2 is not a code')?.enhanced).toBeNull();
    expect(parseReply('550 4.4.62.1 x')?.enhanced).toBeNull();
  });

  it('returns null when there is no reply code', () => {
    expect(parseReply('')).toBeNull();
    expect(parseReply('\r\n\r\n')).toBeNull();
    expect(parseReply('hello world')).toBeNull();
    expect(parseReply('connection closed by 1.2.3.4 port 25')).toBeNull();
  });
});

describe('IP quoting', () => {
  it('quotes only valid, bracketed IPv4/IPv6 addresses', () => {
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [999.1.1.1]').ip).toBeNull();
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [1.2.3]').ip).toBeNull();
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [0x7f.0.0.1]').ip).toBeNull();
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP 203.0.113.5').ip).toBeNull();
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [IPv6:2001:DB8::25]').ip).toBe(
      '2001:db8::25',
    );
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [::ffff:203.0.113.5]').ip).toBe(
      '203.0.113.5',
    );
    expect(classifyRaw('rcpt', '550 5.7.606 Access denied').ip).toBeNull();
  });

  it('prefers the IP the text introduces over others, and ignores a relay’s own prefix', () => {
    expect(
      classifyRaw(
        'rcpt',
        '<localhost[127.0.0.1]>: Client host rejected: 550 5.7.606 Access denied, banned sending IP [127.0.0.2]',
      ).ip,
    ).toBe('127.0.0.2');
    expect(classifyRaw('rcpt', '550 5.7.606 [198.51.100.1] Access denied, banned sending IP [203.0.113.5]').ip).toBe(
      '203.0.113.5',
    );
  });
});

describe('hostile input', () => {
  it('caps a 10 MB reply and keeps the raw reply for unclassified', () => {
    const huge = `550 5.9.999 ${'A'.repeat(10 * 1024 * 1024)}`;
    const t0 = performance.now();
    const d = classifyRaw('rcpt', huge);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(d.id).toBe('unclassified');
    expect(d.severity).toBe('error');
    expect(d.reply?.truncated).toBe(true);
    expect(d.reply!.text.length).toBeLessThanOrEqual(REPLY_KEEP_CHARS);
    expect(d.reply!.lines.join('').length).toBeLessThanOrEqual(REPLY_KEEP_CHARS);
    expect(d.reply!.lines[0]!.startsWith('550 5.9.999 AAA')).toBe(true);
  });

  it('caps a reply of many lines', () => {
    const d = classifyRaw('rcpt', '550-x\r\n'.repeat(100_000));
    expect(d.reply?.truncated).toBe(true);
    expect(d.reply!.lines.length).toBeLessThanOrEqual(64);
  });

  it('keeps an unknown reply whole when it is short', () => {
    const d = classifyRaw('rcpt', '451 4.3.2 System not accepting network messages');
    expect(d).toMatchObject({ id: 'unclassified', severity: 'warning', retryable: true });
    expect(d.reply?.lines).toEqual(['451 4.3.2 System not accepting network messages']);
    const noCode = classifyRaw('banner', 'garbage without code');
    expect(noCode).toMatchObject({ id: 'unclassified', reply: null, detail: 'garbage without code' });
  });

  it('replaces control and bidi characters', () => {
    const d = classifyRaw(
      'rcpt',
      '550 5.7.606 Access\u0000 denied\u001b[31m, banned \u202esending IP [203.0.113.5]\u0007',
    );
    expect(d.id).toBe('ms-banned-ip');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence is the point
    expect(d.reply!.text).not.toMatch(/[\u0000-\u0008\u001b\u007f\u202e]/);
    expect(d.ip).toBe('203.0.113.5');
  });

  it('never throws on odd input', () => {
    for (const raw of [
      '',
      ' ',
      '\r\n',
      '-',
      '999 9.9.9',
      '000',
      '550-',
      '5.7.606',
      '[',
      ']',
      '[[[::]]]',
      '\u0000'.repeat(1000),
    ]) {
      expect(() => classifyRaw('rcpt', raw)).not.toThrow();
    }
    expect(classify({ stage: 'rcpt' }).id).toBe('unclassified');
  });
});

describe('fuzz: random replies', () => {
  const SEED = 0x5eed_d1a6;
  const fragments = [
    '550',
    '451',
    '250',
    '535',
    '5.7.606',
    '4.7.650',
    '5.7.139',
    '5.7.3',
    ' ',
    '-',
    '\r\n',
    '\n',
    '[',
    ']',
    '203.0.113.5',
    '999.1.1.1',
    '::1',
    'IP ',
    'Access denied',
    'banned sending IP',
    'STARTTLS',
    'Authentication unsuccessful',
    'TenantAttribution',
    'Unable to relay',
    ': ',
    '\u0000',
    '\u202e',
    'é',
    '.',
  ];
  const stages: ProbeStage[] = ['connect', 'banner', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'data-end'];

  it(`every result has a known id and a valid or absent IP (seed ${SEED.toString(16)})`, () => {
    const rnd = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const known = ids();
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(rnd() * 12);
      let raw = '';
      for (let j = 0; j < n; j++) {
        raw += rnd() < 0.15 ? String.fromCharCode(Math.floor(rnd() * 0x3000)) : pick(fragments);
      }
      const stage = pick(stages);
      const d = classifyRaw(stage, raw);
      expect(known.has(d.id), `case ${i}: ${JSON.stringify(raw)}`).toBe(true);
      if (d.ip !== null) expect(isIP(d.ip), `case ${i}: ${JSON.stringify(raw)}`).not.toBe(0);
      expect(['info', 'warning', 'error']).toContain(d.severity);
    }
  });
});
