/**
 * Random DNS zones for the fuzz tests, served by the ZoneFake: include targets that exist, don't, time out, SERVFAIL,
 * are REFUSED, loop, chain 12–30 levels deep, include each other in cliques, have several SPF records or CNAMEs;
 * `a`/`mx` targets that are void; MX sets with more than 10 hosts, null MX and so on.
 *
 * Every injected failure is recorded with benign content that replaces it in the "failure-free twin" of the zone, for
 * the property that a DNS outage never turns into a definite error.
 */
import {
  type DnsFailureKind,
  type DnsResolver,
  type DnsResult,
  FAILURE_KINDS,
  isFailure,
  normaliseName,
  type RecordType,
} from '../../../shared/ports/dns-resolver.ts';
import type { Rng } from '../../support/prng.ts';
import { type FakeEntry, ZoneFake } from '../../support/zone-fake.ts';
import { chunked, type GrammarOptions, grammarRecord, hostname, mutate, seedRecord, testNetIp } from './spf-grammar.ts';

export const M365_INCLUDE = 'spf.protection.outlook.com';
export const M365_RECORD = 'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all';
const Z = 'fz.example';
const BENIGN_MX_HOST = `benign-mx.${Z}`;

export type Zone = Record<string, FakeEntry[]>;

/** Benign content for a name whose failure is removed in the twin zone. */
function benign(type: RecordType | undefined): FakeEntry[] {
  const all: FakeEntry[] = [
    { TXT: `v=spf1 include:${M365_INCLUDE} -all` },
    { A: '192.0.2.200' },
    { AAAA: '2001:db8::200' },
    { MX: [10, BENIGN_MX_HOST] },
  ];
  if (type === undefined) return all;
  return all.filter((e) => type in e);
}

/** A zone under construction that remembers its injected failures. */
export class ZoneBuilder {
  readonly zone: Zone = {};
  /** Names with an injected failure (or in a CNAME loop), with the failing type (undefined: every type). */
  readonly injected = new Map<string, RecordType | undefined>();

  add(name: string, ...entries: FakeEntry[]): void {
    const key = normaliseName(name);
    this.zone[key] = [...(this.zone[key] ?? []), ...entries];
  }

  /** Make `name` fail with `kind`, for every type or for `type` only. */
  fail(name: string, kind: DnsFailureKind, type?: RecordType): void {
    this.add(name, type === undefined ? { fail: kind } : { fail: kind, type });
    this.injected.set(normaliseName(name), type);
  }

  /** A CNAME loop answers SERVFAIL in the fake (as unbound does): a failure too. */
  cnameLoop(names: readonly string[]): void {
    names.forEach((n, i) => {
      const key = normaliseName(n);
      this.zone[key] = [{ CNAME: names[(i + 1) % names.length]! }];
      this.injected.set(key, undefined);
    });
  }

  /** The zone with every injected failure replaced by benign content (of the failing type only, if it had one). */
  twin(): Zone {
    const out: Zone = { ...this.zone };
    for (const [name, type] of this.injected) {
      const kept = type === undefined ? [] : (this.zone[name] ?? []).filter((e) => !('fail' in e) && !(type in e));
      out[name] = [...kept, ...benign(type)];
    }
    if (this.injected.size > 0) out[BENIGN_MX_HOST] = [{ A: '192.0.2.201' }];
    return out;
  }
}

function randomFailure(r: Rng): DnsFailureKind {
  return r.pick(FAILURE_KINDS);
}

/** Per-type failures happen too (an SPF-only resolver bug, a broken AAAA path). */
function failureType(r: Rng): RecordType | undefined {
  return r.chance(0.5) ? undefined : r.pick<RecordType>(['TXT', 'TXT', 'A', 'AAAA', 'MX']);
}

// ——— SPF ———

export interface SpfCase {
  readonly domain: string;
  readonly root: string;
  readonly builder: ZoneBuilder;
  readonly relayIps: string[];
  /** The root TXT record as a single string when it was published split into character-strings, for the twin run. */
  readonly rootUnchunked: { readonly index: number; readonly text: string } | null;
  /** Generated without deliberate breakage, macros or failures. */
  readonly clean: boolean;
}

function mxSet(r: Rng, builder: ZoneBuilder, ips: readonly string[], prefix: string): FakeEntry[] {
  const count = r.weighted<number>([
    [6, () => r.int(1, 3)],
    [2, () => r.int(4, 10)],
    [2, () => r.int(11, 14)],
  ]);
  const out: FakeEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (r.chance(0.05)) {
      out.push({ MX: [0, '.'] });
      continue;
    }
    const host = `${prefix}-mx${i}.${Z}`;
    out.push({ MX: [r.int(0, 3) * 10, host] });
    if (r.chance(0.75)) builder.add(host, { A: r.chance(0.6) ? r.pick(ips) : testNetIp(r) });
    if (r.chance(0.15)) builder.add(host, { AAAA: `2001:db8::${i + 1}` });
  }
  return out;
}

