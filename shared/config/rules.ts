/**
 * Rules across values, and warnings (pure).
 *
 * They run on the raw document, item by item, so they still report when other parts of the file are invalid: a
 * duplicate tenant id is found even if one of the two tenants has a bad domain. An item that does not pass its own
 * schema is skipped here (the schema reports it).
 *
 * Errors: duplicate tenant ids (at every occurrence), a domain in two tenants (at every occurrence: a domain can be
 * verified in only one Microsoft 365 tenant), duplicates inside one list, probe recipients outside the tenant's
 * domains. Warnings: documentation addresses, a relay address shared by several tenants, a relay address already
 * covered by a range of the same tenant, a submission mailbox outside the tenant's domains, a submission port
 * other than 587.
 */
import type { z } from 'zod';
import { mailboxDomain } from './domain-name.ts';
import { formatPath, type PathSegment, type ProblemSeverity, quote } from './problems.ts';
import { parseRelayIp, type RelayRange, rangeContains, rangesOverlap } from './relay-ip.ts';
import {
  DEFAULT_SUBMISSION_PORT,
  DomainNameSchema,
  LIMITS,
  MailboxSchema,
  ResolverSchema,
  TagSchema,
  TenantIdSchema,
} from './schema.ts';

export interface RuleProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly severity: ProblemSeverity;
  /** Point at the key rather than the value (a problem about a whole section). */
  readonly atKey?: boolean;
}

/** The line of a path in the source, when known (for messages that point at another place). */
export type LineOf = (path: readonly PathSegment[]) => number | undefined;

interface Item<T> {
  readonly index: number;
  readonly value: T;
}

