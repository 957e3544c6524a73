/**
 * One probe send for one tenant, by relay or by authenticated submission, planned from the validated configuration.
 *
 * - **Relay**: the tenant's Microsoft 365 MX endpoint on port 25 (or the configured/overridden host), from the device's
 *   sender address, STARTTLS when offered (or required by config), no AUTH. Must run at the customer site: the relay
 *   connector trusts the site's public IP, and AWS blocks outbound port 25 (DOMAIN.md §1).
 * - **Submission**: `smtp.office365.com:587` (configurable), STARTTLS required, then XOAUTH2 with an app-only token
 *   from Entra ID (client credentials) or Basic (AUTH LOGIN). A probe that used Basic carries the Basic-auth warning.
 *
 * Error contract: `runProbe` resolves with a report for everything servers, DNS and Entra ID do (a token that cannot be
 * obtained is the `oauth-token-failed` diagnosis, without a connection). It rejects only with `ProbeSetupError` for
 * what the configuration cannot give (no probe recipient, no relay/submission section, a secret that does not
 * resolve): those are configuration errors, not findings. No secret value reaches a report or an error message.
 */
import { randomUUID } from 'node:crypto';
import { expectedHostText, isM365Host } from '../checks/mx.ts';
import { submissionConfigOutcome } from '../checks/submission-config.ts';
import type { Finding } from '../domain/outcome.ts';
import type { DnsResolver } from '../ports/dns-resolver.ts';
import { describeResult } from '../ports/dns-resolver.ts';
import type {
  ProbeAuth,
  ProbeRequest,
  ProbeResult,
  ProbeTimeouts,
  SmtpProber,
  TlsPolicy,
} from '../ports/smtp-prober.ts';
import type { TokenProvider } from '../ports/token-provider.ts';
import { classify } from '../probe/diagnosis.ts';

export type ProbeKind = 'relay' | 'submission';

/** Where the probe connects and why there. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsPolicy;
  /** `override` (command line), `config`, `expected-mx`, `mx` (looked up), `pattern` (Microsoft's naming pattern). */
  readonly hostSource: 'override' | 'config' | 'expected-mx' | 'mx' | 'pattern';
  /** Why the host was chosen, when it was not given (e.g. the MX lookup that failed). */
  readonly note: string | null;
}

export interface ProbeReport {
  readonly kind: ProbeKind;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly probeId: string;
  /** ISO 8601 UTC. */
  readonly startedAt: string;
  readonly target: ProbeTarget;
  readonly from: string;
  readonly to: string;
  /** Mechanism and user; never the password or token. */
  readonly auth: { readonly mechanism: ProbeAuth['mechanism']; readonly user: string } | null;
  readonly result: ProbeResult;
  /** Findings about how the probe was made (Basic authentication's retirement). */
  readonly findings: readonly Finding[];
}

/** The tenant as the probes need it (a projection of the validated config). */
export interface ProbeTenant {
  readonly id: string;
  readonly name: string;
  readonly domains: readonly { readonly name: string; readonly expectedMx?: string | undefined }[];
  readonly probeRecipients: readonly string[];
  /** The configured public relay addresses (single IPs or small ranges); the agent compares its egress IP with them. */
  readonly relayIps?: readonly string[] | undefined;
  readonly relay?:
    | {
        readonly sender: string;
        readonly host?: string | undefined;
        readonly port: number;
        readonly tls: 'if-offered' | 'required';
      }
    | undefined;
  readonly submission?:
    | {
        readonly auth: 'oauth';
        readonly mailbox: string;
        readonly host: string;
        readonly port: number;
        readonly entraTenantId: string;
        readonly clientId: string;
        /** Resolves the client secret at run time; a reason (naming the variable or entry, never a value) if it cannot. */
        readonly clientSecret: () => SecretLookup;
      }
    | {
        readonly auth: 'basic';
        readonly mailbox: string;
        readonly host: string;
        readonly port: number;
        readonly password: () => SecretLookup;
      }
    | undefined;
}

