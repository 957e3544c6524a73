import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  DelistInputError,
  type DnsblDelistInput,
  type MicrosoftDelistInput,
  renderDnsblDelist,
  renderMicrosoftDelist,
} from '../../../shared/delist/packet.ts';
import { chooseRecipient, enhancedCode, portalUrl, strictAddress } from '../../../shared/delist/recipient.ts';
import { mdCode, mdFence, mdText, oneLine, quotableBlock } from '../../../shared/delist/sanitize.ts';

const NOW = new Date('2026-11-02T10:00:00Z');
const REPLY_AT = new Date('2026-11-02T09:15:42Z');
const NDR_606 =
  '550 5.7.606 Access denied, banned sending IP [203.0.113.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)';

function input(over: Partial<MicrosoftDelistInput> = {}): MicrosoftDelistInput {
  return {
    ip: '203.0.113.10',
    tenant: { id: 'contoso', name: 'Contoso Ltd' },
    domains: ['contoso.com', 'contoso.co.uk'],
    reply: { text: NDR_606, at: REPLY_AT, recipient: 'scanner@contoso.com' },
    evidence: {
      spf: [
        {
          domain: 'contoso.com',
          record: 'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all',
          resultForIp: 'pass',
        },
        { domain: 'contoso.co.uk', record: null, resultForIp: 'none' },
      ],
      relayIps: ['203.0.113.10', '198.51.100.7'],
    },
    remediation: ['Malware removed from the workstation at 10.0.0.23', 'Outbound port 25 blocked except the MFP'],
    msp: {
      name: 'Fabrikam IT',
      contact: { name: 'Jo Smith', email: 'jo@fabrikam.example', phone: '+44 20 7946 0000' },
    },
    ...over,
  };
}

async function render(over: Partial<MicrosoftDelistInput> = {}) {
  const packet = await renderMicrosoftDelist(input(over), { now: NOW, messageId: 'delist-1@fabrikam.example' });
  const mail = await simpleParser(packet.eml);
  return { packet, mail };
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value.map((v) => v.address ?? ''));
}

function headerLines(mail: ParsedMail): string[] {
  return mail.headerLines.map((h) => h.key);
}

describe('renderMicrosoftDelist: the .eml', () => {
  it('sets To, From, Subject, Date, Message-ID and the relaywatch headers', async () => {
    const { packet, mail } = await render();
    expect(packet.to).toBe('delist@messaging.microsoft.com');
    expect(packet.recipientSource).toBe('default');
    expect(packet.code).toBe('5.7.606');
    expect(addresses(mail.to)).toEqual(['delist@messaging.microsoft.com']);
    expect(addresses(mail.from)).toEqual(['jo@fabrikam.example']);
    expect(mail.from?.value[0]?.name).toBe('Jo Smith (Fabrikam IT)');
    expect(mail.subject).toBe('Delisting request for 203.0.113.10 (Contoso Ltd, contoso.com, contoso.co.uk)');
    expect(packet.subject).toBe(mail.subject);
    expect(mail.date?.toISOString()).toBe(NOW.toISOString());
    expect(mail.messageId).toBe('<delist-1@fabrikam.example>');
    expect(mail.headers.get('x-relaywatch-tenant')).toBe('contoso');
    expect(mail.headers.get('x-relaywatch-listed-ip')).toBe('203.0.113.10');
    expect(addresses(mail.cc)).toEqual([]);
    expect(addresses(mail.bcc)).toEqual([]);
  });

  it('uses `from` when given and generates a Message-ID and Date otherwise', async () => {
    const packet = await renderMicrosoftDelist(input({ from: 'Delist@Fabrikam.example' }));
    const mail = await simpleParser(packet.eml);
    expect(addresses(mail.from)).toEqual(['delist@fabrikam.example']);
    expect(mail.messageId).toMatch(/^<relaywatch-delist\.[0-9a-f-]{36}@fabrikam\.example>$/);
    expect(mail.date).toBeInstanceOf(Date);
  });

  it('carries everything the request must contain in the plain-text body', async () => {
    const { packet, mail } = await render();
    const body = mail.text ?? '';
    expect(body).toBe(packet.text);
    for (const needle of [
      '203.0.113.10',
      'Contoso Ltd',
      'Tenant ID: contoso',
      '- contoso.com',
      '- contoso.co.uk',
      `> ${NDR_606}`,
      '2026-11-02T09:15:42.000Z (UTC)',
      'status 5.7.606',
      'contoso.com: v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all -> SPF result for 203.0.113.10: pass',
      'contoso.co.uk: (no SPF record published) -> SPF result for 203.0.113.10: none',
      '- 198.51.100.7',
      '- Malware removed from the workstation at 10.0.0.23',
      '- Outbound port 25 blocked except the MFP',
      'Jo Smith, Fabrikam IT',
      'E-mail: jo@fabrikam.example',
      'Phone:  +44 20 7946 0000',
      '1. Open https://sender.office.com/',
      '2. Enter the address that got the NDR (scanner@contoso.com) and the IP address 203.0.113.10.',
      '3. Confirm the request through the link in the e-mail',
      '4. Allow up to 24 hours',
    ]) {
      expect(body).toContain(needle);
    }
  });

  it('quotes a multi-line reply line by line, keeping its text as received', async () => {
    const reply =
      'Remote Server returned:\r\n\r\n550 5.7.606 Access denied, banned sending IP [203.0.113.10].\r\nfrom . line\r\n';
    const { mail } = await render({ reply: { text: reply, at: REPLY_AT } });
    expect(mail.text).toContain(
      '> Remote Server returned:\n>\n> 550 5.7.606 Access denied, banned sending IP [203.0.113.10].\n> from . line\n',
    );
    expect(mail.text).toContain("the device's sending address at contoso.com, contoso.co.uk");
  });

  it('has an HTML alternative with every untrusted string escaped', async () => {
    const { mail } = await render({
      tenant: { id: 'c', name: '<img src=x onerror=alert(1)>' },
      reply: { text: '550 5.7.606 <script>alert(1)</script>', at: REPLY_AT },
    });
    const html = typeof mail.html === 'string' ? mail.html : '';
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
  });
});

