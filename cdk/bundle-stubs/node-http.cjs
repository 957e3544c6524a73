'use strict';
/**
 * `node:http` for the function bundles, as the CommonJS module. An ESM `import … from 'node:http'` makes Node build
 * the module's ESM facade, which reads every export, including the lazy `WebSocket`/`CloseEvent`/`MessageEvent`
 * getters that load Node's internal undici at cold start (tens of milliseconds) although no function uses them.
 * `process.getBuiltinModule` returns the same object without the facade.
 */
module.exports = process.getBuiltinModule('node:http');
