// biome-ignore-all lint/suspicious/noAssignInExpressions: libmime's code as it is, so it stays comparable with the original
'use strict';
/**
 * libmime in the worker bundle: mailauth's SPF entry calls only `libmime.foldLines(header, 160)` for the Received-SPF
 * header it formats (mailauth's tools call it for DKIM signature headers, never on the SPF path). This stand-in is
 * that function, copied from libmime 5.4.4 (lib/libmime.js); every other libmime function throws "not bundled" (see
 * not-bundled.cjs). The proof is test/conformance/rfc7208-bundle.test.ts (the RFC 7208 suite's Received-SPF headers
 * and long folded ones, side by side with libmime).
 *
 * foldLines: Copyright (c) 2014-2016 Andris Reinman
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 * THE SOFTWARE.
 */
const notBundled = require('./not-bundled.cjs')('libmime');

/**
 * Folds long lines, useful for folding header lines (afterSpace=false) and
 * flowed text (afterSpace=true)
 *
 * @param {String} str String to be folded
 * @param {Number} [lineLength=76] Maximum length of a line
 * @param {Boolean} afterSpace If true, leave a space in the end of a line
 * @return {String} String with folded lines
 */
function foldLines(str, lineLength, afterSpace) {
  str = (str || '').toString();
  lineLength = lineLength || 76;

  let pos = 0,
    len = str.length,
    result = '',
    line,
    match;

  while (pos < len) {
    line = str.substr(pos, lineLength);
    if (line.length < lineLength) {
      result += line;
      break;
    }
    if ((match = line.match(/^[^\n\r]*(\r?\n|\r)/))) {
      line = match[0];
      result += line;
      pos += line.length;
      continue;
    } else if (
      (match = line.match(/(\s+)[^\s]*$/)) &&
      match[0].length - (afterSpace ? (match[1] || '').length : 0) < line.length
    ) {
      line = line.substr(0, line.length - (match[0].length - (afterSpace ? (match[1] || '').length : 0)));
    } else if ((match = str.substr(pos + line.length).match(/^[^\s]+(\s*)/))) {
      line = line + match[0].substr(0, match[0].length - (!afterSpace ? (match[1] || '').length : 0));
    }

    result += line;
    pos += line.length;
    if (pos < len) {
      result += '\r\n';
    }
  }

  return result;
}

module.exports = new Proxy(
  { foldLines },
  { get: (target, key) => (Object.hasOwn(target, key) ? target[key] : notBundled[key]) },
);