export type SecretLookup =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: string };

export interface ProbeOptions {
  /** `--host`/`--port` from the command line. */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** The recipient; default the tenant's first probe recipient. Must be one of them. */
  readonly to?: string | undefined;
  readonly ehloName: string;
  readonly timeouts?: ProbeTimeouts | undefined;
  readonly ca?: string | readonly string[] | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

export interface ProbeDeps {
  readonly prober: SmtpProber;
  readonly resolver: DnsResolver;
  readonly tokens: TokenProvider;
  readonly now: () => Date;
  readonly newProbeId?: () => string;
}

/** What the configuration cannot give for a probe (exit status 3 in the CLI). */
export class ProbeSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeSetupError';
  }
}

function mailboxDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** A short, sortable, unique probe id: `20261127T201500Z-3f9a1c2b`. */
export function newProbeId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID().slice(0, 8)}`;
}

/**
 * The relay endpoint: the override, the configured host, the sender domain's `expectedMx`, its Microsoft 365 MX
 * (lowest preference), else Microsoft's naming pattern for the domain (with a note saying why).
 */
export async function relayTarget(
  tenant: ProbeTenant,
  relay: NonNullable<ProbeTenant['relay']>,
  options: Pick<ProbeOptions, 'host' | 'port'>,
  resolver: DnsResolver,
): Promise<ProbeTarget> {
  const tls: TlsPolicy = relay.tls === 'required' ? 'starttls-required' : 'starttls-if-offered';
  const port = options.port ?? relay.port;
  const base = { port, tls, note: null };
  if (options.host) return { ...base, host: options.host, hostSource: 'override' };
  if (relay.host) return { ...base, host: relay.host, hostSource: 'config' };
  const domain = mailboxDomain(relay.sender);
  const configured = tenant.domains.find((d) => d.name === domain);
  if (configured?.expectedMx) return { ...base, host: configured.expectedMx, hostSource: 'expected-mx' };
  const pattern = expectedHostText(domain);
  const mx = await resolver.query(domain, 'MX');
  if (mx.kind === 'answer') {
    const m365 = mx.records
      .map((r) => r.data)
      .filter((d) => isM365Host(d.exchange.toLowerCase().replace(/\.$/, '')))
      .sort((a, b) => a.priority - b.priority)[0];
    if (m365) return { ...base, host: m365.exchange.toLowerCase().replace(/\.$/, ''), hostSource: 'mx' };
    return {
      ...base,
      host: pattern,
      hostSource: 'pattern',
      note: `the MX of ${domain} names no Microsoft 365 host (mail goes through another service first); probing Microsoft's endpoint for the domain, ${pattern}`,
    };
  }
  return {
    ...base,
    host: pattern,
    hostSource: 'pattern',
    note: `the MX lookup for ${domain} gave ${describeResult(mx)}; probing Microsoft's endpoint for the domain, ${pattern} (set relay.host or expectedMx to be sure)`,
  };
}

function recipientFor(tenant: ProbeTenant, wanted: string | undefined): string {
  if (tenant.probeRecipients.length === 0) {
    throw new ProbeSetupError(
      `tenant ${tenant.id} has no probeRecipients: list a mailbox in the tenant's domains (e.g. probeRecipients: [probe@${tenant.domains[0]?.name ?? 'example.com'}]) to receive probes`,
    );
  }
  if (wanted === undefined) return tenant.probeRecipients[0]!;
  const match = tenant.probeRecipients.find((r) => r.toLowerCase() === wanted.trim().toLowerCase());
  if (!match) {
    throw new ProbeSetupError(
      `${JSON.stringify(wanted)} is not one of tenant ${tenant.id}'s probe recipients (${tenant.probeRecipients.join(', ')}); relaywatch sends probes only to those`,
    );
  }
  return match;
}

