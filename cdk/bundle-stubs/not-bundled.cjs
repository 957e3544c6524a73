/**
 * Stands in, in a function bundle, for a package its code path provably never calls (see NOT_BUNDLED in
 * cdk/constructs/monitor-function.ts). Requiring the stand-in works (the dependant's top level only keeps a
 * reference); any use of it throws an error naming the package, so a path that starts to need it fails loudly
 * instead of misbehaving.
 */
'use strict';

module.exports = (name) =>
  new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined;
        // A function, not an arrow: `new pkg.Thing()` must throw this error too, not "is not a constructor".
        return function notBundled() {
          throw new Error(
            `${name} (${String(key)}) is not in this function bundle: its code path was proven not to use it`,
          );
        };
      },
    },
  );