export interface SpfCaseOptions {
  /** Force a clean zone (no breakage, macros or failures). */
  readonly clean?: boolean;
  /** Publish this root record (one TXT string) and these relay IPs instead of random ones. */
  readonly root?: (r: Rng, pool: readonly string[], ips: readonly string[]) => { record: string; relayIps: string[] };
}

export function buildSpfCase(r: Rng, opts: SpfCaseOptions = {}): SpfCase {
  const builder = new ZoneBuilder();
  const root = r.pick(['contoso.example', 'fabrikam-co.example', 'mail.tailspin.example', 'a1.example']);
  const clean = opts.clean ?? r.chance(0.35);
  const ips = Array.from({ length: 6 }, () => testNetIp(r));
  const pool: string[] = [`_spf.${root}`, root, M365_INCLUDE, `gone.${Z}`];
  const nodes = Array.from({ length: r.int(2, 8) }, (_, i) => `n${i}.${Z}`);
  pool.push(...nodes);

  // a deep include (or redirect) chain
  if (r.chance(0.15)) {
    const length = r.int(12, 30);
    const viaRedirect = r.chance(0.3);
    for (let i = 0; i < length; i++) {
      const next = `c${i + 1}.${Z}`;
      const own = r.chance(0.3) ? ` ip4:${r.pick(ips)}` : '';
      builder.add(
        `c${i}.${Z}`,
        i === length - 1
          ? { TXT: `v=spf1 ip4:${r.pick(ips)} -all` }
          : { TXT: viaRedirect ? `v=spf1${own} redirect=${next}` : `v=spf1${own} include:${next} -all` },
      );
    }
    pool.push(`c0.${Z}`);
  }
  // names that all include each other (a loop on every path; the number of paths grows factorially)
  if (r.chance(0.12)) {
    const k = r.int(3, 12);
    const clique = Array.from({ length: k }, (_, i) => `q${i}.${Z}`);
    for (const q of clique) {
      builder.add(q, {
        TXT: `v=spf1 ${r
          .shuffle(clique)
          .map((x) => `include:${x}`)
          .join(' ')} -all`,
      });
    }
    pool.push(clique[0]!);
  }
  // a diamond lattice: every name of a level includes every name of the next level
  if (r.chance(0.05)) {
    const width = r.int(2, 4);
    const depth = r.int(6, 14);
    for (let d = 0; d < depth; d++) {
      for (let w = 0; w < width; w++) {
        const next = Array.from({ length: width }, (_, i) => `include:l${d + 1}-${i}.${Z}`).join(' ');
        builder.add(`l${d}-${w}.${Z}`, { TXT: d === depth - 1 ? 'v=spf1 -all' : `v=spf1 ${next} -all` });
      }
    }
    pool.push(`l0-0.${Z}`);
  }

  const sub: GrammarOptions = {
    names: pool,
    broken: clean ? 0 : 0.06,
    macros: clean ? 0 : 0.08,
    ips,
  };
  for (const name of [...nodes, `_spf.${root}`]) {
    r.weighted<void>([
      [
        55,
        () => {
          const rec = r.chance(0.7) ? grammarRecord(r, sub) : seedRecord(r, pool);
          builder.add(name, { TXT: r.chance(0.2) ? chunked(r, rec) : rec });
          if (r.chance(0.3)) builder.add(name, { TXT: `verification=${r.int(0, 1e6)}` });
        },
      ],
      [7, () => undefined],
      [5, () => builder.add(name, { A: r.pick(ips) })],
      [clean ? 0 : 25, () => builder.fail(name, randomFailure(r), failureType(r))],
      [4, () => builder.add(name, { TXT: grammarRecord(r, sub) }, { TXT: 'v=spf1 -all' })],
      [
        5,
        () => {
          const target = r.pick(pool);
          if (normaliseName(target) !== normaliseName(name)) builder.add(name, { CNAME: target });
          else if (!clean) builder.cnameLoop([name]);
        },
      ],
      [4, () => builder.add(name, { TXT: 'google-site-verification=abc' })],
    ]);
    if (builder.zone[normaliseName(name)]?.some((e) => 'CNAME' in e)) continue;
    if (r.chance(0.4)) builder.add(name, { A: r.pick(ips) });
    if (r.chance(0.2)) builder.add(name, { AAAA: `2001:db8::${r.int(1, 99)}` });
    if (r.chance(0.25)) builder.add(name, ...mxSet(r, builder, ips, name.split('.')[0]!.replace('_', 'u')));
  }
  if (!clean && r.chance(0.06)) builder.cnameLoop([`loop1.${Z}`, `loop2.${Z}`]);
  if (r.chance(0.3)) pool.push(`loop1.${Z}`);

  // Microsoft's include
  r.weighted<void>([
    [85, () => builder.add(M365_INCLUDE, { TXT: M365_RECORD })],
    [clean ? 0 : 15, () => builder.fail(M365_INCLUDE, randomFailure(r), failureType(r))],
    [4, () => undefined],
    [3, () => builder.add(M365_INCLUDE, { TXT: mutate(r, M365_RECORD, seedRecord(r, pool)) })],
  ]);

  // the root
  if (opts.root) {
    const forced = opts.root(r, pool, ips);
    builder.add(root, { TXT: forced.record });
    return { domain: root, root, builder, relayIps: forced.relayIps, rootUnchunked: null, clean };
  }
  const rootOpts: GrammarOptions = {
    names: pool,
    broken: clean ? 0 : 0.15,
    macros: clean ? 0 : 0.12,
    ips,
  };
  let record = clean
    ? r.chance(0.6)
      ? grammarRecord(r, rootOpts)
      : seedRecord(r, pool).replaceAll(/ \S*%\S*/g, '')
    : r.weighted<string>([
        [4, () => grammarRecord(r, rootOpts)],
        [2, () => seedRecord(r, pool)],
        [4, () => mutate(r, seedRecord(r, pool), r.chance(0.5) ? seedRecord(r, pool) : grammarRecord(r, rootOpts))],
      ]);
  // make the root lean on the rest of the zone (and its failures) more often than the grammar alone would
  if (!clean && r.chance(0.4)) {
    record = record.replace(
      /^\S*/,
      (v) => `${v} ${r.pick(['include:', 'include:', 'a:', 'mx:', '?include:'])}${r.pick(nodes)}`,
    );
  }
  let rootUnchunked: SpfCase['rootUnchunked'] = null;
  r.weighted<void>([
    [
      82,
      () => {
        if (r.chance(0.2)) builder.add(root, { TXT: 'MS=ms12345678' });
        const split = r.chance(0.3);
        rootUnchunked = split ? { index: builder.zone[root]?.length ?? 0, text: record } : null;
        builder.add(root, { TXT: split ? chunked(r, record) : record });
        if (r.chance(0.2)) builder.add(root, { TXT: 'v=DMARC1; p=none' });
      },
    ],
    [5, () => builder.add(root, { TXT: record }, { TXT: grammarRecord(r, rootOpts) })],
    [3, () => builder.add(root, { TXT: 'google-site-verification=abc' })],
    [2, () => undefined],
    [clean ? 0 : 9, () => builder.fail(root, randomFailure(r), r.chance(0.5) ? 'TXT' : undefined)],
    [2, () => builder.add(root, { CNAME: r.pick(nodes) })],
  ]);
  if (!builder.zone[root]?.some((e) => 'CNAME' in e)) {
    if (r.chance(0.5)) builder.add(root, { A: r.pick(ips) });
    if (r.chance(0.4)) builder.add(root, ...mxSet(r, builder, ips, 'root'));
  }

  const relayIps = Array.from({ length: r.int(0, 3) }, () =>
    r.weighted<string>([
      [14, () => r.pick(ips)],
      [4, () => testNetIp(r)],
      [1, () => `${r.pick(ips)}/30`],
      [1, () => `2001:db8::${r.int(1, 99)}`],
    ]),
  );
  const domain = r.weighted<string>([
    [18, () => root],
    [1, () => root.toUpperCase()],
    [1, () => `${root}.`],
  ]);
  return { domain, root, builder, relayIps, rootUnchunked, clean };
}

