/**
 * The SPF check: is the domain's SPF what Exchange Online relay needs, and does it keep within RFC 7208?
 *
 * It walks the include/redirect tree (counts, syntax, posture) and then runs a real RFC 7208 evaluation of every relay
 * address, which must be `pass`. Findings codes are stable (README: "SPF findings").
 */
import { canonicalIp, ipInEntries, representativeAddresses } from '../domain/ip.ts';
import { type CheckOutcome, type Evidence, type Finding, finding, statusOf } from '../domain/outcome.ts';
import { allMechanism, type Mechanism, type ParsedSpf } from '../domain/spf-record.ts';
import type { SpfEvaluation } from '../ports/spf-evaluator.ts';
import { buildSpfTree, M365_SPF_INCLUDE, nodesOf, ownSingleAddresses, type SpfNode, type SpfTree } from './spf-tree.ts';
import type { CheckContext, DomainCheck, DomainTarget } from './types.ts';

export const SPF_LOOKUP_LIMIT = 10;
export const SPF_VOID_LIMIT = 2;
/** Above this many lookups we warn: the next vendor include tips the domain into permerror. */
export const SPF_LOOKUP_WARN_AT = 8;
/** Records much longer than this risk truncated UDP answers and some receivers' limits (RFC 7208 §3.4). */
export const SPF_RECORD_SIZE_WARN = 450;

function where(path: readonly string[]): string {
  return path.length > 1 ? ` (via ${path.join(' → ')})` : '';
}

function q(text: string): string {
  return JSON.stringify(text);
}

/** Findings about the tree: selection, syntax, includes, limits, posture. */
export function treeFindings(tree: SpfTree): Finding[] {
  const out: Finding[] = [];
  const root = tree.root;
  const domain = root.domain;

  switch (root.status) {
    case 'dns-failure':
      out.push(
        finding('spf-dns-unknown', 'unknown', `Could not read the TXT records of ${domain}: ${root.dnsDetail}.`, {
          domain,
        }),
      );
      return out;
    case 'nxdomain':
      out.push(finding('spf-domain-nxdomain', 'error', `${domain} does not exist in DNS (NXDOMAIN).`, { domain }));
      return out;
    case 'no-record':
      out.push(
        finding(
          'spf-missing',
          'error',
          `${domain} publishes no SPF record. Publish one TXT record such as "v=spf1 ip4:<relay IP> include:${M365_SPF_INCLUDE} -all".`,
          { domain },
        ),
      );
      return out;
    case 'several':
      out.push(
        finding(
          'spf-multiple-records',
          'error',
          `${domain} publishes ${root.records?.length ?? 2} SPF records; RFC 7208 §4.5 makes that a permerror for every receiver. Merge them into one.`,
          { domain, records: [...(root.records ?? [])] },
        ),
      );
      return out;
    default:
      break;
  }

  for (const { node, path } of nodesOf(root)) {
    out.push(...nodeFindings(node, path));
  }

  if (tree.totalLookups > SPF_LOOKUP_LIMIT) {
    out.push(
      finding(
        'spf-lookup-limit',
        'error',
        `The SPF tree needs ${tree.totalLookups} DNS lookups; RFC 7208 allows ${SPF_LOOKUP_LIMIT}, so receivers return permerror. Remove or flatten includes.`,
        { lookups: tree.totalLookups, limit: SPF_LOOKUP_LIMIT },
      ),
    );
  } else if (tree.totalLookups >= SPF_LOOKUP_WARN_AT) {
    out.push(
      finding(
        'spf-lookup-near-limit',
        'warning',
        `The SPF tree needs ${tree.totalLookups} of ${SPF_LOOKUP_LIMIT} allowed DNS lookups; one or two more includes will break it.`,
        { lookups: tree.totalLookups, limit: SPF_LOOKUP_LIMIT },
      ),
    );
  } else {
    out.push(
      finding('spf-lookups', 'info', `The SPF tree needs ${tree.totalLookups} of ${SPF_LOOKUP_LIMIT} DNS lookups.`, {
        lookups: tree.totalLookups,
        limit: SPF_LOOKUP_LIMIT,
      }),
    );
  }
  if (tree.totalVoidLookups > SPF_VOID_LIMIT) {
    out.push(
      finding(
        'spf-void-limit',
        'error',
        `${tree.totalVoidLookups} lookups in the SPF tree return nothing; RFC 7208 allows ${SPF_VOID_LIMIT}, so receivers may return permerror.`,
        { voidLookups: tree.totalVoidLookups, limit: SPF_VOID_LIMIT },
      ),
    );
  }

  const rootAll = root.parsed ? allMechanism(root.parsed) : undefined;
  if (root.parsed) out.push(...postureFindings(root, rootAll));

  if (tree.m365Path) {
    out.push(
      finding(
        'spf-m365-include',
        'info',
        `include:${M365_SPF_INCLUDE} is present${where(tree.m365Path.slice(0, -1))}.`,
        { path: [...tree.m365Path] },
      ),
    );
  } else if ([...nodesOf(root)].some(({ node }) => node.status === 'dns-failure')) {
    // the include may sit in the part of the tree that could not be read: an outage is unknown, never a failure
    out.push(
      finding(
        'spf-m365-include-unknown',
        'unknown',
        `include:${M365_SPF_INCLUDE} was not found, but part of the SPF tree of ${domain} could not be read; it may be there.`,
        { domain },
      ),
    );
  } else {
    out.push(
      finding(
        'spf-m365-include-missing',
        'error',
        `include:${M365_SPF_INCLUDE} is missing: mail that Exchange Online sends for ${domain} fails SPF at receivers.`,
        { domain },
      ),
    );
  }
  return out;
}