/** A report for a probe that ended before any connection (no token): the diagnosis, no transcript steps. */
function resultWithoutConnection(stage: 'auth', failureDetail: string, note: string, from: string): ProbeResult {
  return {
    transcript: [{ stage, at: 0, note }],
    tls: null,
    diagnosis: classify({ stage, failure: 'token', detail: failureDetail }),
    timings: {},
    messageId: `relaywatch.${randomUUID()}@${mailboxDomain(from)}`,
    queueId: null,
  };
}

/** One probe; see the module comment for the error contract. */
export async function runProbe(
  kind: ProbeKind,
  tenant: ProbeTenant,
  options: ProbeOptions,
  deps: ProbeDeps,
): Promise<ProbeReport> {
  const started = deps.now();
  const probeId = deps.newProbeId?.() ?? newProbeId(started);
  const to = recipientFor(tenant, options.to);
  const common = {
    ehloName: options.ehloName,
    to,
    allowedRecipients: tenant.probeRecipients,
    tenantId: tenant.id,
    probeId,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
  };
  const reportBase = {
    kind,
    tenantId: tenant.id,
    tenantName: tenant.name,
    probeId,
    startedAt: started.toISOString(),
    to,
  };

  if (kind === 'relay') {
    const relay = tenant.relay;
    if (!relay) {
      throw new ProbeSetupError(
        `tenant ${tenant.id} has no relay section: add relay: { sender: scanner@${tenant.domains[0]?.name ?? 'example.com'} } (the device's sender address) to probe its relay path`,
      );
    }
    const target = await relayTarget(tenant, relay, options, deps.resolver);
    const request: ProbeRequest = {
      ...common,
      host: target.host,
      port: target.port,
      tls: target.tls,
      from: relay.sender,
    };
    const result = await deps.prober.probe(request);
    return { ...reportBase, target, from: relay.sender, auth: null, result, findings: [] };
  }

  const sub = tenant.submission;
  if (!sub) {
    throw new ProbeSetupError(
      `tenant ${tenant.id} has no submission section: add submission: { mailbox, auth: oauth, entraTenantId, clientId, clientSecret } to probe authenticated submission`,
    );
  }
  const target: ProbeTarget = {
    host: options.host ?? sub.host,
    port: options.port ?? sub.port,
    tls: 'starttls-required',
    hostSource: options.host ? 'override' : 'config',
    note: null,
  };
  const findings: Finding[] = [];
  if (sub.auth === 'basic') {
    const warning = submissionConfigOutcome(tenant.name, sub, started);
    for (const f of warning?.findings ?? []) if (f.severity === 'warning') findings.push(f);
  }
  const base = { ...reportBase, target, from: sub.mailbox, findings };

  let auth: ProbeAuth;
  if (sub.auth === 'oauth') {
    const secret = sub.clientSecret();
    if (!secret.ok) throw new ProbeSetupError(`tenant ${tenant.id}: submission.clientSecret: ${secret.reason}`);
    const token = await deps.tokens.getToken({
      entraTenantId: sub.entraTenantId,
      clientId: sub.clientId,
      clientSecret: secret.value,
    });
    if (!token.ok) {
      const note = `no OAuth token from Entra ID for tenant ${sub.entraTenantId}, app ${sub.clientId}: ${token.reason}`;
      return {
        ...base,
        auth: { mechanism: 'XOAUTH2', user: sub.mailbox },
        result: resultWithoutConnection('auth', `(${token.reason}) ${token.message}`, note, sub.mailbox),
      };
    }
    auth = { mechanism: 'XOAUTH2', user: sub.mailbox, token: token.token };
  } else {
    const password = sub.password();
    if (!password.ok) throw new ProbeSetupError(`tenant ${tenant.id}: submission.password: ${password.reason}`);
    auth = { mechanism: 'LOGIN', user: sub.mailbox, pass: password.value };
  }
  const request: ProbeRequest = {
    ...common,
    host: target.host,
    port: target.port,
    tls: 'starttls-required',
    from: sub.mailbox,
    auth,
  };
  const result = await deps.prober.probe(request);
  return { ...base, auth: { mechanism: auth.mechanism, user: auth.user }, result };
}
