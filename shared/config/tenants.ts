/**
 * Pure projections of the validated configuration onto what the use cases take: the tenants to check, the tenants as
 * the probes need them (secrets resolved when a probe runs), and each tenant's alert routing (in notify/routing.ts).
 * The CLI and the Lambda handlers both call these.
 */

import type { TenantToCheck } from '../use-cases/run-checks.ts';
import type { ProbeTenant } from '../use-cases/run-probe.ts';
import type { RelaywatchConfig } from './schema.ts';
import { resolveSecret, type SecretSources } from './secrets.ts';

/** Every tenant of the config as the checks take it. */
export function tenantsToCheck(c: RelaywatchConfig): TenantToCheck[] {
  return c.tenants.map((t) => ({
    id: t.id,
    name: t.name,
    domains: t.domains.map((d) => ({ name: d.name, expectedMx: 'expectedMx' in d ? d.expectedMx : undefined })),
    relayIps: t.relayIps,
    ...(t.relay ? { relaySender: t.relay.sender } : {}),
    ...(t.submission
      ? {
          submission: {
            auth: t.submission.auth,
            mailbox: t.submission.mailbox,
            host: t.submission.host,
            port: t.submission.port,
          },
        }
      : {}),
  }));
}

/**
 * The tenants as the probes need them. Only tenants that authenticate touch the secrets (the file is loaded once, when
 * first needed); references resolve when a probe calls for them.
 */
export async function probeTenants(c: RelaywatchConfig, sources: () => Promise<SecretSources>): Promise<ProbeTenant[]> {
  return Promise.all(
    c.tenants.map(async (t): Promise<ProbeTenant> => {
      const s = t.submission;
      const src: SecretSources = s ? await sources() : { env: {} };
      return {
        id: t.id,
        name: t.name,
        domains: t.domains.map((d) => ({ name: d.name, expectedMx: 'expectedMx' in d ? d.expectedMx : undefined })),
        probeRecipients: t.probeRecipients ?? [],
        relayIps: t.relayIps,
        ...(t.relay
          ? { relay: { sender: t.relay.sender, host: t.relay.host, port: t.relay.port, tls: t.relay.tls } }
          : {}),
        ...(s
          ? {
              submission:
                s.auth === 'oauth'
                  ? {
                      auth: 'oauth' as const,
                      mailbox: s.mailbox,
                      host: s.host,
                      port: s.port,
                      entraTenantId: s.entraTenantId,
                      clientId: s.clientId,
                      clientSecret: () => resolveSecret(s.clientSecret, src),
                    }
                  : {
                      auth: 'basic' as const,
                      mailbox: s.mailbox,
                      host: s.host,
                      port: s.port,
                      password: () => resolveSecret(s.password, src),
                    },
            }
          : {}),
      };
    }),
  );
}
