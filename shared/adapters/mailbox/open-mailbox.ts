/**
 * The one place a probe mailbox adapter is chosen from a tenant's `probeMailbox` configuration (Graph or IMAP), for
 * every composition root: the CLI (`relaywatch confirm`, `check --confirm`) and the scheduled confirm function. The
 * adapter modules are loaded on first use (a run without a mailbox never loads imapflow). A secret that does not
 * resolve is returned as the reason the mailbox cannot be used (the probes become `unknown`), never thrown.
 */
import type { ProbeMailboxConfig } from '../../config/schema.ts';
import { resolveSecret, type SecretSources } from '../../config/secrets.ts';
import type { ProbeMailbox } from '../../ports/probe-mailbox.ts';
import { OUTLOOK_SMTP_SCOPE, type TokenProvider } from '../../ports/token-provider.ts';

/** The tenant's mailbox adapter, built when first needed; a secret that does not resolve is the reason it cannot. */
export function mailboxFor(
  cfg: ProbeMailboxConfig,
  sources: SecretSources,
  tokens: TokenProvider,
  ca: string | undefined,
): () => Promise<ProbeMailbox | { readonly error: string }> {
  return async () => {
    if (cfg.kind === 'graph') {
      const secret = resolveSecret(cfg.clientSecret, sources);
      if (!secret.ok) return { error: `probeMailbox.clientSecret: ${secret.reason}` };
      const { GraphMailbox } = await import('./graph-mailbox.ts');
      return new GraphMailbox({
        mailbox: cfg.mailbox,
        endpoint: cfg.endpoint,
        moveTo: cfg.moveTo,
        ca,
        token: () =>
          tokens.getToken({
            entraTenantId: cfg.entraTenantId,
            clientId: cfg.clientId,
            clientSecret: secret.value,
            scope: `${new URL(cfg.endpoint).origin}/.default`,
          }),
      });
    }
    const { ImapMailbox } = await import('./imap-mailbox.ts');
    const common = {
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      user: cfg.user,
      junkFolder: cfg.junkFolder,
      ca,
    };
    if (cfg.auth === 'password') {
      const pw = cfg.password ? resolveSecret(cfg.password, sources) : { ok: false as const, reason: 'not set' };
      if (!pw.ok) return { error: `probeMailbox.password: ${pw.reason}` };
      return new ImapMailbox({ ...common, auth: { kind: 'password', password: pw.value } });
    }
    const secret = cfg.clientSecret
      ? resolveSecret(cfg.clientSecret, sources)
      : { ok: false as const, reason: 'not set' };
    if (!secret.ok || !cfg.entraTenantId || !cfg.clientId) {
      return { error: `probeMailbox.clientSecret: ${secret.ok ? 'entraTenantId/clientId missing' : secret.reason}` };
    }
    const { entraTenantId, clientId } = cfg;
    return new ImapMailbox({
      ...common,
      auth: {
        kind: 'oauth',
        token: () =>
          tokens.getToken({ entraTenantId, clientId, clientSecret: secret.value, scope: OUTLOOK_SMTP_SCOPE }),
      },
    });
  };
}
