/**
 * The whole SPF tree of a domain: its record, every include and redirect target, recursively, with the DNS-lookup and
 * void-lookup counts RFC 7208 §4.6.4 limits. This is a static, worst-case view (every term that could be evaluated is
 * counted, as receivers do when the client matches nothing), which is what tells an MSP that adding one more vendor
 * include will break their mail. Branches are fetched in parallel; the DNS layer de-duplicates and caches.
 */
import {
  allMechanism,
  checkDomainSpec,
  hasMacro,
  LOOKUP_MECHANISMS,
  type Mechanism,
  type ParsedSpf,
  parseSpf,
  redirectOf,
  selectSpfRecord,
} from '../domain/spf-record.ts';
import { type DnsResolver, type DnsResult, describeResult, isFailure, normaliseName } from '../ports/dns-resolver.ts';

export type SpfNodeStatus =
  /** A single SPF record was found and parsed (it may still have syntax errors). */
  | 'ok'
  /** The name exists but publishes no v=spf1 record. */
  | 'no-record'
  | 'nxdomain'
  /** More than one v=spf1 record: permerror. */
  | 'several'
  /** The TXT query failed (SERVFAIL, timeout…): nothing is known. */
  | 'dns-failure'
  /** The name is already on the path from the root: an include/redirect loop. */
  | 'loop'
  /**
   * Nesting deeper than MAX_DEPTH, or past the MAX_NODES records read for one tree: the lookup limit would stop any
   * evaluation long before. Only the first node past MAX_NODES is kept; the rest of the tree is not read.
   */
  | 'too-deep';

export interface VoidLookup {
  readonly term: string;
  readonly target: string;
  readonly result: 'nxdomain' | 'nodata';
  /**
   * Whose evaluation counts it: an `a` term asks A for an IPv4 client and AAAA for an IPv6 one (RFC 7208 §5.3), so its
   * void lookups are per family; `mx` and `exists` ask the same for every client ('any').
   */
  readonly family: 'ipv4' | 'ipv6' | 'any';
}

/** The client address families whose evaluations the tree is counted for (the tenant's relay IPs). */
export type Families = { readonly ipv4: boolean; readonly ipv6: boolean };

export interface SpfNode {
  readonly domain: string;
  readonly via: 'root' | 'include' | 'redirect';
  readonly status: SpfNodeStatus;
  readonly record?: string;
  readonly records?: readonly string[];
  readonly parsed?: ParsedSpf;
  readonly ttl?: number;
  /** Why the TXT query failed, for `dns-failure`. */
  readonly dnsDetail?: string;
  /** DNS-querying terms of this record itself (include, a, mx, ptr, exists, redirect). */
  readonly lookups: number;
  readonly voidLookups: readonly VoidLookup[];
  /** Queries made for this record's a/mx/exists terms that failed: the void count may be incomplete. */
  readonly unknownLookups: readonly string[];
  /** `mx` terms whose name has more than 10 MX records (RFC 7208 §4.6.4: permerror). */
  readonly mxOverLimit: readonly { term: string; count: number }[];
  /** `redirect=` present but ignored because the record has an `all` mechanism. */
  readonly redirectIgnored: boolean;
  readonly children: readonly SpfNode[];
}

export interface SpfTree {
  readonly root: SpfNode;
  readonly totalLookups: number;
  readonly totalVoidLookups: number;
  /** Domains (root first) leading to `include:spf.protection.outlook.com`, or null if it is nowhere in the tree. */
  readonly m365Path: readonly string[] | null;
}

export const M365_SPF_INCLUDE = 'spf.protection.outlook.com';
export const MAX_DEPTH = 12;
/**
 * Records read for one tree at most. Every node below the root costs its parent one lookup, so a tree this big is far
 * past the limit of 10 already; without a cap, names that include each other make the walk grow factorially.
 */
export const MAX_NODES = 100;

interface Budget {
  left: number;
  truncated: boolean;
}

