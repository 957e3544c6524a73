/**
 * A DnsResolver fake for unit tests that keeps real resolver semantics: a name not in the zone is NXDOMAIN, a name with
 * other types only is NODATA, CNAMEs are followed (loops end in SERVFAIL, as unbound answers them), and failures are
 * per name (and optionally per type) so a test can say "this include times out" the way a real resolver shows it.
 */
import {
  type DnsFailureKind,
  type DnsRecord,
  type DnsResolver,
  type DnsResult,
  normaliseName,
  type RecordDataByType,
  type RecordType,
} from '../../shared/ports/dns-resolver.ts';

export type FakeEntry =
  | { readonly A: string }
  | { readonly AAAA: string }
  /** A string is one character-string; an array is one record made of several character-strings. */
  | { readonly TXT: string | readonly string[] }
  | { readonly MX: readonly [number, string] }
  | { readonly PTR: string }
  | { readonly CNAME: string }
  /** The resolver fails for this name (for `type` only, when given). */
  | { readonly fail: DnsFailureKind; readonly type?: RecordType };

export type FakeZone = Readonly<Record<string, readonly FakeEntry[]>>;

export class ZoneFake implements DnsResolver {
  readonly log: Array<{ name: string; type: RecordType }> = [];
  private readonly zone = new Map<string, readonly FakeEntry[]>();
  private readonly ttl: number;

  constructor(zone: FakeZone, ttl = 300) {
    this.ttl = ttl;
    for (const [name, entries] of Object.entries(zone)) this.zone.set(normaliseName(name), entries);
  }

  describe(): string {
    return 'zone-fake';
  }

  /** Replace or add a name (tests that change DNS between runs). */
  set(name: string, entries: readonly FakeEntry[]): void {
    this.zone.set(normaliseName(name), entries);
  }

  async query<T extends RecordType>(rawName: string, type: T): Promise<DnsResult<T>> {
    const name = normaliseName(rawName);
    this.log.push({ name, type });
    const server = 'zone-fake';
    const chain: string[] = [];
    let current = name;
    for (let hop = 0; hop < 16; hop++) {
      const entries = this.zone.get(current);
      if (entries === undefined) return { kind: 'nxdomain', name, type, server, cnameChain: chain, ttl: this.ttl };
      const failure = entries.find(
        (e): e is { fail: DnsFailureKind; type?: RecordType } =>
          'fail' in e && (e.type === undefined || e.type === type),
      );
      if (failure) return { kind: failure.fail, name, type, server, detail: `fake ${failure.fail}` };
      const records = entries.flatMap((e) => toRecord(e, type, this.ttl));
      if (records.length > 0) {
        return { kind: 'answer', name, type, server, records, cnameChain: chain, ttl: this.ttl };
      }
      const cname = entries.find((e): e is { CNAME: string } => 'CNAME' in e);
      if (cname && type !== 'CNAME') {
        current = normaliseName(cname.CNAME);
        chain.push(current);
        continue;
      }
      return { kind: 'nodata', name, type, server, cnameChain: chain, ttl: this.ttl };
    }
    return { kind: 'servfail', name, type, server, detail: 'CNAME loop' };
  }
}

function toRecord<T extends RecordType>(e: FakeEntry, type: T, ttl: number): DnsRecord<T>[] {
  const out: DnsRecord<RecordType>[] = [];
  if (type === 'A' && 'A' in e) out.push({ data: e.A, ttl });
  else if (type === 'AAAA' && 'AAAA' in e) out.push({ data: e.AAAA, ttl });
  else if (type === 'PTR' && 'PTR' in e) out.push({ data: normaliseName(e.PTR), ttl });
  else if (type === 'CNAME' && 'CNAME' in e) out.push({ data: normaliseName(e.CNAME), ttl });
  else if (type === 'MX' && 'MX' in e) {
    const exchange = e.MX[1] === '.' ? '' : normaliseName(e.MX[1]);
    out.push({ data: { priority: e.MX[0], exchange } satisfies RecordDataByType['MX'], ttl });
  } else if (type === 'TXT' && 'TXT' in e) {
    const chunks = typeof e.TXT === 'string' ? [e.TXT] : [...e.TXT];
    out.push({ data: { text: chunks.join(''), chunks } satisfies RecordDataByType['TXT'], ttl });
  }
  return out as DnsRecord<T>[];
}
