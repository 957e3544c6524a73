/**
 * encoding-japanese for the confirmation bundles (CHARSET_STAND_INS in cdk/constructs/monitor-function.ts): the one
 * call libmime and imapflow make, `convert(bytes, { to: 'UNICODE', from, type: 'string' })` for the charsets iconv-lite
 * lacks (ISO-2022-JP/JIS, EUC-JP, and Shift_JIS in imapflow's decoder), done by Node's TextDecoder (WHATWG
 * iso-2022-jp, euc-jp, shift_jis; UTF-8 and UTF-16 as well). Both callers catch an error and fall back (to iconv-lite
 * or to the raw bytes), so anything else (another target, another result type, detection with `AUTO`, `detect()`,
 * the other helpers) throws. test/unit/confirm/charset-stand-ins.test.ts compares it with the real encoding-japanese
 * and pins every difference (listed in docs/dependencies.md, "The Lambda bundles").
 */
'use strict';

/** encoding-japanese's names (upper case, alphanumerics only) → the WHATWG label that decodes them. */
function labelOf(from) {
  const name = `${from}`.toUpperCase().replace(/[^A-Z0-9]+/g, '');
  if (/^(JIS|ISO2022JP)/.test(name)) return 'iso-2022-jp';
  if (/^EUC/.test(name)) return 'euc-jp';
  if (/^(SJIS|SHIFTJIS|XSJIS|CP932|MSKANJI|WINDOWS31J)/.test(name)) return 'shift_jis';
  if (name === 'UTF8') return 'utf-8';
  if (name === 'UTF16BE' || name === 'UCS2') return 'utf-16be';
  if (name === 'UTF16LE') return 'utf-16le';
  return null;
}

function unsupported(what) {
  return new Error(`encoding-japanese stand-in: ${what} is not in this function bundle (TextDecoder decodes only)`);
}

function convert(data, to, from) {
  let type;
  if (to !== null && typeof to === 'object') {
    type = to.type;
    from = to.from;
    to = to.to;
  }
  if (`${to}`.toUpperCase() !== 'UNICODE' || `${type}`.toLowerCase() !== 'string') {
    throw unsupported(`convert() to ${to} as ${type}`);
  }
  const label = labelOf(from);
  if (label === null) throw unsupported(`convert() from ${from}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data == null ? new Uint8Array(0) : data;
  return new TextDecoder(label).decode(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
}

module.exports = new Proxy(
  { convert },
  {
    get(target, key) {
      if (key in target || typeof key === 'symbol' || key === '__esModule' || key === 'then') return target[key];
      return () => {
        throw unsupported(String(key));
      };
    },
  },
);
