'use strict';
// jsonwebtoken left out of the worker bundle (see NOT_BUNDLED and not-bundled.cjs): msal-node calls it only to sign
// the client assertion of a certificate credential (ClientAssertion.getJwt); the worker's msal provider
// (shared/adapters/oauth/msal-token-provider.ts) authenticates with a client secret only.
module.exports = require('./not-bundled.cjs')('jsonwebtoken');