function postureFindings(root: SpfNode, all: Mechanism | undefined): Finding[] {
  const domain = root.domain;
  const redirectTarget = root.children.find((c) => c.via === 'redirect');
  if (!all) {
    if (redirectTarget) {
      return [
        finding('spf-all-redirect', 'info', `${domain} takes its policy from redirect=${redirectTarget.domain}.`, {
          redirect: redirectTarget.domain,
        }),
      ];
    }
    return [
      finding(
        'spf-all-missing',
        'warning',
        `The SPF record of ${domain} has no "all" mechanism, so unlisted senders get "neutral". End it with "-all" (or "~all").`,
        { domain },
      ),
    ];
  }
  switch (all.qualifier) {
    case '+':
      return [
        finding(
          'spf-all-pass',
          'error',
          `"${all.raw}" authorises every server on the Internet to send as ${domain}. Use "-all".`,
          { term: all.raw, position: all.position },
        ),
      ];
    case '?':
      return [
        finding(
          'spf-all-neutral',
          'warning',
          `"${all.raw}" tells receivers nothing about unlisted senders. Use "-all" (or "~all").`,
          { term: all.raw, position: all.position },
        ),
      ];
    case '~':
      return [
        finding(
          'spf-all-softfail',
          'info',
          `"~all": unlisted senders soft-fail. Fine while DMARC enforces; "-all" is stricter.`,
          { term: all.raw },
        ),
      ];
    case '-':
      return [finding('spf-all-fail', 'info', `"-all": unlisted senders fail.`, { term: all.raw })];
  }
}

function syntaxFindings(node: SpfNode, parsed: ParsedSpf, path: readonly string[]): Finding[] {
  return parsed.errors.map((e) =>
    finding(
      'spf-syntax-error',
      'error',
      `SPF record of ${node.domain}${where(path)} has a syntax error at column ${e.position} (${q(e.term)}): ${e.message}. ${
        // RFC 7208 §12 itself allows empty and over-long labels; receivers then fail the lookup or return permerror.
        /label/.test(e.message) ? 'Receivers may return permerror or skip the term.' : 'Receivers return permerror.'
      }`,
      { domain: node.domain, position: e.position, term: e.term, record: parsed.text },
    ),
  );
}