// ——— MX ———

export interface MxCase {
  readonly domain: string;
  readonly root: string;
  readonly builder: ZoneBuilder;
  readonly expectedMx?: string;
}

export function buildMxCase(r: Rng, keysOf: (domain: string) => string[]): MxCase {
  const builder = new ZoneBuilder();
  const root = r.pick([
    'contoso.example',
    'fabrikam-co.example',
    'contoso.co.uk',
    'a-b-c.example',
    'xn--mnchen-3ya.example',
    'x.example',
  ]);
  const keys = keysOf(root);
  const key = keys[0]!;
  const pool: string[] = [
    `${key}.mail.protection.outlook.com`,
    `${keys[keys.length - 1]}.mail.protection.outlook.com`,
    `other-tenant-com.mail.protection.outlook.com`,
    `${key}.r-v1.mx.microsoft`,
    `${key}.mx.microsoft`,
    'mail.protection.outlook.com',
    `${key}.mail.protection.outlook.com.evil.example`,
    'aspmx.l.google.com',
    'alt1.aspmx.l.google.com',
    'eu-smtp-inbound-1.mimecast.com',
    'mx0a-001.pphosted.com',
    `mail.${root}`,
    `mx1.${root}`,
    `mx2.${root}`,
    'localhost',
    '192.0.2.25',
    hostname(r),
    hostname(r),
    '.',
  ];
  const hosts = new Set<string>();
  const mx = (): FakeEntry[] => {
    const count = r.weighted<number>([
      [30, () => 1],
      [35, () => r.int(2, 4)],
      [15, () => r.int(5, 10)],
      [10, () => r.int(11, 25)],
    ]);
    return Array.from({ length: count }, () => {
      let host = r.pick(pool);
      if (r.chance(0.05)) host = host.toUpperCase();
      if (r.chance(0.05) && host !== '.') host = `${host}.`;
      hosts.add(host);
      const priority = r.chance(0.8) ? r.pick([0, 0, 5, 10, 10, 20, 30, 50]) : r.int(0, 65535);
      return { MX: [priority, host] } as const;
    });
  };
  r.weighted<void>([
    [80, () => builder.add(root, ...mx())],
    [8, () => builder.fail(root, randomFailure(r), r.chance(0.5) ? 'MX' : undefined)],
    [4, () => undefined],
    [4, () => builder.add(root, { A: '192.0.2.1' }, { TXT: 'v=spf1 -all' })],
    [
      4,
      () => {
        builder.add(root, { CNAME: `alias.${root}` });
        builder.add(`alias.${root}`, ...mx());
      },
    ],
  ]);
  for (const h of hosts) {
    if (h === '.') continue;
    r.weighted<void>([
      [50, () => builder.add(h, { A: testNetIp(r) })],
      [10, () => builder.add(h, { AAAA: `2001:db8::${r.int(1, 999)}` })],
      [10, () => builder.add(h, { A: testNetIp(r) }, { AAAA: `2001:db8::${r.int(1, 999)}` })],
      [10, () => undefined],
      [5, () => builder.add(h, { TXT: 'nothing here' })],
      [8, () => builder.fail(h, randomFailure(r), r.pick<RecordType | undefined>([undefined, 'A', 'AAAA']))],
      [
        4,
        () => {
          builder.add(h, { CNAME: `target.${normaliseName(h)}` });
          builder.add(`target.${normaliseName(h)}`, { A: testNetIp(r) });
        },
      ],
      [2, () => builder.cnameLoop([h, `loop.${normaliseName(h)}`])],
      [1, () => builder.add(h, { CNAME: `dangling.${Z}` })],
    ]);
  }
  const expectedMx = r.weighted<string | undefined>([
    [60, () => undefined],
    [25, () => (hosts.size > 0 ? r.pick([...hosts]) : undefined)],
    [10, () => r.pick(pool)],
    [5, () => `${r.pick(pool).toUpperCase()}.`],
  ]);
  const domain = r.chance(0.9) ? root : r.chance(0.5) ? root.toUpperCase() : `${root}.`;
  return { domain, root, builder, ...(expectedMx !== undefined ? { expectedMx } : {}) };
}

