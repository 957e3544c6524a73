/**
 * iconv-lite (0.7.x) for the confirmation bundles (CHARSET_STAND_INS in cdk/constructs/monitor-function.ts): the same
 * API, with iconv-lite's own code for everything but the legacy charset tables. Those tables (single- and double-byte
 * code pages, about 480 KB of bundle) are replaced by Node's TextDecoder (WHATWG Encoding, full ICU in Node 24):
 *
 * - iconv-lite's own modules, unchanged: the Unicode codecs (UTF-8, CESU-8, UTF-16/UCS-2, UTF-32, UTF-7 and IMAP's
 *   modified UTF-7, which imapflow needs for mailbox names), latin1/binary, base64, hex, BOM handling, the streams.
 * - TextDecoder: every legacy charset WHATWG defines (ISO-8859-2…16, windows-874 and 1250…1258, KOI8-R/U, IBM866,
 *   Macintosh, x-mac-cyrillic, Shift_JIS, EUC-JP, GBK/GB2312, GB18030, Big5, EUC-KR), under iconv-lite's names and
 *   aliases (the table below). ISO-8859-1 and its aliases are latin1 (WHATWG reads that label as windows-1252).
 * - Not available: the code pages WHATWG lacks (DOS code pages but 866, the rarer Mac and national ones: `getCodec`
 *   throws "Encoding not recognized", as iconv-lite does for a name it does not know, and callers treat the charset as
 *   unknown), and encoding into a legacy charset (the confirmation paths decode; imapflow encodes only UTF-7-IMAP).
 *
 * test/unit/confirm/charset-stand-ins.test.ts compares this module with the real iconv-lite over the charsets mail
 * uses and pins every difference (listed in docs/dependencies.md, "The Lambda bundles").
 *
 * The API functions below are iconv-lite's lib/index.js (0.7.3) with the encodings table replaced. iconv-lite's
 * licence:
 *
 * Copyright (c) 2011 Alexander Shtuchkin
 *
 * Permission is hereby granted, free of charge, to any person obtaining
 * a copy of this software and associated documentation files (the
 * "Software"), to deal in the Software without restriction, including
 * without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to
 * permit persons to whom the Software is furnished to do so, subject to
 * the following conditions:
 *
 * The above copyright notice and this permission notice shall be
 * included in all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
 * EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 * MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 * NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
 * LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
 * OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
 * WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 */
'use strict';

// Relative paths on purpose: the bundle's alias maps `iconv-lite` (and its subpaths) to this file.
const { Buffer } = require('../../node_modules/safer-buffer/safer.js');
const bomHandling = require('../../node_modules/iconv-lite/lib/bom-handling.js');
const mergeModules = require('../../node_modules/iconv-lite/lib/helpers/merge-exports.js');

const { _sbcs: SBCSCodec } = require('../../node_modules/iconv-lite/encodings/sbcs-codec.js');

/**
 * A single-byte charset: iconv-lite's own single-byte codec, its table (256 characters) read from TextDecoder at first
 * use. `c1` says how bytes 0x80–0x9F differ between the WHATWG reading and iconv-lite's tables, so that the table is
 * iconv-lite's: `undefined`, the windows code pages, where WHATWG passes an unassigned byte through as the C1 control
 * and iconv-lite decodes U+FFFD; `control`, ISO-8859-9 and ISO-8859-11, which WHATWG reads as windows-1254 and
 * windows-874 and iconv-lite as the ISO tables (C1 controls); `tis620`, which has nothing at 0x80–0xA0.
 */
function WhatwgSbcsCodec(codecOptions, iconv) {
  const decoder = new TextDecoder(codecOptions.label);
  let chars = '';
  for (let b = 0; b < 256; b++) {
    let c = decoder.decode(Uint8Array.of(b));
    if (codecOptions.c1 === 'control' && b >= 0x80 && b <= 0x9f) c = String.fromCharCode(b);
    else if (codecOptions.c1 === 'undefined' && b >= 0x80 && b <= 0x9f && c.charCodeAt(0) === b) c = '\ufffd';
    else if (codecOptions.c1 === 'tis620' && b >= 0x80 && b <= 0xa0) c = '\ufffd';
    chars += c;
  }
  return new SBCSCodec({ ...codecOptions, chars }, iconv);
}

