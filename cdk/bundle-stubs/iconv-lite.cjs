'use strict';
// iconv-lite left out of the bundle (see not-bundled.cjs).
module.exports = require('./not-bundled.cjs')('iconv-lite');
