'use strict';
// tldts left out of the bundle (see not-bundled.cjs).
module.exports = require('./not-bundled.cjs')('tldts');
