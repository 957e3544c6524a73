'use strict';
// bowser left out of every function bundle (see STAND_INS in cdk/constructs/monitor-function.ts and not-bundled.cjs):
// only @aws-sdk/core's browser user-agent provider imports it, which no Node.js code path calls.
module.exports = require('./not-bundled.cjs')('bowser');
