/**
 * Where an alert may be sent (issue 15 §3). A mistyped or malicious route URL must not reach the Lambda runtime API
 * (127.0.0.1:9001), the instance metadata service (169.254.169.254, fd00:ec2::254) or anything else inside the
 * network the cycle runs in, and an alert to an Internet host must travel over TLS.
 *
 * The decision is made at connect time, on the address the socket is about to connect to, never on the URL's text:
 * - an IP literal host (after WHATWG URL parsing, so `0x7f000001`, `2130706433` and `127.1` are already 127.0.0.1) is
 *   judged before connecting;
 * - a host name is judged on every address DNS gives for it, inside the socket's `lookup` (the address judged is the
 *   one connected to, so a name that answers a public address to a check and a private one to the connection, DNS
 *   rebinding, cannot pass).
 *
 * Refused unless the policy allows private destinations (a lab: `alerts.allowPrivateDestinations: true`): every
 * address that is not global unicast by ipaddr.js's ranges (loopback, private, link-local, unique-local, CGNAT,
 * unspecified, broadcast, multicast, reserved and documentation ranges, IPv4-mapped/NAT64/6to4/Teredo forms of them).
 * Always refused: plain `http:` to a global address (Internet hosts need https).
 *
 * Error contract: a refusal makes the request fail with a `DestinationRefusedError` (thrown by `guardedRequest`, or
 * found under the `cause` of a library's wrapping error); `refusalIn(error)` finds it.
 */

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { type HttpRequestOptions, type HttpResponse, httpRequest } from '../http/request.ts';

export interface DestinationPolicy {
  /** Allow loopback, private and other non-global addresses (labs and tests only). Default false. */
  readonly allowPrivate?: boolean;
}

/** The config key that allows private destinations, named in refusals. */
export const ALLOW_PRIVATE_KEY = 'alerts.allowPrivateDestinations';

export class DestinationRefusedError extends Error {
  override readonly name = 'DestinationRefusedError';
  readonly code = 'ERR_DESTINATION_REFUSED';
  readonly address: string;

  constructor(address: string, message: string) {
    super(message);
    this.address = address;
  }
}

/** The ipaddr.js range of an address, with IPv4-mapped IPv6 judged as the IPv4 address it maps. */
export function addressRange(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  return parsed.range();
}

/** Why connecting to `address` over `protocol` is refused, or null when it is allowed. */
export function refusalReason(address: string, protocol: string, policy: DestinationPolicy = {}): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = addressRange(address);
  if (range !== 'unicast') {
    if (policy.allowPrivate === true) return null;
    return `${address} is a ${range} address, not a public Internet host (set ${ALLOW_PRIVATE_KEY}: true only for a lab)`;
  }
  if (protocol !== 'https:') return `plain ${protocol.replace(/:$/, '')} to the Internet host ${address}: use https`;
  return null;
}

function guardedLookup(protocol: string, policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      // every address must pass: the socket may try any of them (happy eyeballs)
      for (const a of addresses) {
        const why = refusalReason(a.address, protocol, policy);
        if (why !== null) {
          callback(new DestinationRefusedError(a.address, `refused to connect to ${hostname}: ${why}`), '', 0);
          return;
        }
      }
      if (options.all === true) callback(null, addresses);
      else {
        const first = addresses[0];
        if (first === undefined)
          callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        else callback(null, first.address, first.family);
      }
    });
  };
}

export interface GuardedAgentOptions extends DestinationPolicy {
  /** Extra trusted CA (PEM). */
  readonly ca?: string;
}

/** The keep-alive connection pools of one policy, one per scheme, whose every socket goes through the guarded lookup. */
export interface GuardedAgents {
  readonly 'http:': http.Agent;
  readonly 'https:': https.Agent;
  readonly policy: DestinationPolicy;
}

/** Connection pools whose every connection goes through the destination check. `destroy()` them when done. */
export function guardedAgents(options: GuardedAgentOptions = {}): GuardedAgents {
  const policy: DestinationPolicy = { allowPrivate: options.allowPrivate === true };
  return {
    'http:': new http.Agent({ keepAlive: true, lookup: guardedLookup('http:', policy) }),
    'https:': new https.Agent({
      keepAlive: true,
      lookup: guardedLookup('https:', policy),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    }),
    policy,
  };
}

/**
 * An HTTP request through the destination check (see the module comment): an IP-literal host is judged here (no
 * lookup happens for it), a host name in the sockets' lookup. Rejects with a `DestinationRefusedError` when refused.
 */
export function guardedRequest(
  url: string,
  options: Omit<HttpRequestOptions, 'agent' | 'lookup' | 'ca'>,
  agents: GuardedAgents = sharedGuardedAgents(),
): Promise<HttpResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new TypeError('not a URL'));
  }
  const protocol = target.protocol === 'http:' ? 'http:' : 'https:';
  if (target.protocol !== protocol) return Promise.reject(new TypeError(`${target.protocol} is not http: or https:`));
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  if (isIP(host) !== 0) {
    const why = refusalReason(host, protocol, agents.policy);
    if (why !== null) return Promise.reject(new DestinationRefusedError(host, `refused to connect to ${host}: ${why}`));
  }
  return httpRequest(target, { ...options, agent: agents[protocol] });
}

/** The refusal under an error (a library may wrap it), if any. */
export function refusalIn(error: unknown): DestinationRefusedError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof DestinationRefusedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

const shared = new Map<string, GuardedAgents>();

/** One shared set of guarded pools per policy (keep-alive connections are reused across sends of a run). */
export function sharedGuardedAgents(policy: DestinationPolicy = {}): GuardedAgents {
  const key = policy.allowPrivate === true ? 'private' : 'public';
  let agents = shared.get(key);
  if (agents === undefined) {
    agents = guardedAgents(policy);
    shared.set(key, agents);
  }
  return agents;
}