/** A double-byte charset decoded by TextDecoder (`label`: its WHATWG name). Decode only. */
function WhatwgDbcsCodec(codecOptions) {
  this.label = codecOptions.label;
  this.encodingName = codecOptions.encodingName;
  // Fails here, as iconv-lite fails on a table it cannot load, if this Node has no such decoder.
  new TextDecoder(this.label);
}
// iconv-lite gives all its double-byte codecs one decoder class (libmime tells them apart by it), and so does this.
WhatwgDbcsCodec.prototype.decoder = WhatwgDbcsDecoder;
WhatwgDbcsCodec.prototype.encoder = WhatwgDbcsEncoder;

function WhatwgDbcsEncoder(_options, codec) {
  throw new Error(
    `iconv-lite stand-in: encoding into ${codec.encodingName} is not in this function bundle (TextDecoder decodes only)`,
  );
}

function WhatwgDbcsDecoder(_options, codec) {
  this.decoder = new TextDecoder(codec.label);
}
WhatwgDbcsDecoder.prototype.write = function (buf) {
  return this.decoder.decode(buf, { stream: true });
};
WhatwgDbcsDecoder.prototype.end = function () {
  return this.decoder.decode();
};

/** WHATWG label → iconv-lite's canonical names (lower case, alphanumerics only) that decode with it. */
const WHATWG = {
  'iso-8859-2': ['iso88592', 'latin2', 'l2', 'csisolatin2', 'isoir101', 'cp28592', '28592'],
  'iso-8859-3': ['iso88593', 'latin3', 'l3', 'csisolatin3', 'isoir109', 'cp28593', '28593'],
  'iso-8859-4': ['iso88594', 'latin4', 'l4', 'csisolatin4', 'isoir110', 'cp28594', '28594'],
  'iso-8859-5': ['iso88595', 'cyrillic', 'csisolatincyrillic', 'isoir144', 'cp28595', '28595'],
  'iso-8859-6': [
    'iso88596',
    'arabic',
    'arabic8',
    'csisolatinarabic',
    'isoir127',
    'ecma114',
    'asmo708',
    'cp28596',
    '28596',
  ],
  'iso-8859-7': [
    'iso88597',
    'greek',
    'greek8',
    'csisolatingreek',
    'isoir126',
    'ecma118',
    'elot928',
    'cp28597',
    '28597',
  ],
  'iso-8859-8': ['iso88598', 'hebrew', 'hebrew8', 'csisolatinhebrew', 'isoir138', 'cp28598', '28598', 'iso88598e'],
  'iso-8859-8-i': ['iso88598i'],
  'iso-8859-10': ['iso885910', 'latin6', 'l6', 'csisolatin6', 'isoir157', 'cp28600', '28600'],
  'iso-8859-13': ['iso885913', 'latin7', 'l7', 'isoir179', 'cp28603', '28603'],
  'iso-8859-14': ['iso885914', 'latin8', 'l8', 'isoir199', 'celtic', 'celtic8', 'isoceltic', 'cp28604', '28604'],
  'iso-8859-15': ['iso885915', 'latin9', 'l9', 'isoir203', 'cp28605', '28605'],
  'iso-8859-16': ['iso885916', 'latin10', 'l10', 'isoir226', 'cp28606', '28606'],
  'windows-874': ['windows874', 'win874', 'cp874', '874'],
  'windows-1250': ['windows1250', 'win1250', 'cp1250', '1250', 'msee'],
  'windows-1251': ['windows1251', 'win1251', 'cp1251', '1251', 'mscyrl'],
  'windows-1252': ['windows1252', 'win1252', 'cp1252', '1252', 'msansi'],
  'windows-1253': ['windows1253', 'win1253', 'cp1253', '1253', 'msgreek'],
  'windows-1254': ['windows1254', 'win1254', 'cp1254', '1254', 'msturk'],
  'windows-1255': ['windows1255', 'win1255', 'cp1255', '1255', 'mshebr'],
  'windows-1256': ['windows1256', 'win1256', 'cp1256', '1256', 'msarab'],
  'windows-1257': ['windows1257', 'win1257', 'cp1257', '1257', 'winbaltrim'],
  'windows-1258': ['windows1258', 'win1258', 'cp1258', '1258'],
  'koi8-r': ['koi8r', 'cskoi8r', 'cp20866', '20866', 'ibm878'],
  'koi8-u': ['koi8u', 'koi8ru', 'cp21866', '21866', 'ibm1168'],
  ibm866: ['cp866', 'ibm866', 'csibm866', '866'],
  macintosh: ['macintosh', 'mac', 'csmacintosh', 'macroman'],
  'x-mac-cyrillic': ['maccyrillic', 'macukraine', '10007'],
};
const WHATWG_DBCS = {
  shift_jis: [
    'shiftjis',
    'csshiftjis',
    'mskanji',
    'sjis',
    'windows31j',
    'ms31j',
    'xsjis',
    'windows932',
    'ms932',
    'cp932',
    '932',
  ],
  'euc-jp': ['eucjp'],
  gbk: [
    'gbk',
    'xgbk',
    'isoir58',
    'gb2312',
    'gb231280',
    'gb23121980',
    'csgb2312',
    'csiso58gb231280',
    'euccn',
    'windows936',
    'ms936',
    'cp936',
    '936',
  ],
  gb18030: ['gb18030', 'chinese'],
  big5: ['big5', 'big5hkscs', 'cnbig5', 'csbig5', 'xxbig5', 'windows950', 'ms950', 'cp950', '950'],
  'euc-kr': [
    'euckr',
    'cseuckr',
    'windows949',
    'ms949',
    'cp949',
    '949',
    'csksc56011987',
    'isoir149',
    'korean',
    'ksc56011987',
    'ksc56011989',
    'ksc5601',
  ],
};