function nodeFindings(node: SpfNode, path: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const parent = path.length > 1 ? path[path.length - 2] : undefined;
  const term = node.via === 'redirect' ? `redirect=${node.domain}` : `include:${node.domain}`;
  if (node.via !== 'root') {
    const ev: Evidence = { domain: node.domain, from: parent ?? null, path: [...path] };
    switch (node.status) {
      case 'dns-failure':
        out.push(
          finding(
            'spf-include-temperror',
            'unknown',
            `${term} in the SPF of ${parent} could not be resolved: ${node.dnsDetail}. Receivers return temperror while this lasts.`,
            ev,
          ),
        );
        break;
      case 'nxdomain':
      case 'no-record':
        out.push(
          finding(
            'spf-include-permerror',
            'error',
            `${term} in the SPF of ${parent} points to a name with no SPF record (${node.status === 'nxdomain' ? 'NXDOMAIN' : 'no v=spf1 TXT'}): permerror at every receiver.`,
            ev,
          ),
        );
        break;
      case 'several':
        out.push(
          finding(
            'spf-include-permerror',
            'error',
            `${term} in the SPF of ${parent} points to a name with several SPF records: permerror at every receiver.`,
            ev,
          ),
        );
        break;
      case 'loop':
        out.push(
          finding('spf-include-loop', 'error', `${term} loops back to a record already on the path${where(path)}.`, ev),
        );
        break;
      case 'too-deep':
        out.push(
          finding(
            'spf-include-too-deep',
            'error',
            `The SPF tree nests too deeply or is too big to read${where(path)}.`,
            ev,
          ),
        );
        break;
      case 'ok':
        break;
    }
  }
  if (node.status !== 'ok' || !node.parsed) return out;
  const parsed = node.parsed;
  out.push(...syntaxFindings(node, parsed, path));

  for (const t of parsed.terms) {
    if (t.kind === 'mechanism' && t.name === 'ptr') {
      out.push(
        finding(
          'spf-ptr',
          'warning',
          `"${t.raw}" in the SPF of ${node.domain} uses the "ptr" mechanism, which RFC 7208 §5.5 says not to use; many receivers skip it.`,
          { domain: node.domain, term: t.raw, position: t.position },
        ),
      );
    }
  }
  const size = Buffer.byteLength(parsed.text);
  if (size > SPF_RECORD_SIZE_WARN) {
    out.push(
      finding(
        'spf-record-too-long',
        'warning',
        `The SPF record of ${node.domain} is ${size} bytes; above about ${SPF_RECORD_SIZE_WARN} bytes answers may be truncated and some receivers fail.`,
        { domain: node.domain, bytes: size },
      ),
    );
  }
  if (node.redirectIgnored) {
    out.push(
      finding(
        'spf-redirect-ignored',
        'info',
        `The SPF of ${node.domain} has both "all" and "redirect="; the redirect is ignored (RFC 7208 §6.1).`,
        { domain: node.domain },
      ),
    );
  }
  for (const v of node.voidLookups) {
    out.push(
      finding(
        'spf-void-lookup',
        'warning',
        `"${v.term}" in the SPF of ${node.domain} looks up ${v.target}, which returns nothing${v.family === 'ipv6' ? ' for IPv6 senders' : v.family === 'ipv4' ? ' for IPv4 senders' : ''} (${v.result === 'nxdomain' ? 'NXDOMAIN' : v.family === 'ipv6' ? 'no AAAA records' : 'no records'}); it counts toward the limit of ${SPF_VOID_LIMIT} void lookups.`,
        { domain: node.domain, term: v.term, target: v.target, family: v.family },
      ),
    );
  }
  for (const u of node.unknownLookups) {
    out.push(
      finding('spf-lookup-unknown', 'unknown', `In the SPF of ${node.domain}, ${u}.`, {
        domain: node.domain,
      }),
    );
  }
  for (const mx of node.mxOverLimit) {
    out.push(
      finding(
        'spf-mx-too-many',
        'error',
        `"${mx.term}" in the SPF of ${node.domain} names ${mx.count} MX hosts; RFC 7208 §4.6.4 allows 10 (permerror).`,
        { domain: node.domain, term: mx.term, count: mx.count },
      ),
    );
  }
  return out;
}

