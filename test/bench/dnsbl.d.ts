/**
 * Types for the npm package `dnsbl` (4.x, plain JavaScript without typings), used by the blocklist bench as the peer.
 * Written from its README and index.js: `batch()` resolves every (address, list) pair; `listed` is true when the A
 * query returned any record, false on NXDOMAIN and on every error (errors never reject).
 */
declare module 'dnsbl' {
  export interface DnsblOptions {
    /** DNS servers (`node:dns` `Resolver.setServers` form, e.g. `127.0.0.1:5353`); falsy for the system's. */
    readonly servers?: string | readonly string[] | null;
    /** Milliseconds per query (default 5000). */
    readonly timeout?: number;
    /** Pairs in flight at once in `batch()` (p-map, default 64). */
    readonly concurrency?: number;
    /** Also ask TXT for every pair (default false). */
    readonly includeTxt?: boolean;
  }

  export interface DnsblBatchItem {
    readonly blacklist: string;
    readonly address: string;
    readonly listed: boolean;
    readonly txt?: string[][];
  }

  export function lookup(
    address: string,
    blacklist: string,
    options?: DnsblOptions,
  ): Promise<boolean | { listed: boolean; txt: string[][] }>;

  export function batch(
    addresses: string | readonly string[],
    blacklists: string | readonly string[],
    options?: DnsblOptions,
  ): Promise<DnsblBatchItem[]>;
}