async function fetchRecord(
  resolver: DnsResolver,
  domain: string,
): Promise<{ status: SpfNodeStatus; record?: string; records?: string[]; ttl?: number; dnsDetail?: string }> {
  const r = await resolver.query(domain, 'TXT');
  if (isFailure(r)) return { status: 'dns-failure', dnsDetail: describeResult(r) };
  if (r.kind === 'nxdomain') return { status: 'nxdomain' };
  if (r.kind === 'nodata') return { status: 'no-record' };
  const selected = selectSpfRecord(r.records.map((rec) => rec.data.text));
  if (selected.kind === 'none') return { status: 'no-record' };
  if (selected.kind === 'several') return { status: 'several', records: selected.records, ttl: r.ttl };
  return { status: 'ok', record: selected.record, ttl: r.ttl };
}

function isVoid(r: DnsResult<'A' | 'AAAA' | 'MX'>): 'nxdomain' | 'nodata' | null {
  return r.kind === 'nxdomain' ? 'nxdomain' : r.kind === 'nodata' ? 'nodata' : null;
}

/** Terms up to and including `all`: terms after it are never evaluated (RFC 7208 §5.1). */
function evaluatedMechanisms(parsed: ParsedSpf): Mechanism[] {
  const out: Mechanism[] = [];
  for (const t of parsed.terms) {
    if (t.kind !== 'mechanism') continue;
    out.push(t);
    if (t.name === 'all') break;
  }
  return out;
}

async function walk(
  resolver: DnsResolver,
  domain: string,
  via: SpfNode['via'],
  path: readonly string[],
  budget: Budget,
  families: Families,
): Promise<SpfNode | null> {
  const base = {
    domain,
    via,
    lookups: 0,
    voidLookups: [],
    unknownLookups: [],
    mxOverLimit: [],
    redirectIgnored: false,
    children: [],
  };
  if (path.includes(domain)) return { ...base, status: 'loop' };
  if (path.length >= MAX_DEPTH) return { ...base, status: 'too-deep' };
  if (budget.left <= 0) {
    if (budget.truncated) return null;
    budget.truncated = true;
    return { ...base, status: 'too-deep' };
  }
  budget.left--;

  const fetched = await fetchRecord(resolver, domain);
  if (fetched.status !== 'ok' || fetched.record === undefined) return { ...base, ...fetched };

  const parsed = parseSpf(fetched.record);
  const mechanisms = evaluatedMechanisms(parsed);
  const hasAll = allMechanism(parsed) !== undefined;
  const redirect = redirectOf(parsed);
  const redirectIgnored = redirect !== undefined && hasAll;
  const nextPath = [...path, domain];

  let lookups = mechanisms.filter((m) => LOOKUP_MECHANISMS.has(m.name)).length;
  if (redirect && !redirectIgnored) lookups++;

  const voidLookups: VoidLookup[] = [];
  const unknownLookups: string[] = [];
  const mxOverLimit: { term: string; count: number }[] = [];
  const childJobs: Promise<SpfNode | null>[] = [];
  const probeJobs: Promise<void>[] = [];

  for (const m of mechanisms) {
    // A target with a syntax error is reported as such and never asked: it may not even be encodable in DNS.
    if (m.value && checkDomainSpec(m.value) !== null) continue;
    if (m.name === 'include' && m.value && !hasMacro(m.value)) {
      childJobs.push(walk(resolver, normaliseName(m.value), 'include', nextPath, budget, families));
    } else if ((m.name === 'a' || m.name === 'mx' || m.name === 'exists') && !(m.value && hasMacro(m.value))) {
      const target = normaliseName(m.value ?? domain);
      const asks: Array<{ type: 'A' | 'AAAA' | 'MX'; family: VoidLookup['family'] }> =
        m.name === 'mx'
          ? [{ type: 'MX', family: 'any' }]
          : m.name === 'exists'
            ? [{ type: 'A', family: 'any' }]
            : [
                ...(families.ipv4 || !families.ipv6 ? [{ type: 'A' as const, family: 'ipv4' as const }] : []),
                ...(families.ipv6 ? [{ type: 'AAAA' as const, family: 'ipv6' as const }] : []),
              ];
      for (const { type, family } of asks) {
        probeJobs.push(
          resolver.query(target, type).then((r) => {
            if (isFailure(r)) {
              unknownLookups.push(`${m.raw}: ${describeResult(r)}`);
              return;
            }
            const v = isVoid(r);
            if (v) voidLookups.push({ term: m.raw, target, result: v, family });
            if (r.kind === 'answer' && m.name === 'mx' && r.records.length > 10) {
              mxOverLimit.push({ term: m.raw, count: r.records.length });
            }
          }),
        );
      }
    }
  }
  if (redirect && !redirectIgnored && !hasMacro(redirect.value) && checkDomainSpec(redirect.value) === null) {
    childJobs.push(walk(resolver, normaliseName(redirect.value), 'redirect', nextPath, budget, families));
  }
  const [children] = await Promise.all([Promise.all(childJobs), Promise.all(probeJobs)]);
  return {
    ...base,
    status: 'ok',
    record: fetched.record,
    parsed,
    ...(fetched.ttl !== undefined ? { ttl: fetched.ttl } : {}),
    lookups,
    voidLookups,
    unknownLookups,
    mxOverLimit,
    redirectIgnored,
    children: children.filter((c): c is SpfNode => c !== null),
  };
}