interface TenantView {
  readonly index: number;
  readonly id: string | undefined;
  readonly domains: readonly Item<string>[];
  readonly relayIps: readonly Item<RelayRange>[];
  readonly probeRecipients: readonly Item<string>[];
  readonly tags: readonly Item<string>[];
  readonly mailbox: string | undefined;
  readonly port: unknown;
  /** The relay probe's sender, when `relay` is configured with a valid one. */
  readonly relaySender: string | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * The items of a list that pass `schema`, with their indexes. A list longer than `max` (which its schema reports)
 * yields nothing, so that these rules stay cheap on absurd input.
 */
function validItems<S extends z.ZodType>(list: unknown, schema: S, max: number): Item<z.output<S>>[] {
  if (!Array.isArray(list) || list.length > max) return [];
  const out: Item<z.output<S>>[] = [];
  list.forEach((raw, index) => {
    const r = schema.safeParse(raw);
    if (r.success) out.push({ index, value: r.data });
  });
  return out;
}

/** The valid names among domain entries, also from object entries that have other problems (an unknown key…). */
function domainNames(list: unknown): Item<string>[] {
  if (!Array.isArray(list) || list.length > LIMITS.domainsPerTenant) return [];
  const out: Item<string>[] = [];
  list.forEach((entry, index) => {
    const name = isRecord(entry) ? own(entry, 'name') : entry;
    const r = DomainNameSchema.safeParse(name);
    if (r.success) out.push({ index, value: r.data });
  });
  return out;
}

function view(raw: unknown, index: number): TenantView | undefined {
  if (!isRecord(raw)) return undefined;
  const id = TenantIdSchema.safeParse(own(raw, 'id'));
  const relayIps: Item<RelayRange>[] = [];
  const rawIps = own(raw, 'relayIps');
  if (Array.isArray(rawIps) && rawIps.length <= LIMITS.relayIpsPerTenant) {
    rawIps.forEach((ip, i) => {
      if (typeof ip !== 'string') return;
      const r = parseRelayIp(ip);
      if (r.ok) relayIps.push({ index: i, value: r.value });
    });
  }
  const submission = own(raw, 'submission');
  const mailbox = isRecord(submission) ? MailboxSchema.safeParse(own(submission, 'mailbox')) : undefined;
  const relay = own(raw, 'relay');
  const sender = isRecord(relay) ? MailboxSchema.safeParse(own(relay, 'sender')) : undefined;
  return {
    relaySender: sender?.success ? sender.data : undefined,
    index,
    id: id.success ? id.data : undefined,
    domains: domainNames(own(raw, 'domains')),
    relayIps,
    probeRecipients: validItems(own(raw, 'probeRecipients'), MailboxSchema, LIMITS.probeRecipientsPerTenant),
    tags: validItems(own(raw, 'tags'), TagSchema, LIMITS.tagsPerTenant),
    mailbox: mailbox?.success ? mailbox.data : undefined,
    port: isRecord(submission) ? own(submission, 'port') : undefined,
  };
}

/** `tenants[0].domains[1] on line 14` */
function where(path: readonly PathSegment[], lineOf: LineOf): string {
  const line = lineOf(path);
  return `${formatPath(path)}${line === undefined ? '' : ` on line ${line}`}`;
}

/** `a, b, c and 4 more`: `total` items of which `shown` are the first (callers stop formatting after a few). */
function someOf(shown: readonly string[], total = shown.length, max = 3): string {
  const head = shown.slice(0, max).join(', ');
  return total > max ? `${head} and ${total - max} more` : head;
}

/** The first `max` members of `group` other than `self`, formatted (large groups stay cheap). */
function othersIn<T>(group: readonly T[], self: T, format: (o: T) => string, max = 3): string {
  const shown: string[] = [];
  for (const o of group) {
    if (o === self) continue;
    if (shown.length === max) break;
    shown.push(format(o));
  }
  return someOf(shown, group.length - 1, max);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Report every later item whose key equals an earlier one's, naming the first. */
function duplicatesInList<T>(
  items: readonly Item<T>[],
  base: readonly PathSegment[],
  key: (v: T) => string,
  what: (v: T) => string,
  lineOf: LineOf,
  out: RuleProblem[],
): void {
  const first = new Map<string, number>();
  for (const item of items) {
    const k = key(item.value);
    const at = first.get(k);
    if (at === undefined) {
      first.set(k, item.index);
      continue;
    }
    out.push({
      path: [...base, item.index],
      message: `${what(item.value)} is listed twice (first at ${where([...base, at], lineOf)})`,
      severity: 'error',
    });
  }
}

/** The first item per key (later duplicates are reported by `duplicatesInList`). */
function firstPerKey<T>(items: readonly Item<T>[], key: (v: T) => string): Item<T>[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = key(i.value);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Relay entries can only overlap inside the same /24 (IPv4) or /120 (IPv6), the largest range accepted; grouping by
 * that block keeps the overlap checks linear in practice.
 */
function block(r: RelayRange): string {
  const bytes = r.network.toByteArray();
  return `${r.family}:${bytes.slice(0, bytes.length - 1).join('.')}`;
}

/** Every cross-value problem and warning in a raw configuration document. */
export function checkRules(doc: unknown, lineOf: LineOf): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (!isRecord(doc)) return out;

  const dns = own(doc, 'dns');
  if (isRecord(dns)) {
    const resolvers = validItems(own(dns, 'resolvers'), ResolverSchema, LIMITS.resolvers);
    duplicatesInList(
      resolvers,
      ['dns', 'resolvers'],
      (r) => r.toLowerCase(),
      () => 'this resolver',
      lineOf,
      out,
    );
  }

  const rawTenants = own(doc, 'tenants');
  if (!Array.isArray(rawTenants) || rawTenants.length > LIMITS.tenants) return out;
  const tenants = rawTenants.map(view).filter((t): t is TenantView => t !== undefined);
  const T = (t: TenantView, ...rest: PathSegment[]): PathSegment[] => ['tenants', t.index, ...rest];

  // Tenant ids: every occurrence of a duplicate names the others.
  const byId = new Map<string, TenantView[]>();
  for (const t of tenants) if (t.id !== undefined) push(byId, t.id, t);
  for (const [id, group] of byId) {
    if (group.length < 2) continue;
    for (const t of group) {
      const others = othersIn(group, t, (o) => where(T(o, 'id'), lineOf));
      out.push({
        path: T(t, 'id'),
        message: `duplicate tenant id ${quote(id)}: also used by ${others}; ids must be unique`,
        severity: 'error',
      });
    }
  }

  const label = (t: TenantView) => (t.id !== undefined ? `tenant ${quote(t.id)}` : `tenants[${t.index}]`);

  // Lists inside one tenant.
  for (const t of tenants) {
    duplicatesInList(
      t.domains,
      T(t, 'domains'),
      (d) => d,
      (d) => `domain ${quote(d)}`,
      lineOf,
      out,
    );
    duplicatesInList(
      t.relayIps,
      T(t, 'relayIps'),
      (r) => r.text,
      (r) => `relay address ${r.text}`,
      lineOf,
      out,
    );
    duplicatesInList(
      t.probeRecipients,
      T(t, 'probeRecipients'),
      (a) => a.toLowerCase(),
      (a) => `probe recipient ${quote(a)}`,
      lineOf,
      out,
    );
    duplicatesInList(
      t.tags,
      T(t, 'tags'),
      (g) => g,
      (g) => `tag ${quote(g)}`,
      lineOf,
      out,
    );

    const domains = new Set(t.domains.map((d) => d.value));
    for (const r of t.probeRecipients) {
      if (!domains.has(mailboxDomain(r.value))) {
        out.push({
          path: T(t, 'probeRecipients', r.index),
          message: `${quote(r.value)} is outside the tenant's domains (${someOf([...domains].slice(0, 5), domains.size, 5) || 'none valid'}); probe messages go only to the tenant's own domains`,
          severity: 'error',
        });
      }
    }
    if (t.mailbox !== undefined && !domains.has(mailboxDomain(t.mailbox))) {
      out.push({
        path: T(t, 'submission', 'mailbox'),
        message: `the mailbox's domain ${quote(mailboxDomain(t.mailbox))} is not among the tenant's domains; list it under domains so that its SPF and MX are checked too (or correct the mailbox)`,
        severity: 'warning',
      });
    }
    if (t.relaySender !== undefined && !domains.has(mailboxDomain(t.relaySender))) {
      out.push({
        path: T(t, 'relay', 'sender'),
        message: `the sender's domain ${quote(mailboxDomain(t.relaySender))} is not among the tenant's domains; Exchange Online relays only for accepted domains, and the relay endpoint is taken from the sender domain's MX: list it under domains (or correct the sender)`,
        severity: 'warning',
      });
    }
    if (typeof t.port === 'number' && Number.isInteger(t.port) && t.port !== DEFAULT_SUBMISSION_PORT) {
      out.push({
        path: T(t, 'submission', 'port'),
        message: `port ${t.port} is unusual: Exchange Online accepts SMTP AUTH submission on 587 with STARTTLS (465 and implicit TLS are not supported)`,
        severity: 'warning',
      });
    }

    const unique = firstPerKey(t.relayIps, (r) => r.text);
    for (const r of unique) {
      if (r.value.documentation) {
        out.push({
          path: T(t, 'relayIps', r.index),
          message: `${r.value.text} is a documentation address (${r.value.documentation}): fine in examples and tests, but no real site sends from it`,
          severity: 'warning',
        });
      }
      const cover = unique.find(
        (o) => o.value.prefix < r.value.prefix && block(o.value) === block(r.value) && rangeContains(o.value, r.value),
      );
      if (cover) {
        out.push({
          path: T(t, 'relayIps', r.index),
          message: `${r.value.text} is already covered by ${cover.value.text} (${where(T(t, 'relayIps', cover.index), lineOf)})`,
          severity: 'warning',
        });
      }
    }
  }

  // Domains across tenants: every occurrence names the other tenants.
  const byDomain = new Map<string, Array<{ t: TenantView; index: number }>>();
  for (const t of tenants) {
    for (const d of firstPerKey(t.domains, (x) => x)) push(byDomain, d.value, { t, index: d.index });
  }
  for (const [domain, group] of byDomain) {
    if (group.length < 2) continue;
    for (const g of group) {
      const others = othersIn(group, g, (o) => `${label(o.t)} (${where(T(o.t, 'domains', o.index), lineOf)})`);
      out.push({
        path: T(g.t, 'domains', g.index),
        message: `domain ${quote(domain)} is also listed for ${others}; a domain can be verified in only one Microsoft 365 tenant`,
        severity: 'error',
      });
    }
  }

  // Relay addresses across tenants: allowed (a shared building or hosted relay), with a warning at each later tenant.
  // Per /24 (or /120) block: each distinct entry text, how many tenants listed it so far and where the first few did.
  interface Seen {
    readonly range: RelayRange;
    readonly where: string[];
    count: number;
  }
  const seenBlocks = new Map<string, Map<string, Seen>>();
  for (const t of tenants) {
    const mine = firstPerKey(t.relayIps, (x) => x.text);
    for (const r of mine) {
      const shown: string[] = [];
      let total = 0;
      for (const e of seenBlocks.get(block(r.value))?.values() ?? []) {
        if (!rangesOverlap(e.range, r.value)) continue;
        total += e.count;
        shown.push(...e.where.slice(0, 3 - shown.length));
      }
      if (total > 0) {
        out.push({
          path: T(t, 'relayIps', r.index),
          message: `${r.value.text} is also a relay address of ${someOf(shown, total)}: fine for a shared building or hosted relay, but a block-listing of it affects each of these tenants`,
          severity: 'warning',
        });
      }
    }
    for (const r of mine) {
      const key = block(r.value);
      let entries = seenBlocks.get(key);
      if (!entries) {
        entries = new Map();
        seenBlocks.set(key, entries);
      }
      let entry = entries.get(r.value.text);
      if (!entry) {
        entry = { range: r.value, where: [], count: 0 };
        entries.set(r.value.text, entry);
      }
      entry.count++;
      if (entry.where.length < 3) {
        entry.where.push(`${label(t)} (${r.value.text} at ${where(T(t, 'relayIps', r.index), lineOf)})`);
      }
    }
  }

  return out;
}
