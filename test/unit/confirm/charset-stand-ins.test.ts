/**
 * The charset stand-ins of the confirmation bundles (CHARSET_STAND_INS in cdk/constructs/monitor-function.ts:
 * cdk/bundle-stubs/iconv-lite-textdecoder.cjs and encoding-japanese-textdecoder.cjs) against the real iconv-lite and
 * encoding-japanese (the copy imapflow bundles), over the charsets mail uses. Every difference is pinned here and
 * listed, with why it does not matter for confirmation, in docs/dependencies.md ("The Lambda bundles").
 *
 * How: single-byte charsets byte by byte (all 256); double-byte charsets over every two-byte sequence (lead
 * 0x80–0xFF, trail 0x30–0xFF), split into sequences iconv-lite decodes to one character (the "valid" ones: a
 * difference there is a different character) and the rest (malformed or unassigned: how each recovers); Japanese over
 * every JIS X 0208 cell in ISO-2022-JP and EUC-JP framing and every Shift_JIS pair; real text encoded by the real
 * libraries; streaming (byte by byte) against one-shot decoding; the Unicode codecs and IMAP's modified UTF-7, which
 * the stand-in takes from iconv-lite itself; and the charset module of the libmime imapflow bundles, built with the
 * confirm function's aliases, decoding MIME words as the real one does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUNDLING, bundleAliases } from '../../../cdk/constructs/monitor-function.ts';

interface Decoder {
  write(buf: Buffer): string;
  end(): string | undefined;
}
interface Iconv {
  decode(buf: Buffer, encoding: string): string;
  encode(str: string, encoding: string): Buffer;
  encodingExists(encoding: string): boolean;
  getCodec(encoding: string): { decoder: unknown };
  getDecoder(encoding: string): Decoder;
  encodings: Record<string, unknown> | null;
}
interface EncodingJapanese {
  convert(data: Uint8Array | number[], options: { to: string; from: string; type?: string }): string | number[];
  stringToCode?(s: string): number[];
}

const require = createRequire(import.meta.url);
const real = require('iconv-lite') as Iconv;
const stand = require('../../../cdk/bundle-stubs/iconv-lite-textdecoder.cjs') as Iconv;
const realJp = require('../../../node_modules/imapflow/node_modules/encoding-japanese') as EncodingJapanese;
const standJp = require('../../../cdk/bundle-stubs/encoding-japanese-textdecoder.cjs') as EncodingJapanese;

const hex = (s: string) => [...s].map((c) => c.codePointAt(0)!.toString(16).padStart(4, '0')).join(' ');
const bytesHex = (b: readonly number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join('');

function tryDecode(lib: Iconv, buf: Buffer, cs: string): string {
  try {
    return lib.decode(buf, cs);
  } catch (err) {
    return `throws: ${(err as Error).message}`;
  }
}

/** Bytes 0x00–0xFF one at a time: `byte: real / stand-in` for each that differs. */
function singleByteDiffs(cs: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let b = 0; b < 256; b++) {
    const buf = Buffer.from([b]);
    const r = tryDecode(real, buf, cs);
    const s = tryDecode(stand, buf, cs);
    if (r !== s) out[bytesHex([b])] = `${hex(r)} / ${hex(s)}`;
  }
  return out;
}