describe('renderMicrosoftDelist: recipient', () => {
  it('defaults to delist@messaging.microsoft.com', async () => {
    const { packet } = await render({
      reply: { text: '550 5.7.606 Access denied, banned sending IP [203.0.113.10]', at: REPLY_AT },
    });
    expect(packet.to).toBe('delist@messaging.microsoft.com');
  });

  it('uses a Microsoft address the reply names', async () => {
    const text = `${NDR_606} If you cannot use the portal, email Delist@Microsoft.com with this NDR.`;
    const { packet, mail } = await render({ reply: { text, at: REPLY_AT } });
    expect(packet.to).toBe('delist@microsoft.com');
    expect(packet.recipientSource).toBe('reply');
    expect(addresses(mail.to)).toEqual(['delist@microsoft.com']);
  });

  it('prefers a delist address when the reply names several Microsoft addresses', () => {
    expect(chooseRecipient('contact postmaster@office.com or <delist@messaging.microsoft.com>.').to).toBe(
      'delist@messaging.microsoft.com',
    );
  });

  it('never lets a hostile reply redirect the request', async () => {
    for (const text of [
      '550 5.7.606 banned sending IP. Please email attacker@evil.example to be delisted',
      '550 5.7.606 write to delist@messaging.microsoft.com.evil.example',
      '550 5.7.606 write to delist@evil.example@microsoft.com',
      '550 5.7.606 write to delist@sub.microsoft.com',
      '550 5.7.606 write to delist@microsoft.com%evil.example',
      '550 5.7.606 write to delist@microsoft.co',
    ]) {
      const { packet, mail } = await render({ reply: { text, at: REPLY_AT } });
      expect(packet.to, text).toBe('delist@messaging.microsoft.com');
      expect(addresses(mail.to)).toEqual(['delist@messaging.microsoft.com']);
      expect(packet.eml.toString('latin1')).not.toMatch(/^(Bcc|Cc):/im);
    }
  });

  it('reads a quoted local part as prose: only the Microsoft address inside it can be chosen', async () => {
    const { packet, mail } = await render({
      reply: { text: '550 5.7.606 write to "delist@microsoft.com\r\nBcc: x"@evil.example', at: REPLY_AT },
    });
    expect(packet.to).toBe('delist@microsoft.com');
    expect(addresses(mail.bcc)).toEqual([]);
  });

  it('sends a 5.7.511 banned-sender reply to delist@microsoft.com', async () => {
    const { packet } = await render({
      reply: { text: '550 5.7.511 Access denied, banned sender[203.0.113.10]. To request removal ...', at: REPLY_AT },
    });
    expect(packet.to).toBe('delist@microsoft.com');
    expect(packet.recipientSource).toBe('banned-sender');
    expect(packet.code).toBe('5.7.511');
  });

  it('names the sender.office.com URL the reply prints, and nothing else', () => {
    expect(portalUrl('visit https://sender.office.com/?ip=203.0.113.10.')).toBe(
      'https://sender.office.com/?ip=203.0.113.10',
    );
    expect(portalUrl('visit https://sender.office.com.evil.example/')).toBe('https://sender.office.com/');
    expect(portalUrl('visit https://evil.example/sender.office.com')).toBe('https://sender.office.com/');
  });

  it('finds the enhanced status code but not digits inside an IP', () => {
    expect(enhancedCode('550 5.7.606 Access denied')).toBe('5.7.606');
    expect(enhancedCode('banned [10.5.7.606]')).toBeNull();
  });
});

