import { describe, expect, it } from 'vitest';
import { endpointLabel, formatDuration, safeHttpUrl } from '../../shared/notify/alert.ts';
import {
  cap,
  cardText,
  clean,
  escapeHtml,
  headerValue,
  slackCodeBlock,
  slackMrkdwn,
  slackPlain,
} from '../../shared/notify/escape.ts';

describe('cap', () => {
  it('leaves short text alone and cuts long text with an ellipsis within the limit', () => {
    expect(cap('hello', 5)).toBe('hello');
    expect(cap('hello world', 8)).toBe('hello w…');
    expect(cap('hello world', 8)).toHaveLength(8);
    expect(cap('abcdef', 5, '...')).toBe('ab...');
  });

  it('never splits a surrogate pair', () => {
    const out = cap('ab\u{1F534}\u{1F534}\u{1F534}', 5);
    expect(out.length).toBeLessThanOrEqual(5);
    expect(out).toBe('ab\u{1F534}…');
    expect(() => encodeURIComponent(out)).not.toThrow();
  });

  it('does not leave half an HTML entity at the cut', () => {
    const out = cap('a&amp;&amp;&amp;', 5);
    expect(out).toBe('a…');
  });
});

describe('clean', () => {
  it('makes one line of text with control and bidi characters', () => {
    expect(clean('Evil\r\nBcc: x@y\u0000\u202e ok\t')).toBe('Evil Bcc: x@y ok');
  });

  it('keeps line breaks in multi-line mode and normalises CRLF', () => {
    expect(clean('550 5.7.1 a\r\n550 5.7.1 b\u0007\r\n\r\n', true)).toBe('550 5.7.1 a\n550 5.7.1 b');
  });
});

describe('Slack', () => {
  it('turns & < > into entities so mentions and links cannot form', () => {
    const out = slackMrkdwn('<!channel> see <http://evil|click> & co');
    expect(out).toBe('&lt;!channel&gt; see &lt;http://evil|click&gt; &amp; co');
    expect(out).not.toMatch(/[<>]/);
  });

  it('neutralises the formatting characters *, _, ~ and `', () => {
    const out = slackMrkdwn('*bold* _it_ ~strike~ `code`');
    expect(out).not.toMatch(/[*_~`]/);
    expect(out).toBe('\u2217bold\u2217 \uff3fit\uff3f \u223cstrike\u223c \u02cbcode\u02cb');
  });

  it('breaks bare @channel/@here/@everyone', () => {
    expect(slackMrkdwn('ping @channel and @Here')).toBe('ping @\u2060channel and @\u2060Here');
  });

  it('is one line unless asked for several, and capped after escaping', () => {
    expect(slackMrkdwn('a\nb')).toBe('a b');
    expect(slackMrkdwn('a\nb', 100, true)).toBe('a\nb');
    const out = slackMrkdwn('<'.repeat(1000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^(&lt;)+…$/);
  });

  it('plain_text: one line, entities, capped at 150 by default', () => {
    const out = slackPlain(`Evil <!channel> *bold* \r\nBcc: x@y ${'x'.repeat(300)}`);
    expect(out.startsWith('Evil &lt;!channel&gt; *bold* Bcc: x@y')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(150);
  });

  it('code blocks cannot be closed early and stay within their limit', () => {
    const out = slackCodeBlock('550 ```\n<!here> <script>alert(1)</script>', 3000);
    expect(out.startsWith('```\n')).toBe(true);
    expect(out.endsWith('\n```')).toBe(true);
    const inner = out.slice(4, -4);
    expect(inner).not.toContain('`');
    expect(inner).not.toMatch(/[<>]/);
    expect(inner).toContain('&lt;script&gt;');
    const long = slackCodeBlock('x'.repeat(10_000), 2500);
    expect(long.length).toBeLessThanOrEqual(2500);
    expect(long).toContain('…(truncated)');
  });
});

describe('Adaptive Card TextBlock', () => {
  it('neutralises markdown emphasis, code and links', () => {
    const out = cardText('**bold** _it_ `code` [click](http://evil) <http://evil> # h \\*');
    expect(out).not.toMatch(/[*_`[\]<>#\\]/);
    expect(out).not.toContain('](');
  });

  it('defuses list markers at line starts in multi-line text', () => {
    expect(cardText('- item\n+ item\n12. item', 500, true)).toBe('\u2010 item\n\u2010 item\n12\u2024 item');
    expect(cardText('a - b 1. c')).toBe('a - b 1. c');
  });

  it('caps', () => {
    expect(cardText('*'.repeat(5000), 100)).toHaveLength(100);
  });
});

describe('HTML', () => {
  it('escapes & < > " and \'', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;',
    );
  });
});

describe('mail header values', () => {
  it('removes CR, LF and every other control character', () => {
    const out = headerValue('Evil <!channel> *bold* \r\nBcc: x@y\u0000\u0085\u2028z');
    for (const c of ['\r', '\n', '\u0000', '\u0085', '\u2028']) expect(out).not.toContain(c);
    expect(out).toBe('Evil <!channel> *bold* Bcc: x@y z');
  });

  it('caps the length', () => {
    expect(headerValue('x'.repeat(1000))).toHaveLength(200);
    expect(headerValue('x'.repeat(1000), 64)).toHaveLength(64);
  });
});

describe('URL helpers', () => {
  it('accepts only http(s) URLs without credentials', () => {
    expect(safeHttpUrl('https://sender.office.com/')).toBe('https://sender.office.com/');
    expect(safeHttpUrl('http://example.test/a?b=c')).toBe('http://example.test/a?b=c');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('data:text/html,x')).toBeNull();
    expect(safeHttpUrl('https://user:pw@example.test/')).toBeNull();
    expect(safeHttpUrl('https://example.test/a b')).toBeNull();
    expect(safeHttpUrl('https://example.test/a>b')).toBeNull();
    expect(safeHttpUrl('not a url')).toBeNull();
  });

  it('shows only scheme and host of an endpoint', () => {
    expect(endpointLabel('https://hooks.slack.com/services/T000/B000/XXXXsecret')).toBe('https://hooks.slack.com');
    expect(endpointLabel('http://127.0.0.1:8080/workflows/abc?sig=secret')).toBe('http://127.0.0.1:8080');
    expect(endpointLabel('::nope')).toBe('(invalid URL)');
  });

  it('formats durations', () => {
    expect(formatDuration('2026-11-27T10:00:00Z', '2026-11-27T13:12:30Z')).toBe('3 h 12 min');
    expect(formatDuration('2026-11-27T10:00:00Z', '2026-11-29T14:00:00Z')).toBe('2 d 4 h');
    expect(formatDuration('2026-11-27T10:00:00Z', '2026-11-27T10:45:00Z')).toBe('45 min');
    expect(formatDuration('2026-11-27T10:00:00Z', '2026-11-27T10:00:20Z')).toBe('under a minute');
    expect(formatDuration('2026-11-27T10:00:00Z', 'nope')).toBeNull();
  });
});