describe('iconv-lite stand-in: single-byte charsets', () => {
  it.each([
    'ISO-8859-1',
    'ISO-8859-2',
    'ISO-8859-3',
    'ISO-8859-4',
    'ISO-8859-5',
    'ISO-8859-6',
    'ISO-8859-7',
    'ISO-8859-8',
    'ISO-8859-9',
    'ISO-8859-10',
    'ISO-8859-11',
    'ISO-8859-13',
    'ISO-8859-14',
    'ISO-8859-15',
    'ISO-8859-16',
    'windows-874',
    'windows-1250',
    'windows-1251',
    'windows-1252',
    'windows-1253',
    'windows-1254',
    'windows-1255',
    'windows-1256',
    'windows-1257',
    'windows-1258',
    'KOI8-R',
    'IBM866',
    'TIS-620',
    'US-ASCII',
    'latin1',
    'cp1252',
    'win-1251',
  ])('%s decodes every byte as iconv-lite does', (cs) => {
    expect(stand.encodingExists(cs)).toBe(true);
    expect(singleByteDiffs(cs)).toEqual({});
  });

  it('pinned: KOI8-U is WHATWG KOI8-U (the KOI8-RU letters ў Ў at 0xAE/0xBE), macintosh is Apple’s later table', () => {
    expect(singleByteDiffs('KOI8-U')).toEqual({ ae: '255d / 045e', be: '256c / 040e' });
    // Ω as OHM SIGN vs GREEK CAPITAL OMEGA, ¤ vs € (Mac OS 8.5), the Apple logo (private use) vs U+FFFD.
    expect(singleByteDiffs('macintosh')).toEqual({ bd: '2126 / 03a9', db: '00a4 / 20ac', f0: 'fffd / f8ff' });
  });

  it('encodes into a single-byte charset as iconv-lite does (iconv-lite’s own codec, with the table read)', () => {
    for (const [cs, text] of [
      ['ISO-8859-2', 'Zażółć gęślą jaźń'],
      ['windows-1251', 'Проверка доставки'],
      ['KOI8-R', 'Проверка'],
      ['ISO-8859-15', 'Prix: 5 €'],
    ] as const) {
      expect(stand.encode(text, cs)).toEqual(real.encode(text, cs));
    }
  });

  it('pinned: every name iconv-lite knows either decodes all 256 bytes alike or is not available', () => {
    real.getCodec('utf8');
    const names = Object.keys(real.encodings ?? {}).filter((n) => !n.startsWith('_'));
    const unavailable: string[] = [];
    const differ: string[] = [];
    for (const n of names) {
      if (!stand.encodingExists(n)) {
        unavailable.push(n);
        continue;
      }
      // Double-byte and Unicode codecs are compared below; a single byte of one may begin a sequence.
      if (
        /^(utf|ucs|cp9[345]|9[345]\d|shift|sjis|euc|gb|big5|ks|korean|chinese|windows9|ms9|cs(shift|gb|ks|euc|big)|xgbk|xsjis|xxbig|cnbig|isoir(58|149)|mskanji|windows31j|ms31j|unicode11|cesu|base64|hex)/.test(
          n,
        )
      )
        continue;
      if (Object.keys(singleByteDiffs(n)).length > 0) differ.push(n);
    }
    // KOI8-U's and macintosh's aliases (above), and x-mac-cyrillic (Ґ ґ at 0xA2/0xB6 for ¢ ∂, € for ¤ at 0xFF).
    expect(differ.sort()).toMatchInlineSnapshot(`
      [
        "10007",
        "21866",
        "cp21866",
        "csmacintosh",
        "ibm1168",
        "koi8u",
        "mac",
        "maccyrillic",
        "macintosh",
        "macroman",
        "macukraine",
      ]
    `);
    expect(unavailable.sort()).toMatchInlineSnapshot(`
      [
        "10000",
        "10006",
        "10029",
        "10079",
        "10081",
        "1046",
        "1124",
        "1125",
        "1129",
        "1133",
        "1161",
        "1162",
        "1163",
        "437",
        "737",
        "775",
        "808",
        "850",
        "852",
        "855",
        "856",
        "857",
        "858",
        "860",
        "861",
        "862",
        "863",
        "864",
        "865",
        "869",
        "922",
        "armscii8",
        "cn",
        "cp1046",
        "cp1124",
        "cp1125",
        "cp1129",
        "cp1133",
        "cp1161",
        "cp1162",
        "cp1163",
        "cp437",
        "cp720",
        "cp737",
        "cp775",
        "cp808",
        "cp850",
        "cp852",
        "cp855",
        "cp856",
        "cp857",
        "cp858",
        "cp860",
        "cp861",
        "cp862",
        "cp863",
        "cp864",
        "cp865",
        "cp869",
        "cp922",
        "cpgr",
        "cshproman8",
        "csibm1046",
        "csibm1124",
        "csibm1125",
        "csibm1129",
        "csibm1133",
        "csibm1161",
        "csibm1162",
        "csibm1163",
        "csibm437",
        "csibm737",
        "csibm775",
        "csibm850",
        "csibm852",
        "csibm855",
        "csibm856",
        "csibm857",
        "csibm858",
        "csibm860",
        "csibm861",
        "csibm862",
        "csibm863",
        "csibm864",
        "csibm865",
        "csibm869",
        "csibm922",
        "csiso14jisc6220ro",
        "cspc775baltic",
        "cspc850multilingual",
        "cspc862latinhebrew",
        "cspc8codepage437",
        "cspcp852",
        "gb198880",
        "georgianacademy",
        "georgianps",
        "hproman8",
        "ibm1046",
        "ibm1051",
        "ibm1124",
        "ibm1125",
        "ibm1129",
        "ibm1133",
        "ibm1161",
        "ibm1162",
        "ibm1163",
        "ibm437",
        "ibm737",
        "ibm775",
        "ibm808",
        "ibm850",
        "ibm852",
        "ibm855",
        "ibm856",
        "ibm857",
        "ibm858",
        "ibm860",
        "ibm861",
        "ibm862",
        "ibm863",
        "ibm864",
        "ibm865",
        "ibm869",
        "ibm922",
        "iso646cn",
        "iso646jp",
        "isoir14",
        "isoir57",
        "jisc62201969ro",
        "jp",
        "koi8t",
        "maccenteuro",
        "maccroatian",
        "macgreek",
        "maciceland",
        "macromania",
        "macthai",
        "macturkish",
        "mik",
        "pt154",
        "r8",
        "rk1048",
        "roman8",
        "strk10482002",
        "tcvn",
        "tcvn5712",
        "tcvn57121",
        "viscii",
        "xroman8",
      ]
    `);
  });
});

