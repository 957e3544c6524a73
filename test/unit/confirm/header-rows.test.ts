/**
 * shared/confirm/header-rows.ts is a copy of mailauth's `parseHeaders` (so the confirmation bundles need not load
 * mailauth/lib/tools.js with libmime, tldts and joi): it must split every header block exactly as mailauth does.
 * Both run on a corpus of header blocks (the Exchange Online and SES shapes of the other confirmation tests, the
 * stored SES probe, hand-written edge cases of folding, line endings, 8-bit bytes and odd field names) and on
 * blocks assembled at random from those pieces (seeded, so a failure repeats), and must give the same rows: key,
 * cased key and the bytes of the line.
 */
import { readFileSync } from 'node:fs';
import { parseHeaders } from 'mailauth/lib/tools.js';
import { describe, expect, it } from 'vitest';
import { parseHeaderRows } from '../../../shared/confirm/header-rows.ts';
import { mulberry32 } from '../../support/prng.ts';
import * as exo from './exo-headers.ts';

const probe = readFileSync(new URL('../../fixtures/confirm/ses-inbound-probe.eml', import.meta.url));

/** The header block of a message (up to the first empty line), as bytes. */
function headOf(message: Buffer): Buffer {
  const text = message.toString('binary');
  const end = text.search(/\r?\n\r?\n/);
  return Buffer.from(end < 0 ? text : text.slice(0, end), 'binary');
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

const EDGE_CASES: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  'only line breaks': latin1('\r\n\r\n\n'),
  'one field, no line break': latin1('Subject: x'),
  'CRLF folds': latin1('Subject: a\r\n b\r\n\tc\r\nTo: <x@y.example>\r\n'),
  'LF only': latin1('Subject: a\n b\nTo: x\n'),
  'mixed CRLF and LF': latin1('Subject: a\r\n b\nTo: x\r\nFrom: y\n\tz\r\n'),
  'bare CR inside a line': latin1('Subject: a\rb\r\nTo: x\r\n'),
  'trailing CRs and LFs': latin1('Subject: a\r\n\r\r\n\n'),
  'fold between name and colon': latin1('From\r\n : <a@b.example>\r\nTo: x\r\n'),
  'fold between name and colon, below another field': latin1('To: x\r\nFrom\r\n\t: <a@b.example>\r\nSubject: y\r\n'),
  'blanks before the colon': latin1('Subject \t: spaced\r\nTo:x\r\n'),
  'first line is a continuation': latin1(' leading: blank\r\nSubject: x\r\n'),
  'line that is no field': latin1('Subject: x\r\nnot a field\r\nTo: y\r\n'),
  'row starting with a colon': latin1(': no name\r\nSubject: x\r\n'),
  'colon alone': latin1(':\r\n'),
  'empty line inside': latin1('Subject: x\r\n\r\nTo: y\r\n'),
  'latin-1 bytes in a value': latin1('Subject: caf\xe9 cr\xe8me\r\nTo: x\r\n'),
  'UTF-8 in a value': utf8('Subject: Grüße, 日本語\r\nTo: x\r\n'),
  'UTF-8 NBSP starting a line': Buffer.concat([latin1('Subject: a\r\n'), Buffer.from([0xc2, 0xa0]), latin1('b\r\n')]),
  'ideographic space starting a line': Buffer.concat([latin1('Subject: a\r\n'), utf8('\u3000b\r\n')]),
  '8-bit byte in a field name': latin1('X-Caf\xe9: v\r\nSubject: x\r\n'),
  'non-ASCII first field name': utf8('Ünïcode-Name: v\r\nSubject: x\r\n'),
  'Kelvin sign and dotted I in a name': utf8('\u212Aey: v\r\nİd: w\r\n'),
  'upper-case names': latin1('MESSAGE-ID: <A@B>\r\nX-RelayWatch-Probe: tenant=t; probe=p\r\n'),
  'obsolete syntax, tab before colon': latin1('Received\t: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n'),
  'encoded words': latin1('Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?utf-8?q?caf=C3=A9?=\r\n'),
  'NUL and control bytes': latin1('Subject: a\x00b\x01\r\nX-Y: \x7f\r\n'),
  'long folded Received': latin1(
    `Received: from ${'a'.repeat(900)}.example\r\n by mx.example with ESMTPS id 1\r\n for <p@probes.example>;\r\n Fri, 27 Nov 2026 18:00:41 +0000\r\n`,
  ),
};