describe('renderMicrosoftDelist: header safety', () => {
  it('keeps CR/LF in a tenant name, tenant id and contact name out of the headers', async () => {
    const { packet, mail } = await render({
      tenant: { id: 'contoso\r\nBcc: y@evil.example', name: 'Contoso\r\nBcc: x@evil.example' },
      msp: { name: 'Fab\nrikam', contact: { name: 'Jo\r\nCc: z@evil.example', email: 'jo@fabrikam.example' } },
      domains: ['contoso.com\r\nX-Injected: 1'],
    });
    expect(addresses(mail.bcc)).toEqual([]);
    expect(addresses(mail.cc)).toEqual([]);
    expect(addresses(mail.to)).toEqual(['delist@messaging.microsoft.com']);
    expect(mail.headers.has('x-injected')).toBe(false);
    expect(headerLines(mail)).not.toContain('bcc');
    expect(mail.subject).toBe(
      'Delisting request for 203.0.113.10 (Contoso Bcc: x@evil.example, contoso.com X-Injected: 1)',
    );
    expect(mail.headers.get('x-relaywatch-tenant')).toBe('contoso Bcc: y@evil.example');
    const head = packet.eml.toString('latin1').split('\r\n\r\n')[0] ?? '';
    expect(head).not.toMatch(/^(Bcc|Cc|X-Injected):/im);
    // Every header line is a header or a folded continuation.
    for (const line of head.split('\r\n')) expect(line).toMatch(/^([A-Za-z-]+: |[ \t])/);
  });

  it('replaces other control characters and bidi overrides in header text', async () => {
    const { mail } = await render({ tenant: { id: 't', name: 'Con\u0000to\u001bso\u202eLtd\u0085' } });
    expect(mail.subject).toBe('Delisting request for 203.0.113.10 (Con to so Ltd, contoso.com, contoso.co.uk)');
  });

  it('shows control characters in the quoted reply visibly instead of passing them through', async () => {
    const { packet } = await render({ reply: { text: '550 5.7.606 a\u001b[2Jb\u202ec\u0000', at: REPLY_AT } });
    expect(packet.text).toContain('> 550 5.7.606 a<U+001B>[2Jb<U+202E>c<U+0000>');
  });

  it('encodes a non-ASCII tenant name (RFC 2047) and decodes back to it', async () => {
    const { packet, mail } = await render({ tenant: { id: 'müller', name: 'Müller & Söhne GmbH 株式会社' } });
    expect(mail.subject).toBe(
      'Delisting request for 203.0.113.10 (Müller & Söhne GmbH 株式会社, contoso.com, contoso.co.uk)',
    );
    expect(mail.text).toContain('Müller & Söhne GmbH 株式会社');
    // mailparser leaves unknown headers encoded: the tenant id travels as an RFC 2047 encoded word.
    expect(mail.headers.get('x-relaywatch-tenant')).toBe('=?UTF-8?Q?m=C3=BCller?=');
    const head = packet.eml.toString('latin1').split('\r\n\r\n')[0] ?? '';
    expect(head).toMatch(/=\?UTF-8\?[QB]\?/);
    expect(/^[\x20-\x7e\r\n\t]*$/.test(head)).toBe(true);
  });

  it('rejects a malformed IP, sender or contact address', async () => {
    await expect(renderMicrosoftDelist(input({ ip: '203.0.113.10\r\nBcc: x' }))).rejects.toBeInstanceOf(
      DelistInputError,
    );
    await expect(
      renderMicrosoftDelist(input({ from: 'jo@fabrikam.example\r\nBcc: x@evil.example' })),
    ).rejects.toBeInstanceOf(DelistInputError);
    await expect(
      renderMicrosoftDelist(input({ msp: { name: 'F', contact: { name: 'J', email: 'not an address' } } })),
    ).rejects.toBeInstanceOf(DelistInputError);
    await expect(
      renderMicrosoftDelist(input({ reply: { text: NDR_606, at: new Date('nope') } })),
    ).rejects.toBeInstanceOf(DelistInputError);
  });
});