/** Every two-byte sequence, split into those iconv-lite decodes to one character and the rest. */
function doubleByteDiffs(cs: string) {
  let valid = 0;
  const mapping: string[] = [];
  let recovery = 0;
  for (let a = 0x80; a < 0x100; a++) {
    for (let b = 0x30; b < 0x100; b++) {
      const buf = Buffer.from([a, b]);
      const r = real.decode(buf, cs);
      const s = stand.decode(buf, cs);
      if ([...r].length === 1 && r !== '\ufffd') {
        valid++;
        if (r !== s) mapping.push(`${bytesHex([a, b])}: ${hex(r)} / ${hex(s)}`);
      } else if (r !== s) recovery++;
    }
  }
  return { valid, mapping, recovery };
}

describe('iconv-lite stand-in: double-byte charsets', () => {
  it('GB2312 and Shift_JIS: every character iconv-lite decodes, alike; EUC-JP too', () => {
    for (const cs of ['GB2312', 'Shift_JIS', 'EUC-JP']) expect(doubleByteDiffs(cs).mapping, cs).toEqual([]);
  });

  it('pinned: GBK/GB18030 map 18 characters to their GB18030-2005 code points where iconv-lite has private use', () => {
    for (const cs of ['GBK', 'GB18030']) {
      const d = doubleByteDiffs(cs);
      expect(d.valid).toBe(23940);
      expect(d.mapping).toEqual([
        'a6d9: e78d / fe10',
        'a6da: e78e / fe12',
        'a6db: e78f / fe11',
        'a6dc: e790 / fe13',
        'a6dd: e791 / fe14',
        'a6de: e792 / fe15',
        'a6df: e793 / fe16',
        'a6ec: e794 / fe17',
        'a6ed: e795 / fe18',
        'a6f3: e796 / fe19',
        'fe59: e81e / 9fb4',
        'fe61: e826 / 9fb5',
        'fe66: e82b / 9fb6',
        'fe67: e82c / 9fb7',
        'fe6d: e832 / 9fb8',
        'fe7e: e843 / 9fb9',
        'fe90: e854 / 9fba',
        'fea0: e864 / 9fbb',
      ]);
    }
  });

  it('pinned: Big5 has no HKSCS (those 5,088 characters decode to private use), EUC-KR no UHC extension', () => {
    const big5 = doubleByteDiffs('Big5');
    expect(big5.mapping.length).toBe(5088);
    // All but one into the private use area (Node's ICU Big5 has no HKSCS); 0xF9FE is ▓ (ETEN) instead of ￭.
    expect(big5.mapping.filter((m) => !/ \/ [ef][0-9a-f]{3}$/.test(m))).toEqual(['f9fe: ffed / 2593']);
    const kr = doubleByteDiffs('EUC-KR');
    expect(kr.valid).toBe(17048);
    // The UHC (CP949) extension: lead 0x81–0xC6 with a trail below 0xA1 (Hangul syllables outside KS X 1001); Node's
    // ICU EUC-KR does not have it. KS X 1001 itself (lead and trail 0xA1–0xFE) is alike but for the two signs added
    // in 1998 (€ at 0xA2E6, ® at 0xA2E7), which ICU's table predates.
    expect(kr.mapping.length).toBe(8824);
    expect(
      kr.mapping.filter((m) => /^[a-f][0-9a-f][a-f][0-9a-f]:/.test(m) && !/^a0|^[a-f][0-9a-f]a0/.test(m)),
    ).toMatchInlineSnapshot(`
      [
        "a2e6: 20ac / fffd",
        "a2e7: 00ae / fffd",
      ]
    `);
  });

  it('pinned: how malformed and unassigned sequences are recovered from differs (counts)', () => {
    expect(
      Object.fromEntries(
        ['GB2312', 'GBK', 'GB18030', 'Big5', 'EUC-KR', 'Shift_JIS', 'EUC-JP'].map((cs) => [
          cs,
          doubleByteDiffs(cs).recovery,
        ]),
      ),
    ).toMatchInlineSnapshot(`
      {
        "Big5": 5892,
        "EUC-JP": 10971,
        "EUC-KR": 3619,
        "GB18030": 1386,
        "GB2312": 3535,
        "GBK": 1386,
        "Shift_JIS": 2265,
      }
    `);
  });

  it('decodes real text as iconv-lite does, in one piece and byte by byte', () => {
    const samples: [string, string][] = [
      ['GB2312', '投递测试：请确认收到这封邮件'],
      ['GBK', '投遞測試，確認收到'],
      ['GB18030', '投递测试 𠀀 ㈠'],
      ['Big5', '投遞測試，請確認收到這封郵件'],
      ['EUC-KR', '배달 테스트: 이 메일을 받았는지 확인'],
      ['Shift_JIS', 'テスト送信：日本語の件名（確認）ｶﾀｶﾅ'],
      ['EUC-JP', 'テスト送信：日本語の件名（確認）'],
      ['windows-1251', 'Проверка доставки'],
      ['ISO-8859-7', 'Δοκιμή παράδοσης'],
      ['windows-1256', 'اختبار التسليم'],
    ];
    for (const [cs, text] of samples) {
      const bytes = real.encode(text, cs);
      expect(stand.decode(bytes, cs), cs).toBe(real.decode(bytes, cs));
      expect(stand.decode(bytes, cs), cs).toBe(text);
      const d = stand.getDecoder(cs);
      let streamed = '';
      for (const b of bytes) streamed += d.write(Buffer.from([b]));
      streamed += d.end() ?? '';
      expect(streamed, `${cs} byte by byte`).toBe(text);
    }
  });

  it('encoding into a double-byte charset is not in the stand-in (it says so)', () => {
    expect(() => stand.encode('投递', 'GBK')).toThrow(/encoding into .* is not in this function bundle/);
  });
});

