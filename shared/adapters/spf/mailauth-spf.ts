/**
 * SPF evaluation (RFC 7208 check_host()) by mailauth, asked through our DnsResolver port.
 *
 * mailauth's resolver contract is Node's `dns.promises.resolve(name, type)`: TXT as arrays of character-strings,
 * MX as `{ exchange, priority }`, addresses as strings, and failures as errors whose `code` is the c-ares code
 * (`ENOTFOUND` for NXDOMAIN, `ENODATA` for NODATA, `ETIMEOUT`, `EREFUSED`, `ESERVFAIL`…). mailauth counts a
 * lookup as void on ENOTFOUND/ENODATA and turns every other code into temperror, which is exactly RFC 7208 §4.6.4/§5.
 *
 * We run mailauth in `strict` mode: the point is to say what a receiver following RFC 7208 will conclude.
 */
import { spf } from 'mailauth/lib/spf/index.js';
import type { DnsResolver, DnsResult, RecordType } from '../../ports/dns-resolver.ts';
import { RECORD_TYPES } from '../../ports/dns-resolver.ts';
import {
  SPF_RESULTS,
  type SpfEvaluation,
  type SpfEvaluationInput,
  type SpfEvaluator,
  type SpfResult,
} from '../../ports/spf-evaluator.ts';

export type { SpfEvaluation, SpfEvaluationInput, SpfEvaluator, SpfResult };

/** The c-ares style error mailauth expects for each non-answer. */
const CODES: Record<Exclude<DnsResult<RecordType>['kind'], 'answer'>, string> = {
  nxdomain: 'ENOTFOUND',
  nodata: 'ENODATA',
  timeout: 'ETIMEOUT',
  refused: 'EREFUSED',
  servfail: 'ESERVFAIL',
  'network-error': 'ECONNREFUSED',
  'bad-response': 'EBADRESP',
};

class DnsLookupError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'DnsLookupError';
    this.code = code;
  }
}

/**
 * mailauth (lib/spf/macro.js) builds a RegExp character class from a macro's delimiters without escaping "-": with "-"
 * between two others, "%{ir.-+}" throws (`Range out of order`, so temperror) and "%{i/-_}" becomes the range `[/-_]`,
 * which splits on every digit and capital letter. The delimiters are a set (RFC 7208 §7.1), so moving "-" last means
 * the same and mailauth reads it right. `%%` is skipped so that the literal in "%%{ir.-+}" stays as it is.
 */
export function withMailauthSafeDelimiters(text: string): string {
  return text.replace(/%%|%\{([a-z]\d*r?)([.\-+,/_=]+)\}/gi, (whole: string, head?: string, delimiters?: string) =>
    head !== undefined && delimiters?.includes('-') ? `%{${head}${delimiters.replaceAll('-', '')}-}` : whole,
  );
}

/** Adapts a DnsResolver to the `dns.promises.resolve` shape mailauth calls. */
export function toNodeStyleResolver(resolver: DnsResolver): (name: string, type: string) => Promise<unknown[]> {
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    if (!(RECORD_TYPES as readonly string[]).includes(type)) {
      // RFC 7208 removed type SPF (99); nothing else is asked by an SPF evaluation.
      throw new DnsLookupError(`record type ${rrtype} is not supported`, 'ENOTIMP');
    }
    if (name.length > 253 || name.split('.').some((label) => label.length > 63 || label.length === 0)) {
      // A name that cannot be put on the wire: c-ares says EBADNAME; mailauth treats it like an invalid domain.
      throw new DnsLookupError(`invalid DNS name ${JSON.stringify(name)}`, 'EBADNAME');
    }
    const r = await resolver.query(name, type as RecordType);
    if (r.kind !== 'answer') {
      const detail = 'detail' in r ? `: ${r.detail}` : '';
      throw new DnsLookupError(`${r.kind} for ${name}/${type}${detail}`, CODES[r.kind]);
    }
    return r.records.map((rec) => {
      const d = rec.data;
      if (typeof d === 'string') return d;
      if ('chunks' in d) {
        const safe = withMailauthSafeDelimiters(d.text);
        return safe === d.text ? [...d.chunks] : [safe];
      }
      return { exchange: d.exchange, priority: d.priority };
    });
  };
}

export function makeSpfEvaluator(resolver: DnsResolver, opts: { maxElapsedMs?: number } = {}): SpfEvaluator {
  const nodeResolver = toNodeStyleResolver(resolver);
  return async (input) => {
    const sender = input.sender ?? (input.domain ? `postmaster@${input.domain}` : undefined);
    const res = await spf({
      ip: input.ip,
      sender,
      helo: input.helo,
      mta: input.mta ?? 'relaywatch.invalid',
      resolver: nodeResolver,
      strict: true,
      maxElapsedTime: opts.maxElapsedMs ?? 20_000,
    } as Parameters<typeof spf>[0]);
    const raw = String(res.status?.result ?? 'temperror');
    const result: SpfResult = (SPF_RESULTS as readonly string[]).includes(raw) ? (raw as SpfResult) : 'temperror';
    const lookups = (res as unknown as { lookups?: { count?: number; void?: number } }).lookups;
    const comment = typeof res.status?.comment === 'string' ? res.status.comment : '';
    const out: SpfEvaluation = {
      ip: input.ip,
      domain: res.domain,
      result,
      comment,
      ...(result === 'fail' && typeof res.explanation === 'string' ? { explanation: res.explanation } : {}),
      ...(typeof lookups?.count === 'number' ? { lookups: lookups.count } : {}),
      ...(typeof lookups?.void === 'number' ? { voidLookups: lookups.void } : {}),
    };
    return out;
  };
}