function sum(node: SpfNode, f: (n: SpfNode) => number): number {
  return f(node) + node.children.reduce((acc, c) => acc + sum(c, f), 0);
}

function findM365(node: SpfNode): string[] | null {
  if (node.domain === M365_SPF_INCLUDE && node.via === 'include') return [node.domain];
  for (const c of node.children) {
    const p = findM365(c);
    if (p) return [node.domain, ...p];
  }
  return null;
}

/** Build the SPF tree of `domain`. Never rejects: DNS failures are recorded on the nodes. */
export async function buildSpfTree(
  resolver: DnsResolver,
  domain: string,
  families: Families = { ipv4: true, ipv6: false },
): Promise<SpfTree> {
  // the root is always read: the budget starts above zero
  const root = (await walk(
    resolver,
    normaliseName(domain),
    'root',
    [],
    { left: MAX_NODES, truncated: false },
    families,
  ))!;
  const voids = (family: 'ipv4' | 'ipv6') =>
    sum(root, (n) => n.voidLookups.filter((v) => v.family === 'any' || v.family === family).length);
  return {
    root,
    totalLookups: sum(root, (n) => n.lookups),
    // the worst evaluation: each client family counts its own `a` lookups plus the shared ones
    totalVoidLookups: Math.max(voids('ipv4'), voids('ipv6')),
    m365Path: findM365(root),
  };
}

/** Every node of the tree, depth first, with its path from the root. */
export function* nodesOf(node: SpfNode, path: readonly string[] = []): Generator<{ node: SpfNode; path: string[] }> {
  const here = [...path, node.domain];
  yield { node, path: here };
  for (const c of node.children) yield* nodesOf(c, here);
}

/**
 * Single addresses the domain itself authorises (ip4 without prefix or /32, ip6 /128) in its own record and in
 * records under its own name (e.g. `_spf.contoso.com`), not in providers' includes.
 */
export function ownSingleAddresses(tree: SpfTree): string[] {
  const apex = tree.root.domain;
  const out = new Set<string>();
  for (const { node } of nodesOf(tree.root)) {
    if (node.domain !== apex && !node.domain.endsWith(`.${apex}`)) continue;
    for (const t of node.parsed?.terms ?? []) {
      if (t.kind !== 'mechanism' || !t.value) continue;
      if (t.name === 'ip4' && (t.cidr4 === null || t.cidr4 === 32)) out.add(t.value);
      if (t.name === 'ip6' && (t.cidr6 === null || t.cidr6 === 128)) out.add(t.value);
    }
  }
  return [...out];
}