describe('renderMicrosoftDelist: Markdown', () => {
  it('has the same content', async () => {
    const { packet } = await render();
    const md = packet.markdown;
    expect(md).toContain('# Delisting request for 203\\.0\\.113\\.10');
    expect(md).toContain('`delist@messaging.microsoft.com`');
    expect(md).toContain('`contoso.com`, `contoso.co.uk`');
    expect(md).toContain(`\`\`\`text\n${NDR_606}\n\`\`\``);
    expect(md).toContain('`2026-11-02T09:15:42.000Z` (UTC)');
    expect(md).toContain(
      '`v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all`, result for `203.0.113.10`: **pass**',
    );
    expect(md).toContain('- `198.51.100.7`');
    expect(md).toContain('Outbound port 25 blocked except the MFP');
    expect(md).toContain('`jo@fabrikam.example`');
    expect(md).toContain('1. Open <https://sender.office.com/>');
    expect(md).toContain('4. Allow up to 24 hours');
  });

  it('keeps a reply with ``` and <script> inert inside a longer fence', async () => {
    const reply = '550 5.7.606 banned\n```\n</pre><script>alert(1)</script>\n````\n# not a heading';
    const { packet } = await render({ reply: { text: reply, at: REPLY_AT } });
    const md = packet.markdown;
    expect(md).toContain(`\`\`\`\`\`text\n${reply}\n\`\`\`\`\``);
    // Outside the fence, no raw HTML and no heading from the reply.
    const outside = md.replace(/`````text\n[\s\S]*?\n`````/, '');
    expect(outside).not.toContain('<script>');
    expect(outside).not.toContain('# not a heading');
  });

  it('escapes Markdown and HTML in tenant names and remediation', async () => {
    const { packet } = await render({
      tenant: { id: 'x`y', name: '[click](https://evil.example) <script>x</script> **bold**' },
      remediation: ['![img](https://evil.example/t.png) <b>done</b>'],
    });
    const md = packet.markdown;
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<b>');
    expect(md).not.toContain('[click](');
    expect(md).not.toContain('![img](');
    expect(md).toContain('\\[click\\]\\(https\\://evil\\.example\\) &lt;script&gt;x&lt;/script&gt; \\*\\*bold\\*\\*');
    expect(md).toContain('(``x`y``)');
  });
});

describe('sanitize helpers', () => {
  it('oneLine flattens and caps', () => {
    expect(oneLine('a\r\n\tb\u2028c')).toBe('a b c');
    expect(oneLine('abcdef', 4)).toBe('abc…');
  });
  it('quotableBlock normalises line endings', () => {
    expect(quotableBlock('a\r\nb\rc\n\n')).toBe('a\nb\nc');
  });
  it('mdCode and mdFence outgrow backtick runs', () => {
    expect(mdCode('a``b')).toBe('```a``b```');
    expect(mdCode('`x')).toBe('`` `x ``');
    expect(mdFence('````')).toBe('`````text\n````\n`````');
    expect(mdText('a_b')).toBe('a\\_b');
  });
  it('strictAddress rejects anything but a plain address', () => {
    expect(strictAddress('Jo@Fabrikam.example')).toBe('jo@fabrikam.example');
    for (const bad of ['a@b', 'a..b@c.example', '.a@c.example', 'a b@c.example', 'a@b@c.example', 'a@c.example\n']) {
      expect(strictAddress(bad), bad).toBeNull();
    }
  });
});