const CORPUS: [string, Buffer][] = [
  ['ses-inbound-probe.eml', headOf(probe)],
  [
    'ses-inbound-probe.eml, LF line ends',
    headOf(Buffer.from(probe.toString('binary').replace(/\r\n/g, '\n'), 'binary')),
  ],
  ...Object.entries(exo)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([name, text]): [string, Buffer] => [`exo-headers ${name}`, utf8(exo.block(text))]),
  ['exo-headers EHA as is', utf8(exo.EHA_ALL_PASS_DKIM_FAIL)],
  ...Object.entries(EDGE_CASES),
];

/** A seeded generator (mulberry32), so a failing random block is the same on every run. */
const random = mulberry32;

const PIECES = [
  'Subject: x',
  'From: <a@b.example>',
  ' folded',
  '\tfolded by tab',
  'X-Relaywatch-Probe: tenant=t; probe=p',
  'no field here',
  ': odd',
  '',
  'Name : v',
  'Name',
  ' : after fold',
  'caf\xe9: latin-1 name',
  '\xc2\xa0nbsp line',
  'Authentication-Results: spf=pass (sender IP is 40.107.93.132) smtp.mailfrom=a.example',
  'K\xe2\x84\xaa: kelvin bytes',
  '=?utf-8?b?w6k=?=',
];
const BREAKS = ['\r\n', '\n', '\r', '\r\r\n', '\n\n'];

function randomBlock(next: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  let s = '';
  const lines = 1 + Math.floor(next() * 8);
  for (let i = 0; i < lines; i++) s += pick(PIECES) + pick(BREAKS);
  return Buffer.from(next() < 0.5 ? s : s.trimEnd(), 'binary');
}

/** A row as plain data, to compare the two parsers' results with toEqual. */
function rowsOf(rows: readonly { key: string | null; casedKey?: string | undefined; line: Buffer }[]) {
  return rows.map((r) => ({ key: r.key, casedKey: r.casedKey, line: r.line.toString('hex') }));
}

describe("header rows: the copy of mailauth's parseHeaders", () => {
  it.each(CORPUS)('splits %s exactly as mailauth does', (_name, buf) => {
    const ours = parseHeaderRows(buf);
    const theirs = parseHeaders(buf);
    expect(rowsOf(ours.parsed)).toEqual(rowsOf(theirs.parsed));
    expect(ours.original).toBe(buf);
  });

  it('splits 5,000 random blocks of those pieces exactly as mailauth does', () => {
    const next = random(20261202);
    for (let i = 0; i < 5000; i++) {
      const buf = randomBlock(next);
      expect(rowsOf(parseHeaderRows(buf).parsed), JSON.stringify(buf.toString('binary'))).toEqual(
        rowsOf(parseHeaders(buf).parsed),
      );
    }
  });

  it('the corpus exercises what the split decides: folds, non-fields, null keys, 8-bit names', () => {
    const rows = CORPUS.flatMap(([, buf]) => parseHeaderRows(buf).parsed);
    expect(rows.some((r) => r.key === null)).toBe(true);
    expect(rows.some((r) => r.line.includes('\r\n '))).toBe(true);
    expect(rows.some((r) => r.key === 'from' && /^From\r\n[ \t]+:/.test(r.line.toString('binary')))).toBe(true);
    expect(rows.some((r) => r.key !== null && /[\x80-\uffff]/.test(r.key))).toBe(true);
    expect(rows.some((r) => r.key === 'subject' && r.line.includes(Buffer.from([0xc2, 0xa0])))).toBe(true);
  });
});