// ——— the resolver the checks see ———

/**
 * Wraps the ZoneFake: yields to the event loop on every query (so a per-case timer can fire even when a check would
 * otherwise spin in microtasks), records every failure it hands out, and once `abandon()`ed answers everything with
 * a timeout so a runaway check winds down instead of burning the rest of the run.
 */
export class FuzzResolver implements DnsResolver {
  readonly inner: ZoneFake;
  readonly failures: Array<{ name: string; type: RecordType; kind: string }> = [];
  queries = 0;
  private abandoned = false;

  constructor(zone: Zone) {
    this.inner = new ZoneFake(zone);
  }

  describe(): string {
    return 'fuzz-zone';
  }

  abandon(): void {
    this.abandoned = true;
  }

  async query<T extends RecordType>(name: string, type: T): Promise<DnsResult<T>> {
    this.queries++;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.abandoned) {
      return { kind: 'timeout', name: normaliseName(name), type, server: 'fuzz', detail: 'case abandoned' };
    }
    const r = await this.inner.query(name, type);
    if (isFailure(r)) this.failures.push({ name: r.name, type, kind: r.kind });
    return r;
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T | 'timed-out'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve('timed-out');
    }, ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, readable dump of a zone for failure reports. */
export function describeZone(zone: Zone): string {
  return Object.entries(zone)
    .map(([name, entries]) => `  ${name}: ${JSON.stringify(entries)}`)
    .join('\n');
}