describe('renderDnsblDelist', () => {
  const dnsbl: DnsblDelistInput = {
    ip: '203.0.113.10',
    tenant: { id: 'contoso', name: 'Contoso Ltd' },
    msp: { name: 'Fabrikam IT', contact: { name: 'Jo Smith', email: 'jo@fabrikam.example' } },
    listings: [
      {
        zoneId: 'spamhaus-zen',
        zone: 'zen.spamhaus.org',
        operator: 'Spamhaus',
        codes: [
          { code: '127.0.0.4', meaning: 'XBL: exploited or infected host (CBL data)', kind: 'abuse' },
          {
            code: '127.0.0.11',
            meaning: 'PBL (Spamhaus-maintained): address space that should not send mail directly',
            kind: 'policy',
          },
        ],
        reason: 'https://check.spamhaus.org/query/ip/203.0.113.10 <script>x</script> ```',
        removalUrl: 'https://check.spamhaus.org/',
        lookupUrl: 'https://check.spamhaus.org/results/?query=203.0.113.10',
      },
      {
        zoneId: 'spamcop',
        zone: 'bl.spamcop.net',
        operator: 'SpamCop',
        codes: [{ code: '127.0.0.2', meaning: 'listed: reported spam source' }],
        reason: null,
        removalUrl: 'https://www.spamcop.net/bl.shtml?203.0.113.10',
        lookupUrl: 'https://www.spamcop.net/bl.shtml?203.0.113.10',
      },
      {
        zoneId: 'uceprotect-2',
        zone: 'dnsbl-2.uceprotect.net',
        operator: 'UCEPROTECT',
        codes: [{ code: '127.0.0.2', meaning: 'range listed', kind: 'neighbourhood' }],
        reason: null,
        removalUrl: null,
        lookupUrl: 'https://www.uceprotect.net/en/rblcheck.php?ipr=203.0.113.10',
      },
      {
        zoneId: 'custom',
        zone: 'bl.example',
        operator: 'Example',
        codes: [{ code: '127.0.0.2', meaning: 'listed' }],
        reason: null,
        removalUrl: 'javascript:alert(1)',
        lookupUrl: null,
      },
    ],
  };

  it('gives each list its removal URL, codes with meanings and what to prepare', () => {
    const { text } = renderDnsblDelist(dnsbl);
    expect(text).toContain('DNS blocklist delisting for 203.0.113.10 (Contoso Ltd)');
    expect(text).toContain('== Spamhaus: zen.spamhaus.org (spamhaus-zen)');
    expect(text).toContain('Removal: https://check.spamhaus.org/');
    expect(text).toContain('Lookup:  https://check.spamhaus.org/results/?query=203.0.113.10');
    expect(text).toContain('  - 127.0.0.4: XBL: exploited or infected host (CBL data)');
    expect(text).toContain('  - 127.0.0.11: PBL (Spamhaus-maintained)');
    expect(text).toContain('policy listing');
    expect(text).toContain('infected or exploited host');
    expect(text).toContain('Removal: https://www.spamcop.net/bl.shtml?203.0.113.10');
    expect(text).toContain('expire automatically');
    expect(text).toContain('not the address itself: the customer cannot request removal');
    expect(text).toContain('no removal page; look up at https://www.uceprotect.net/en/rblcheck.php?ipr=203.0.113.10');
    expect(text).toContain('Removal: no removal page known: contact the operator');
    expect(text).not.toContain('javascript:');
    expect(text).toContain('Prepare: the IP 203.0.113.10');
    expect(text).toContain('Jo Smith, Fabrikam IT, jo@fabrikam.example');
  });

  it('renders Markdown with links as autolinks and third-party text inert', () => {
    const { markdown } = renderDnsblDelist(dnsbl);
    expect(markdown).toContain('## Spamhaus: `zen.spamhaus.org` (`spamhaus-zen`)');
    expect(markdown).toContain('- **Removal:** <https://check.spamhaus.org/>');
    expect(markdown).toContain('`127.0.0.4` XBL\\: exploited or infected host \\(CBL data\\)');
    expect(markdown).toContain('```` https://check.spamhaus.org/query/ip/203.0.113.10 <script>x</script> ``` ````');
    expect(markdown.replace(/````[^\n]*````/, '')).not.toContain('<script>');
    expect(markdown).not.toContain('javascript:');
  });
});
