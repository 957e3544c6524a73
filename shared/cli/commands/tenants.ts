/** `relaywatch tenants`: what the configuration monitors, per tenant (read from the file only). */
import type { Command } from 'commander';
import { isPublicResolver } from '../../blocklist/engine.ts';
import { blocklistResolvers, blocklistZones } from '../../config/blocklists.ts';
import type { RelaywatchConfig } from '../../config/schema.ts';
import { channelOf, tenantAlerting } from '../../notify/routing.ts';
import { type CliIo, loadConfigOrExit, selectTenants, write } from '../common.ts';
import { safeJson } from '../json.ts';
import { clean } from '../render.ts';

export interface TenantSummary {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly domains: readonly { readonly name: string; readonly expectedMx: string | null }[];
  /** `relayIps` as configured (addresses and small ranges). */
  readonly sendingIps: readonly string[];
  readonly routes: readonly { readonly id: string; readonly channel: string; readonly minSeverity: string }[];
  /** What `check` (and the agent) watch for this tenant, one entry per kind of check. */
  readonly monitored: readonly { readonly check: string; readonly what: string }[];
  readonly maintenanceWindows: number;
  readonly mutes: number;
}

export interface TenantsDocument {
  readonly schema: 'relaywatch.tenants/v1';
  readonly config: string;
  readonly tenants: readonly TenantSummary[];
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function tenantSummaries(c: RelaywatchConfig): TenantSummary[] {
  const routes = new Map((c.alerts?.routes ?? []).map((r) => [r.id, r]));
  const alerting = new Map(tenantAlerting(c).map((a) => [a.id, a]));
  return c.tenants.map((t): TenantSummary => {
    const monitored: { check: string; what: string }[] = [];
    const n = t.domains.length;
    monitored.push({ check: 'spf', what: `SPF of ${plural(n, 'domain')}, every relay IP evaluated` });
    monitored.push({ check: 'mx', what: `MX of ${plural(n, 'domain')} against Exchange Online` });
    const zones = blocklistZones(c, t.id);
    // As the engine plans them (no DNS asked): a key zone without its key, or a zone that refuses public resolvers
    // when every blocklist resolver is public, is reported as not checked by check.
    const onlyPublic = blocklistResolvers(c).every(isPublicResolver);
    const keys = c.blocklists?.keys ?? {};
    const unchecked = zones.filter(
      (z) =>
        (z.key !== null && !(z.id in keys)) ||
        (onlyPublic && ((z.key === null && z.publicResolvers === 'refused') || z.registrationRequired)),
    ).length;
    const on = `on ${plural(zones.length, 'blocklist')}${unchecked > 0 ? ` (${unchecked} of them not checked in this setup: a key or a private resolver is missing)` : ''}`;
    monitored.push({
      check: 'blocklist',
      what:
        t.relayIps.length > 0
          ? `${plural(t.relayIps.length, 'relay entry', 'relay entries')} and the single IPs its SPF authorises, ${on}`
          : `the single IPs its SPF authorises (no relayIps), ${on}`,
    });
    if (t.submission) {
      monitored.push({
        check: 'submission',
        what: `submission settings of ${t.submission.mailbox} (${t.submission.auth})`,
      });
      monitored.push({
        check: 'probe-submission',
        what:
          (t.probeRecipients ?? []).length > 0
            ? `SMTP AUTH probe to ${t.submission.host}:${t.submission.port} with check --probes or probe submission`
            : 'SMTP AUTH probe: not possible, no probeRecipients',
      });
    }
    if (t.relay) {
      const agentHere =
        c.agent && (c.agent.tenant === t.id || (c.agent.tenant === undefined && c.tenants.length === 1));
      monitored.push({
        check: 'probe-relay',
        what: `relay probe from ${t.relay.sender} at the site (${agentHere ? `agent ${c.agent?.id}` : 'relaywatch agent or probe relay'})`,
      });
    }
    return {
      id: t.id,
      name: t.name,
      tags: t.tags ?? [],
      domains: t.domains.map((d) => ({ name: d.name, expectedMx: 'expectedMx' in d ? (d.expectedMx ?? null) : null })),
      sendingIps: t.relayIps,
      routes: (alerting.get(t.id)?.routes ?? []).map((r) => {
        const route = routes.get(r.id);
        return { id: r.id, channel: route ? channelOf(route) : 'unknown', minSeverity: r.minSeverity };
      }),
      monitored,
      maintenanceWindows: t.maintenance?.length ?? 0,
      mutes: t.mutes?.length ?? 0,
    };
  });
}

export function renderTenants(d: TenantsDocument): string {
  const out: string[] = [`Tenants in ${clean(d.config)} (${d.tenants.length}):`];
  for (const t of d.tenants) {
    out.push('', `${clean(t.id)} — ${clean(t.name)}${t.tags.length ? ` [${t.tags.map(clean).join(', ')}]` : ''}`);
    out.push(
      `  domains:      ${t.domains.map((x) => `${clean(x.name)}${x.expectedMx ? ` (expected MX ${clean(x.expectedMx)})` : ''}`).join(', ')}`,
    );
    out.push(`  sending IPs:  ${t.sendingIps.length ? t.sendingIps.map(clean).join(', ') : '(none configured)'}`);
    out.push(
      `  alert routes: ${t.routes.length ? t.routes.map((r) => `${clean(r.id)} (${r.channel}, ${r.minSeverity} and up)`).join(', ') : '(none: incidents are recorded, no one is told)'}`,
    );
    out.push('  monitored:');
    for (const m of t.monitored) out.push(`    ${m.check.padEnd(17)}${clean(m.what)}`);
    if (t.maintenanceWindows + t.mutes > 0) {
      out.push(`  quiet times:  ${plural(t.maintenanceWindows, 'maintenance window')}, ${plural(t.mutes, 'mute')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function registerTenants(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('tenants')
    .description('list the tenants of the configuration: domains, sending IPs, alert routes and what is monitored')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('-t, --tenant <id>', 'only this tenant (repeatable)', (v: string, prev: string[] | undefined) => [
      ...(prev ?? []),
      v,
    ])
    .option('--json', 'print the relaywatch.tenants/v1 JSON document')
    .addHelpText(
      'after',
      `
Reads the configuration only (no DNS, no store). "Sending IPs" are the configured relayIps;
check also tests the single addresses each tenant's own SPF record authorises. Routes are the
tenant's own plus alerts.default (unless inheritDefault: false), with the stricter severity floor.

Exit status: 0 listed, 3 a configuration or usage error.

Examples:
  $ relaywatch tenants
  $ relaywatch tenants --tenant contoso
  $ relaywatch tenants --json | jq -r '.tenants[].sendingIps[]'`,
    )
    .action(async (opts) => {
      const loaded = await loadConfigOrExit(opts.config, io.env);
      const wanted = new Set(selectTenants(loaded.tenants, opts.tenant).map((t) => t.id));
      const doc: TenantsDocument = {
        schema: 'relaywatch.tenants/v1',
        config: loaded.path,
        tenants: tenantSummaries(loaded.config).filter((t) => wanted.has(t.id)),
      };
      write(io.stdout, opts.json ? `${safeJson(doc)}\n` : renderTenants(doc));
      setExit(0);
    });
}