/** Single-byte charsets WHATWG reads under another label, and how iconv-lite's table differs (WhatwgSbcsCodec). */
const WHATWG_AS = {
  iso88599: [
    'windows-1254',
    'control',
    ['latin5', 'l5', 'csisolatin5', 'isoir148', 'turkish', 'turkish8', 'cp28599', '28599'],
  ],
  iso885911: ['windows-874', 'control', ['cp28601', '28601', 'thai', 'thai8']],
  tis620: ['windows-874', 'tis620', ['tis6200', 'tis62025291', 'tis62025330', 'isoir166']],
};

function legacyEncodings() {
  const out = {};
  for (const [label, names] of Object.entries(WHATWG)) {
    const key = `_whatwg_${label}`;
    out[key] = { type: '_whatwg_sbcs', label, c1: label.startsWith('windows-') ? 'undefined' : 'keep' };
    for (const n of names) out[n] = key;
  }
  for (const [name, [label, c1, aliases]] of Object.entries(WHATWG_AS)) {
    out[name] = { type: '_whatwg_sbcs', label, c1 };
    for (const n of aliases) out[n] = name;
  }
  for (const [label, names] of Object.entries(WHATWG_DBCS)) {
    const key = `_whatwg_${label}`;
    out[key] = { type: '_whatwg_dbcs', label };
    for (const n of names) out[n] = key;
  }
  // US-ASCII: iconv-lite's table (ASCII, U+FFFD for every byte above 0x7F).
  out.ascii = { type: '_sbcs', chars: '\ufffd'.repeat(128) };
  for (const n of [
    'ascii8bit',
    'usascii',
    'ansix34',
    'ansix341968',
    'ansix341986',
    'csascii',
    'cp367',
    'ibm367',
    'isoir6',
    'iso646us',
    'iso646irv',
    'us',
  ]) {
    out[n] = 'ascii';
  }
  // ISO-8859-1 is latin1 (iconv-lite's table for it is byte = code point, as Node's latin1 is).
  for (const n of ['iso88591', 'latin1', 'l1', 'csisolatin1', 'isoir100', 'cp819', 'ibm819', 'cp28591', '28591']) {
    out[n] = 'binary';
  }
  return out;
}

const iconv = module.exports;

iconv.encodings = null;
iconv.defaultCharUnicode = '\ufffd';
iconv.defaultCharSingleByte = '?';

