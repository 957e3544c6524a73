/**
 * A synthetic MSP for the benchmark: tenants, domains and the DNS data their checks will ask for, with realistic SPF
 * trees: every domain includes Microsoft's record (itself two levels, as published), many share vendor includes
 * (CRM, marketing, ticketing…) that nest up to two levels below their entry record (so a domain's tree is 3-4 levels
 * deep), and some use `a`/`mx` terms. Deterministic (seeded).
 *
 * The data is meant to be healthy: every domain's SPF tree stays below the lookup warning threshold
 * (`SPF_LOOKUP_WARN_AT`), the relay IP is authorised by the domain's own record, and the MX points at the domain's
 * Exchange Online host (`<domain with dots as dashes>.mail.protection.outlook.com`) which has an A record.
 */

import { ZONES } from '../../shared/blocklist/registry.ts';
import { SPF_LOOKUP_WARN_AT } from '../../shared/checks/spf.ts';
import { mulberry32 } from '../support/prng.ts';

export interface SyntheticTenant {
  readonly id: string;
  readonly name: string;
  readonly domains: { readonly name: string }[];
  readonly relayIps: string[];
}

export interface SyntheticMsp {
  readonly tenants: SyntheticTenant[];
  /** unbound `local-data` lines (zone-file syntax: `name. TTL IN TYPE rdata`). */
  readonly localData: string[];
}

export interface SyntheticMspOptions {
  readonly tenants: number;
  readonly domainsPerTenant: number;
  readonly vendors: number;
  readonly seed?: number;
}

const TTL = 3600;
/** Lookups a domain's tree may use: one below the warning threshold, so no domain warns. */
const LOOKUP_BUDGET = SPF_LOOKUP_WARN_AT - 1;
/** Microsoft's tree: the include itself and its nested include:spfd.protection.outlook.com. */
const M365_LOOKUPS = 2;

/** Levels of nesting below a vendor's entry record (0-2), so the vendor's own tree costs 1-3 lookups. */
function vendorDepth(v: number): number {
  return v % 3;
}

export function syntheticMsp(opts: SyntheticMspOptions): SyntheticMsp {
  const rand = mulberry32(opts.seed ?? 7208);
  const data: string[] = [];
  const txt = (name: string, text: string) => {
    // Split long records into 255-byte character-strings, as DNS hosting panels do.
    const chunks = text.match(/.{1,255}/g) ?? [''];
    data.push(`${name}. ${TTL} IN TXT ${chunks.map((c) => `"${c}"`).join(' ')}`);
  };

  // Microsoft's published tree: spf.protection.outlook.com → spfd.protection.outlook.com (two levels).
  txt(
    'spf.protection.outlook.com',
    'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip4:52.102.0.0/16 ip4:52.103.0.0/17 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 include:spfd.protection.outlook.com -all',
  );
  txt(
    'spfd.protection.outlook.com',
    'v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 ip4:51.5.80.0/27 ip4:20.47.149.138/32 -all',
  );

  for (let v = 0; v < opts.vendors; v++) {
    const depth = vendorDepth(v);
    for (let level = 0; level <= depth; level++) {
      const name = level === 0 ? `_spf.vendor${v}.example` : `_nb${level}.vendor${v}.example`;
      const next = level < depth ? ` include:_nb${level + 1}.vendor${v}.example` : '';
      txt(name, `v=spf1 ip4:198.18.${v % 256}.${level * 16}/28${next} ~all`);
    }
  }

  const tenants: SyntheticTenant[] = [];
  let n = 0;
  for (let t = 0; t < opts.tenants; t++) {
    const relayIp = `203.0.${Math.floor(t / 250)}.${(t % 250) + 1}`;
    const domains: { name: string }[] = [];
    for (let d = 0; d < opts.domainsPerTenant; d++) {
      const domain = `d${n++}.tenant${t}.example`;
      domains.push({ name: domain });
      const useA = rand() < 0.2;
      const useMx = rand() < 0.1;
      const ipFirst = rand() < 0.5;
      // Vendor includes, as many as fit the lookup budget (0-3 wanted).
      let budget = LOOKUP_BUDGET - M365_LOOKUPS - (useA ? 1 : 0) - (useMx ? 1 : 0);
      const wanted = Math.floor(rand() * 4);
      const vendors: number[] = [];
      for (let tries = 0; vendors.length < wanted && tries < 20; tries++) {
        const v = Math.floor(rand() * opts.vendors);
        const cost = 1 + vendorDepth(v);
        if (vendors.includes(v) || cost > budget) continue;
        vendors.push(v);
        budget -= cost;
      }
      const terms = [
        ...(useA ? [`a:mail.${domain}`] : []),
        ...(useMx ? ['mx'] : []),
        'include:spf.protection.outlook.com',
        ...vendors.map((v) => `include:_spf.vendor${v}.example`),
      ];
      // Half the records list the relay first (check_host() matches at once), half after the includes (the
      // evaluation walks the whole tree first, from the cache).
      const ip = `ip4:${relayIp}`;
      txt(domain, `v=spf1 ${(ipFirst ? [ip, ...terms] : [...terms, ip]).join(' ')} -all`);
      if (useA) data.push(`mail.${domain}. ${TTL} IN A 198.51.100.${(t % 250) + 1}`);
      const mx = `${domain.replaceAll('.', '-')}.mail.protection.outlook.com`;
      data.push(`${domain}. ${TTL} IN MX 0 ${mx}.`);
      data.push(`${mx}. ${TTL} IN A 52.101.${t % 256}.${(d % 250) + 1}`);
    }
    tenants.push({ id: `tenant${t}`, name: `Tenant ${t}`, domains, relayIps: [relayIp] });
  }
  return { tenants, localData: data };
}

/**
 * The synthetic MSP as a relaywatch configuration (one flow mapping per tenant), as the handler, CLI-memory and
 * config-parse benches write it: every default-enabled blocklist zone disabled (the comparison is the domain checks
 * and the state stage), DNS through `udp://127.0.0.1:<relayPort>`.
 */
export function benchConfigYaml(msp: SyntheticMsp, relayPort: number, concurrency: number): string {
  const disabled = ZONES.filter((z) => z.defaultEnabled).map((z) => z.id);
  const tenants = msp.tenants
    .map(
      (t) =>
        `  - { id: ${t.id}, name: ${JSON.stringify(t.name)}, domains: [${t.domains.map((d) => d.name).join(', ')}], ` +
        `relayIps: [${t.relayIps.join(', ')}] }`,
    )
    .join('\n');
  return `version: 1
msp: { name: Bench MSP, contact: { name: Bench NOC, email: noc@msp.example } }
dns: { resolvers: ['udp://127.0.0.1:${relayPort}'], timeoutMs: 5000, concurrency: ${concurrency} }
blocklists:
  zones: { disable: [${disabled.join(', ')}] }
tenants:
${tenants}
`;
}
