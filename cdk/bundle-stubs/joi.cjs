'use strict';
/**
 * joi in the worker bundle: mailauth's SPF entry (lib/spf/index.js) builds `Joi.string().domain({ allowUnicode: false,
 * tlds: false })` and calls its `validate(domain)`; mailauth's tools build `Joi.string().base64(…)` at load time and
 * validate with it only for DKIM keys. This stand-in implements exactly that domain schema, on the same check joi 18
 * runs for it (lib/types/string.js, rule `domain`: `isDomainValid(value, options)` of @hapi/address, with the options
 * as given when `tlds` is false), and joi's base checks before it (not a string: `string.base`; empty: `string.empty`;
 * undefined: valid). Anything else (another type, another rule, validation options, built-in TLD lists, and the
 * base64 schema's `validate`) throws "not bundled" (see not-bundled.cjs). The proof is
 * test/conformance/rfc7208-bundle.test.ts (the RFC 7208 suite, and invalid domains side by side with joi).
 */
const { isDomainValid } = require('@hapi/address/dist/domain.js');
const notBundled = require('./not-bundled.cjs')('joi');

/** An object whose other keys are the "not bundled" throwers. */
const only = (obj) =>
  new Proxy(obj, { get: (target, key) => (Object.hasOwn(target, key) ? target[key] : notBundled[key]) });

/** joi's option names for the domain rule (Common.assertOptions in the rule's method). */
const DOMAIN_OPTIONS = [
  'allowFullyQualified',
  'allowUnicode',
  'allowUnderscore',
  'maxDomainSegments',
  'minDomainSegments',
  'tlds',
];

/** joi's messages for the three errors this schema can give (lib/types/string.js `messages`). */
const MESSAGES = {
  'string.base': '"value" must be a string',
  'string.empty': '"value" is not allowed to be empty',
  'string.domain': '"value" must contain a valid domain name',
};

function failure(value, type) {
  const message = MESSAGES[type];
  const error = new Error(message);
  error.name = 'ValidationError';
  error.isJoi = true;
  error.details = [{ message, path: [], type, context: { label: 'value', value } }];
  error._original = value;
  return { value, error };
}

function domainSchema(options) {
  if (options === undefined || options === null || options.tlds !== false) {
    // joi would add its built-in TLD list (@hapi/tlds), which this bundle does not hold.
    return notBundled['domain with a TLD list']();
  }
  for (const key of Object.keys(options)) {
    if (!DOMAIN_OPTIONS.includes(key)) throw new Error(`Options contain unknown keys: ${key}`);
  }
  for (const key of ['minDomainSegments', 'maxDomainSegments']) {
    const n = options[key];
    if (n !== undefined && !(Number.isSafeInteger(n) && n > 0)) throw new Error(`${key} must be a positive integer`);
  }
  return only({
    validate(value, prefs) {
      if (prefs !== undefined) return notBundled['validate with options']();
      if (value === undefined) return { value };
      if (typeof value !== 'string') return failure(value, 'string.base');
      if (value === '') return failure(value, 'string.empty');
      return isDomainValid(value, options) ? { value } : failure(value, 'string.domain');
    },
  });
}

module.exports = only({
  string: () => only({ domain: domainSchema, base64: () => only({}) }),
});