describe('iconv-lite stand-in: the codecs it takes from iconv-lite itself', () => {
  it('UTF-8, UTF-16 (BOM, no BOM: guessed), UTF-32, base64, hex decode alike', () => {
    const text = 'Grüße 日本 𝄞';
    const inputs: [string, Buffer][] = [
      ['utf-8', Buffer.from(`\ufeff${text}`, 'utf8')],
      ['utf-8', Buffer.from([0x61, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xf0, 0x9f])],
      ['utf-16', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
      ['utf-16', Buffer.from(text, 'utf16le').swap16()],
      ['utf-16', Buffer.from('ascii text', 'utf16le')],
      ['utf-16le', Buffer.from(text, 'utf16le')],
      ['utf-16be', Buffer.from(text, 'utf16le').swap16()],
      ['ucs-2', Buffer.from(text, 'utf16le')],
      ['utf-32', real.encode(text, 'utf-32')],
      ['utf-32le', real.encode(text, 'utf-32le')],
      ['utf-32be', Buffer.from([0, 0, 0, 0x41, 0, 0x11, 0, 0])],
      ['base64', Buffer.from('aGVsbG8=')],
      ['hex', Buffer.from('68656c6c6f')],
      ['binary', Buffer.from([0x80, 0xff])],
    ];
    for (const [cs, buf] of inputs) expect(stand.decode(buf, cs), cs).toBe(real.decode(buf, cs));
  });

  it('IMAP’s modified UTF-7 (mailbox names, imapflow) encodes and decodes alike', () => {
    for (const name of [
      'INBOX',
      'Junk E-mail',
      'Courrier indésirable',
      'Correo no deseado',
      '迷惑メール',
      'A&B',
      '~peter/mail/台北/日本語',
    ]) {
      const encoded = real.encode(name, 'utf-7-imap');
      expect(stand.encode(name, 'utf-7-imap')).toEqual(encoded);
      expect(stand.decode(encoded, 'utf-7-imap')).toBe(name);
    }
  });

  it('gives libmime what it asks for at load: codec identity, one decoder for all double-byte codecs', () => {
    expect(stand.getCodec('utf7')).toBe(stand.getCodec('unicode-1-1-utf-7'));
    expect(stand.getCodec('utf-16')).toBe(stand.getCodec('UTF16'));
    expect(stand.getCodec('gbk').decoder).toBe(stand.getCodec('big5').decoder);
    expect(stand.getCodec('gbk').decoder).not.toBe(stand.getCodec('windows-1252').decoder);
    expect(() => stand.getCodec('x-unknown-charset')).toThrow(/Encoding not recognized/);
    expect(stand.encodingExists('x-unknown-charset')).toBe(real.encodingExists('x-unknown-charset'));
  });
});

describe('encoding-japanese stand-in', () => {
  const conv = (lib: EncodingJapanese, buf: Buffer, from: string) => {
    try {
      return lib.convert(buf, { to: 'UNICODE', from, type: 'string' }) as string;
    } catch (err) {
      return `throws: ${(err as Error).message}`;
    }
  };
  /** Every cell: alike, or iconv-lite's `?` for an unassigned one against U+FFFD, or another difference. */
  function cells(from: string, frame: (a: number, b: number) => Buffer | null) {
    const other: string[] = [];
    let n = 0;
    let unassigned = 0;
    for (let a = 0x21; a < 0x100; a++) {
      for (let b = 0x21; b < 0x100; b++) {
        const buf = frame(a, b);
        if (!buf) continue;
        n++;
        const r = conv(realJp, buf, from);
        const s = conv(standJp, buf, from);
        if (r === s) continue;
        if (r.includes('?') && s.includes('\ufffd') && r.replace(/\?/g, '') === s.replace(/\ufffd/g, '')) unassigned++;
        else other.push(`${bytesHex([a, b])}: ${hex(r)} / ${hex(s)}`);
      }
    }
    return { n, unassigned, other };
  }

  it('pinned: ISO-2022-JP and EUC-JP over every JIS X 0208 cell', () => {
    const jis = cells('ISO-2022-JP', (a, b) =>
      a < 0x7f && b < 0x7f ? Buffer.from([0x1b, 0x24, 0x42, a, b, 0x1b, 0x28, 0x42]) : null,
    );
    const euc = cells('EUCJP', (a, b) =>
      a >= 0xa1 && a <= 0xfe && b >= 0xa1 && b <= 0xfe ? Buffer.from([a, b]) : null,
    );
    expect({
      jis: { ...jis, other: jis.other.length },
      euc: { ...euc, other: euc.other.length },
    }).toMatchInlineSnapshot(`
      {
        "euc": {
          "n": 8836,
          "other": 10,
          "unassigned": 1500,
        },
        "jis": {
          "n": 8836,
          "other": 10,
          "unassigned": 1500,
        },
      }
    `);
    expect([...jis.other.slice(0, 20), ...euc.other.slice(0, 20)]).toMatchInlineSnapshot(`
      [
        "2d70: 003f / 2252",
        "2d71: 003f / 2261",
        "2d72: 003f / 222b",
        "2d75: 003f / 221a",
        "2d76: 003f / 22a5",
        "2d77: 003f / 2220",
        "2d7a: 003f / 2235",
        "2d7b: 003f / 2229",
        "2d7c: 003f / 222a",
        "7c7b: 003f / ffe2",
        "adf0: 003f / 2252",
        "adf1: 003f / 2261",
        "adf2: 003f / 222b",
        "adf5: 003f / 221a",
        "adf6: 003f / 22a5",
        "adf7: 003f / 2220",
        "adfa: 003f / 2235",
        "adfb: 003f / 2229",
        "adfc: 003f / 222a",
        "fcfb: 003f / ffe2",
      ]
    `);
  });

  it('pinned: Shift_JIS over every pair', () => {
    const sjis = cells('SJIS', (a, b) =>
      a >= 0x81 && a <= 0xfc && b >= 0x40 && b <= 0xfc ? Buffer.from([a, b]) : null,
    );
    expect({ ...sjis, other: sjis.other.length }).toMatchInlineSnapshot(`
      {
        "n": 23436,
        "other": 2130,
        "unassigned": 5644,
      }
    `);
    expect(sjis.other.slice(0, 20)).toMatchInlineSnapshot(`
      [
        "817f: 003f / fffd 001a",
        "827f: 003f / fffd 001a",
        "837f: 003f / fffd 001a",
        "847f: 003f / fffd 001a",
        "857f: 003f / fffd 001a",
        "867f: 003f / fffd 001a",
        "877f: 003f / fffd 001a",
        "887f: 003f / fffd 001a",
        "897f: 003f / fffd 001a",
        "8a7f: 003f / fffd 001a",
        "8b7f: 003f / fffd 001a",
        "8c7f: 003f / fffd 001a",
        "8d7f: 003f / fffd 001a",
        "8e7f: 003f / fffd 001a",
        "8f7f: 003f / fffd 001a",
        "907f: 003f / fffd 001a",
        "917f: 003f / fffd 001a",
        "927f: 003f / fffd 001a",
        "937f: 003f / fffd 001a",
        "947f: 003f / fffd 001a",
      ]
    `);
  });

  it('decodes Japanese text the real library encoded, in all three charsets, alike', () => {
    // (no U+2212 MINUS SIGN: encoding-japanese writes it as JIS 0x215D, which both read back as U+FF0D)
    const text = 'テスト送信: 日本語の件名（確認）ｶﾀｶﾅ ①②③ ～ ＼';
    const codes = realJp.stringToCode!(text);
    for (const enc of ['JIS', 'ISO-2022-JP', 'EUCJP', 'SJIS']) {
      const bytes = Buffer.from(realJp.convert(codes, { to: enc, from: 'UNICODE' }) as number[]);
      expect(conv(standJp, bytes, enc), enc).toBe(conv(realJp, bytes, enc));
      expect(conv(standJp, bytes, enc), enc).toBe(text);
    }
  });

  it('anything but a decode to a string throws (its callers fall back)', () => {
    expect(() => standJp.convert([0x41], { to: 'SJIS', from: 'UNICODE' })).toThrow(/not in this function bundle/);
    expect(() => standJp.convert([0x41], { to: 'UNICODE', from: 'AUTO', type: 'string' })).toThrow(
      /not in this function bundle/,
    );
    expect(() => (standJp as unknown as { detect(b: number[]): unknown }).detect([0x41])).toThrow(
      /not in this function bundle/,
    );
  });
});

describe("the confirm bundle's libmime (imapflow's copy) with the stand-ins", () => {
  it('decodes MIME words and charset streams as with the real packages', async () => {
    const entry = `
      import libmime from 'libmime';
      export { libmime };
    `;
    const dir = mkdtempSync(join(tmpdir(), 'relaywatch-libmime-'));
    const built = async (alias: Record<string, string>, file: string) => {
      const r = await build({
        banner: BUNDLING.banner,
        stdin: { contents: entry, resolveDir: new URL('../../../node_modules/imapflow/', import.meta.url).pathname },
        bundle: true,
        format: 'esm',
        platform: 'node',
        write: false,
        alias,
        logLevel: 'silent',
      });
      writeFileSync(join(dir, file), r.outputFiles[0]!.text);
      return ((await import(pathToFileURL(join(dir, file)).href)) as { libmime: { decodeWords(s: string): string } })
        .libmime;
    };
    const confirmAliases = bundleAliases('confirm');
    expect(confirmAliases['iconv-lite']).toMatch(/iconv-lite-textdecoder\.cjs$/);
    const [withStandIns, withReal] = await Promise.all([built(confirmAliases, 'stand-ins.mjs'), built({}, 'real.mjs')]);
    const words = [
      '=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=',
      '=?iso-8859-1?q?caf=E9?=',
      '=?windows-1252?Q?=93quoted=94?=',
      '=?KOI8-R?B?8NLP18XSy8E=?=',
      '=?gb2312?B?suLK1A==?=',
      '=?Big5?B?tPq41Q==?=',
      '=?EUC-KR?B?xde9usau?=',
      '=?Shift_JIS?B?g2WDWINn?=',
      '=?utf-8?q?Gr=C3=BC=C3=9Fe?=',
      '=?utf-7?q?+ADw-script+AD4-?=',
      '=?x-unknown?q?abc?=',
    ];
    try {
      for (const w of words) expect(withStandIns.decodeWords(w), w).toBe(withReal.decodeWords(w));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