// iconv-lite's lib/index.js from here on, but for the encodings it loads.
iconv.encode = function encode(str, encoding, options) {
  str = `${str || ''}`;
  const encoder = iconv.getEncoder(encoding, options);
  const res = encoder.write(str);
  const trail = encoder.end();
  return trail && trail.length > 0 ? Buffer.concat([res, trail]) : res;
};

iconv.decode = function decode(buf, encoding, options) {
  if (typeof buf === 'string') {
    // iconv-lite warns once on the console here; the stand-in keeps the conversion and leaves out the warning.
    buf = Buffer.from(`${buf || ''}`, 'binary');
  }
  const decoder = iconv.getDecoder(encoding, options);
  const res = decoder.write(buf);
  const trail = decoder.end();
  return trail ? res + trail : res;
};

iconv.encodingExists = function encodingExists(enc) {
  try {
    iconv.getCodec(enc);
    return true;
  } catch {
    return false;
  }
};

iconv.toEncoding = iconv.encode;
iconv.fromEncoding = iconv.decode;

iconv._codecDataCache = { __proto__: null };

iconv.getCodec = function getCodec(encoding) {
  if (!iconv.encodings) {
    iconv.encodings = { __proto__: null };
    mergeModules(iconv.encodings, require('../../node_modules/iconv-lite/encodings/internal.js'));
    mergeModules(iconv.encodings, require('../../node_modules/iconv-lite/encodings/utf32.js'));
    mergeModules(iconv.encodings, require('../../node_modules/iconv-lite/encodings/utf16.js'));
    mergeModules(iconv.encodings, require('../../node_modules/iconv-lite/encodings/utf7.js'));
    mergeModules(iconv.encodings, {
      _sbcs: SBCSCodec,
      _whatwg_sbcs: WhatwgSbcsCodec,
      _whatwg_dbcs: WhatwgDbcsCodec,
      ...legacyEncodings(),
    });
  }
  let enc = iconv._canonicalizeEncoding(encoding);
  const codecOptions = {};
  while (true) {
    let codec = iconv._codecDataCache[enc];
    if (codec) return codec;
    const codecDef = iconv.encodings[enc];
    switch (typeof codecDef) {
      case 'string':
        enc = codecDef;
        break;
      case 'object':
        for (const key in codecDef) codecOptions[key] = codecDef[key];
        if (!codecOptions.encodingName) codecOptions.encodingName = enc;
        enc = codecDef.type;
        break;
      case 'function':
        if (!codecOptions.encodingName) codecOptions.encodingName = enc;
        codec = new codecDef(codecOptions, iconv);
        iconv._codecDataCache[codecOptions.encodingName] = codec;
        return codec;
      default:
        throw new Error(`Encoding not recognized: '${encoding}' (searched as: '${enc}')`);
    }
  }
};

iconv._canonicalizeEncoding = (encoding) => `${encoding}`.toLowerCase().replace(/:\d{4}$|[^0-9a-z]/g, '');

iconv.getEncoder = function getEncoder(encoding, options) {
  const codec = iconv.getCodec(encoding);
  let encoder = new codec.encoder(options, codec);
  if (codec.bomAware && options?.addBOM) encoder = new bomHandling.PrependBOM(encoder, options);
  return encoder;
};

iconv.getDecoder = function getDecoder(encoding, options) {
  const codec = iconv.getCodec(encoding);
  let decoder = new codec.decoder(options, codec);
  if (codec.bomAware && options?.stripBOM !== false) decoder = new bomHandling.StripBOM(decoder, options);
  return decoder;
};

const streams = require('../../node_modules/iconv-lite/lib/streams.js')(require('node:stream'));
iconv.IconvLiteEncoderStream = streams.IconvLiteEncoderStream;
iconv.IconvLiteDecoderStream = streams.IconvLiteDecoderStream;
iconv.encodeStream = (encoding, options) =>
  new iconv.IconvLiteEncoderStream(iconv.getEncoder(encoding, options), options);
iconv.decodeStream = (encoding, options) =>
  new iconv.IconvLiteDecoderStream(iconv.getDecoder(encoding, options), options);
iconv.supportsStreams = true;
iconv.enableStreamingAPI = () => {};
