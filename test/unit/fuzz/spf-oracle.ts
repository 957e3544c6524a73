/**
 * Independent references for the SPF differential properties:
 *
 * - `mailauthSyntaxError`: what mailauth's strict mode (our evaluator) calls a syntax error in a record (RFC 7208 §12,
 *   plus its "invalid characters" rule), straight from its validator.
 * - `referenceCheckHost`: a small RFC 7208 check_host() (§4–§6, lazy left-to-right evaluation, 10-lookup and 2-void
 *   limits of §4.6.4, at most 10 address lookups per `mx`) over the fake zone. It answers `skip` on what it does not
 *   model: macros and `ptr` in an evaluated term. Where RFC 7208 leaves a choice open it takes the one mailauth takes
 *   (see the notes at each place), so any disagreement left is a bug on one side.
 */
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { hasMacro, isSpfRecord, type Mechanism, type Modifier, parseSpf } from '../../../shared/domain/spf-record.ts';
import type { DnsResolver, DnsResult, RecordType } from '../../../shared/ports/dns-resolver.ts';
import { isFailure } from '../../../shared/ports/dns-resolver.ts';
import type { SpfResult } from '../../../shared/ports/spf-evaluator.ts';

const require = createRequire(import.meta.url);
const mailauthSyntax = require('mailauth/lib/spf/syntax.js') as {
  validateTerms(terms: string[]): string | false;
};

/** mailauth strict: the record's syntax error, or null. Only for records that are selected (`v=spf1` …). */
export function mailauthSyntaxError(record: string): string | null {
  if (/[^\x20-\x7e]/.test(record)) return 'DNS response includes invalid characters';
  const terms = record.split(' ').filter((t) => t.length > 0);
  return mailauthSyntax.validateTerms(terms.slice(1)) || null;
}

/**
 * Our parser's errors that RFC 7208 §12 does not make syntax errors: an empty label or one over 63 octets in a
 * domain-spec. The ABNF allows both (macro-literal covers "."); the OpenSPF suite (invalid-domain-empty-label,
 * invalid-domain-long) accepts "fail" or "permerror" because the RFC leaves the outcome undefined. mailauth treats
 * the target as not matching; our parser flags it (the stricter, also-allowed reading).
 */
export const LABEL_ONLY_ERROR = /has an empty label|has a label longer than 63 characters/;

const TOPLABEL = /^(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])$/i;

/** mailauth's check of an expanded target name (lib/spf/syntax.js isValidTargetName). */
function isValidTargetName(name: string): boolean {
  if (!name || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  if (labels.some((l) => !l || l.length > 63 || !/^[\x20-\x2d\x2f-\x7e]+$/.test(l))) return false;
  return TOPLABEL.test(labels[labels.length - 1]!);
}

/** mailauth's check before any counted query (lib/spf/index.js limitedResolver). */
function isQueryableName(name: string): boolean {
  return /^([\x20-\x2d\x2f-\x7e]+\.)+[a-z]+[a-z\-0-9]*$/i.test(name) || isValidTargetName(name);
}

/** RFC 7208 §7.3 for a macro-free domain-spec: drop the trailing dot, truncate over 253 octets from the left. */
function targetName(spec: string): string {
  let name = spec.replace(/\.$/, '');
  while (name.length > 253 && name.includes('.')) name = name.slice(name.indexOf('.') + 1);
  return name;
}

class Halt extends Error {
  readonly result: SpfResult | 'skip';
  constructor(result: SpfResult | 'skip') {
    super(result);
    this.result = result;
  }
}

const QUALIFIER_RESULT: Record<Mechanism['qualifier'], SpfResult> = {
  '+': 'pass',
  '-': 'fail',
  '~': 'softfail',
  '?': 'neutral',
};

function parseNetwork(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    if (text.includes(':')) return ipaddr.parse(new URL(`http://[${text}]/`).hostname.slice(1, -1));
    return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.parse(text) : null;
  } catch {
    return null;
  }
}

function inNetwork(client: ipaddr.IPv4 | ipaddr.IPv6, network: string, prefix: number): boolean {
  const net = parseNetwork(network);
  if (!net || net.kind() !== client.kind()) return false;
  return client.kind() === 'ipv4'
    ? (client as ipaddr.IPv4).match(net as ipaddr.IPv4, prefix)
    : (client as ipaddr.IPv6).match(net as ipaddr.IPv6, prefix);
}