/** Findings from evaluating each relay address with RFC 7208 check_host(). */
export function relayFindings(
  domain: string,
  evaluations: readonly SpfEvaluation[],
  entries: readonly string[],
): Finding[] {
  const out: Finding[] = [];
  if (entries.length === 0) {
    out.push(
      finding(
        'spf-no-relay-ips',
        'info',
        `No relay IPs are configured for ${domain}; only the record itself was checked.`,
        { domain },
      ),
    );
  }
  for (const e of evaluations) {
    const ev: Evidence = { ip: e.ip, result: e.result, comment: e.comment };
    if (e.result === 'pass') {
      out.push(finding('spf-relay-ip-pass', 'info', `Relay IP ${e.ip} passes SPF for ${domain}.`, ev));
    } else if (e.result === 'temperror') {
      out.push(
        finding(
          'spf-relay-ip-unknown',
          'unknown',
          `SPF for relay IP ${e.ip} could not be evaluated (temperror: a DNS lookup failed).`,
          ev,
        ),
      );
    } else {
      const advice =
        e.result === 'permerror'
          ? 'the SPF record is broken (permerror), so no address passes'
          : `the record does not authorise it (${e.result})`;
      out.push(
        finding(
          'spf-relay-ip-not-authorised',
          'error',
          `Relay IP ${e.ip} does not pass SPF for ${domain}: ${advice}. Add "ip${e.ip.includes(':') ? '6' : '4'}:${e.ip}" to the record and check the inbound connector lists the same IP.`,
          ev,
        ),
      );
    }
  }
  return out;
}

/** SPF-authorised single addresses that are not configured relay IPs (the connector and SPF should agree). */
export function unlistedFindings(domain: string, tree: SpfTree, relayIps: readonly string[]): Finding[] {
  return ownSingleAddresses(tree)
    .filter((ip) => !ipInEntries(ip, relayIps))
    .map((ip) =>
      finding(
        'spf-ip-not-relay',
        'info',
        `SPF of ${domain} authorises ${ip}, which is not among the configured relay IPs; if a device relays from it, add it to relayIps (and the connector), otherwise remove it from SPF.`,
        { ip: canonicalIp(ip) ?? ip },
      ),
    );
}

function treeDetails(node: SpfNode): Evidence {
  return {
    domain: node.domain,
    via: node.via,
    status: node.status,
    record: node.record ?? null,
    lookups: node.lookups,
    voidLookups: node.voidLookups.length,
    children: node.children.map(treeDetails),
  };
}

export const spfCheck: DomainCheck = {
  kind: 'spf',
  title: 'SPF record, include tree, RFC 7208 limits and an SPF evaluation of every relay IP',
  async run(target: DomainTarget, ctx: CheckContext): Promise<CheckOutcome> {
    const started = ctx.now();
    const relayFamilies = target.relayIps.map((ip) => (ip.includes(':') ? 'ipv6' : 'ipv4'));
    const tree = await buildSpfTree(ctx.resolver, target.domain, {
      ipv4: relayFamilies.length === 0 || relayFamilies.includes('ipv4'),
      ipv6: relayFamilies.includes('ipv6'),
    });
    const findings = treeFindings(tree);
    let evaluations: SpfEvaluation[] = [];
    if (tree.root.status === 'ok') {
      const ips = target.relayIps.flatMap(representativeAddresses);
      evaluations = await Promise.all(ips.map((ip) => ctx.evaluateSpf({ ip, domain: tree.root.domain })));
      findings.push(...relayFindings(tree.root.domain, evaluations, target.relayIps));
      findings.push(...unlistedFindings(tree.root.domain, tree, target.relayIps));
    }
    return {
      kind: 'spf',
      subject: tree.root.domain,
      status: statusOf(findings),
      findings,
      details: {
        record: tree.root.record ?? null,
        lookups: tree.totalLookups,
        voidLookups: tree.totalVoidLookups,
        tree: treeDetails(tree.root),
        evaluations: evaluations.map((e) => ({ ip: e.ip, result: e.result })),
        /** Single addresses the domain's own records authorise (checked against blocklists). */
        ownAddresses: tree.root.status === 'ok' ? ownSingleAddresses(tree) : [],
      },
      durationMs: ctx.now() - started,
    };
  },
};