/** RFC 7208 check_host() for `ip` and `domain` over `resolver`; `skip` when the evaluation needs macros or ptr. */
export async function referenceCheckHost(
  resolver: DnsResolver,
  domain: string,
  ip: string,
): Promise<SpfResult | 'skip'> {
  const client = ipaddr.process(ip);
  const v6 = client.kind() === 'ipv6';
  const state = { lookups: 0, voids: 0 };

  /** One query of a term that counts toward the limits (§4.6.4). Void answers come back as []. */
  async function counted<T extends RecordType>(name: string, type: T, first = false) {
    if (!first && ++state.lookups > 10) throw new Halt('permerror');
    if (!isQueryableName(name)) throw new Halt('permerror');
    const r: DnsResult<T> = await resolver.query(name, type);
    if (isFailure(r)) throw new Halt('temperror');
    if (r.kind !== 'answer') {
      if (++state.voids > 2) throw new Halt('permerror');
      return [];
    }
    return r.records;
  }

  /** check_host() of a (nested) domain; errors leave by Halt, a nested "none" is the caller's business. */
  async function checkHost(name: string, first: boolean): Promise<SpfResult> {
    const txts = await counted(name, 'TXT', first);
    const records = txts.map((t) => t.data.text).filter(isSpfRecord);
    if (records.length === 0) return 'none';
    if (records.length > 1) throw new Halt('permerror');
    const record = records[0]!;
    if (mailauthSyntaxError(record) !== null) throw new Halt('permerror');
    const parsed = parseSpf(record);
    // (the syntax verdict is mailauth's, so this reference checks evaluation only; the parser is compared elsewhere)
    const hasAll = parsed.terms.some((t) => t.kind === 'mechanism' && t.name === 'all');

    for (const t of parsed.terms) {
      if (t.kind !== 'mechanism') continue;
      if (t.name === 'ptr' || (t.value !== null && hasMacro(t.value))) throw new Halt('skip');
      const target = targetName(t.value ?? name);
      const hit = QUALIFIER_RESULT[t.qualifier];
      switch (t.name) {
        case 'all':
          return hit;
        case 'ip4':
          if (!v6 && inNetwork(client, t.value!, t.cidr4 ?? 32)) return hit;
          break;
        case 'ip6':
          if (v6 && inNetwork(client, t.value!, t.cidr6 ?? 128)) return hit;
          break;
        case 'a': {
          // a malformed target (empty or long label) does not match: one of the two readings RFC 7208 leaves open
          if (!isValidTargetName(target)) break;
          const addrs = await counted(target, v6 ? 'AAAA' : 'A');
          const prefix = v6 ? (t.cidr6 ?? 128) : (t.cidr4 ?? 32);
          if (addrs.some((a) => inNetwork(client, a.data, prefix))) return hit;
          break;
        }
        case 'mx': {
          if (!isValidTargetName(target)) break;
          const mxs = [...(await counted(target, 'MX'))].sort((a, b) => a.data.priority - b.data.priority);
          const prefix = v6 ? (t.cidr6 ?? 128) : (t.cidr4 ?? 32);
          let addressLookups = 0;
          for (const mx of mxs) {
            const host = mx.data.exchange.replace(/\.$/, '');
            if (!host) continue; // a null MX names no host
            if (++addressLookups > 10) throw new Halt('permerror');
            if (!isQueryableName(host)) throw new Halt('permerror');
            const r = await resolver.query(host, v6 ? 'AAAA' : 'A');
            if (isFailure(r)) throw new Halt('temperror');
            if (r.kind === 'answer' && r.records.some((a) => inNetwork(client, a.data, prefix))) return hit;
          }
          break;
        }
        case 'exists': {
          if (!isValidTargetName(target)) break;
          if ((await counted(target, 'A')).length > 0) return hit;
          break;
        }
        case 'include': {
          if (!isValidTargetName(target)) throw new Halt('permerror'); // §4.3: "none", so permerror (§5.2)
          const sub = await checkHost(target, false);
          if (sub === 'none') throw new Halt('permerror');
          if (sub === 'pass') return hit;
          break;
        }
      }
    }
    const redirect = parsed.terms.find((t): t is Modifier => t.kind === 'modifier' && t.name === 'redirect');
    if (redirect && !hasAll) {
      if (hasMacro(redirect.value)) throw new Halt('skip');
      const target = targetName(redirect.value);
      if (!isValidTargetName(target)) throw new Halt('permerror');
      const sub = await checkHost(target, false);
      if (sub === 'none') throw new Halt('permerror'); // §6.1
      return sub;
    }
    return 'neutral';
  }

  try {
    return await checkHost(domain, true);
  } catch (e) {
    if (e instanceof Halt) return e.result;
    throw e;
  }
}
