/**
 * `relaywatch config validate`: every problem of a configuration at once (the file, the secrets file, the secret
 * references, the store, the DoH CA), without running a check or touching the network or the store.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../../config/load.ts';
import { ConfigError, type ConfigProblem, formatPath, formatProblem, sortProblems } from '../../config/problems.ts';
import type { RelaywatchConfig, SecretRef } from '../../config/schema.ts';
import {
  resolveSecret,
  type SecretSources,
  type SecretsFile,
  secretRefs,
  secretsFilePath,
} from '../../config/secrets.ts';
import { loadSecretsFile } from '../../config/secrets-file.ts';
import { digestProblems } from '../../digest/plan.ts';
import { type CliIo, write } from '../common.ts';
import { safeJson } from '../json.ts';
import { clean } from '../render.ts';
import { registerConfigPush } from './config-push.ts';

export interface ValidationDocument {
  readonly schema: 'relaywatch.config-validation/v1';
  readonly config: string;
  readonly valid: boolean;
  readonly errors: number;
  readonly warnings: number;
  readonly problems: readonly ConfigProblem[];
  /** What the file configures (null when it could not be read). */
  readonly summary: {
    readonly tenants: number;
    readonly domains: number;
    readonly relayEntries: number;
    readonly routes: number;
    readonly secretsFile: string | null;
  } | null;
}

/**
 * Every secret reference of the configuration with its path (submission, probe mailbox, alert routes, the agent,
 * zone keys).
 */
export function allSecretRefs(c: RelaywatchConfig): Array<{ readonly path: string; readonly ref: SecretRef }> {
  const out: Array<{ path: string; ref: SecretRef }> = [...secretRefs(c)];
  c.tenants.forEach((t, i) => {
    const m = t.probeMailbox;
    if (!m) return;
    const at = (key: string) => formatPath(['tenants', i, 'probeMailbox', key]);
    if (m.kind === 'imap' && m.password) out.push({ path: at('password'), ref: m.password });
    if (m.clientSecret) out.push({ path: at('clientSecret'), ref: m.clientSecret });
  });
  (c.alerts?.routes ?? []).forEach((r, i) => {
    const at = (...rest: string[]) => formatPath(['alerts', 'routes', i, ...rest]);
    if (r.slack) out.push({ path: at('slack', 'webhookUrl'), ref: r.slack.webhookUrl });
    if (r.teams) out.push({ path: at('teams', 'webhookUrl'), ref: r.teams.webhookUrl });
    if (r.webhook) {
      out.push({ path: at('webhook', 'url'), ref: r.webhook.url });
      out.push({ path: at('webhook', 'secret'), ref: r.webhook.secret });
    }
    if (r.email?.smtp?.password) out.push({ path: at('email', 'smtp', 'password'), ref: r.email.smtp.password });
  });
  if (c.agent?.secret) out.push({ path: 'agent.secret', ref: c.agent.secret });
  for (const [id, ref] of Object.entries(c.blocklists?.keys ?? {})) {
    out.push({ path: formatPath(['blocklists', 'keys', id]), ref });
  }
  return out;
}

/** Validate without side effects: no DNS, no SMTP, no store opened. */
export async function validateConfig(path: string, env: NodeJS.ProcessEnv): Promise<ValidationDocument> {
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return document(path, err.problems, null);
  }
  const c = loaded.config;
  const problems: ConfigProblem[] = [...loaded.warnings];
  const problem = (severity: 'error' | 'warning', where: string, message: string) =>
    problems.push({ path: where, message, severity });

  // The secrets file: readable, valid, not open to every user.
  const secretsPath = secretsFilePath(c, { env, configPath: loaded.path });
  let secretsFile: SecretsFile | undefined;
  let secretsFileFailed = false;
  if (secretsPath) {
    try {
      const s = await loadSecretsFile(secretsPath);
      secretsFile = s.secrets;
      problems.push(...s.warnings);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      secretsFileFailed = true;
      for (const p of err.problems) {
        problems.push({ ...p, path: p.path === '' ? 'secrets.file' : `secrets file: ${p.path}` });
      }
    }
  }
  // References that do not resolve here: a warning, since cron or the deployment may set them (named, never a value).
  const sources: SecretSources = { env, ...(secretsFile ? { secretsFile } : {}) };
  for (const { path: where, ref } of allSecretRefs(c)) {
    // A secrets file that exists but cannot be used is reported above; "there is no secrets file" would mislead.
    if (secretsFileFailed && 'secret' in ref) continue;
    const r = resolveSecret(ref, sources);
    if (!r.ok) problem('warning', where, `${r.reason} (in this environment)`);
  }
  // The store spec and the DoH CA, as check would use them.
  if (c.state.store) {
    const { parseStoreSpec, StoreSpecError } = await import('../../adapters/store/open-store.ts');
    try {
      parseStoreSpec(c.state.store);
    } catch (err) {
      if (!(err instanceof StoreSpecError)) throw err;
      problem('error', 'state.store', err.message);
    }
  }
  if (c.dns.caFile) {
    const file = resolveConfigPath(loaded.path, c.dns.caFile);
    try {
      const text = await readFile(file, 'utf8');
      if (!text.includes('-----BEGIN CERTIFICATE-----'))
        problem('error', 'dns.caFile', `${file} holds no PEM certificate`);
    } catch (err) {
      problem('error', 'dns.caFile', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  for (const [i, r] of (c.alerts?.routes ?? []).entries()) {
    const ca = r.email?.smtp?.ca;
    if (!ca) continue;
    const where = formatPath(['alerts', 'routes', i, 'email', 'smtp', 'ca']);
    const file = resolveConfigPath(loaded.path, ca);
    try {
      const text = await readFile(file, 'utf8');
      if (!text.includes('-----BEGIN CERTIFICATE-----')) problem('error', where, `${file} holds no PEM certificate`);
    } catch (err) {
      problem('error', where, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  problems.push(...digestProblems(c));
  return document(loaded.path, problems, {
    tenants: c.tenants.length,
    domains: c.tenants.reduce((n, t) => n + t.domains.length, 0),
    relayEntries: c.tenants.reduce((n, t) => n + t.relayIps.length, 0),
    routes: c.alerts?.routes.length ?? 0,
    secretsFile: secretsPath ?? null,
  });
}

function document(
  path: string,
  found: readonly ConfigProblem[],
  summary: ValidationDocument['summary'],
): ValidationDocument {
  const problems = sortProblems(found);
  const errors = problems.filter((p) => p.severity === 'error').length;
  return {
    schema: 'relaywatch.config-validation/v1',
    config: path,
    valid: errors === 0,
    errors,
    warnings: problems.length - errors,
    problems,
    summary,
  };
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function renderValidation(d: ValidationDocument): string {
  const lines = [`Configuration ${clean(d.config)}:`];
  for (const p of d.problems) lines.push(`  ${p.severity === 'error' ? 'error: ' : ''}${clean(formatProblem(p))}`);
  const s = d.summary;
  const what = s
    ? ` (${plural(s.tenants, 'tenant')}, ${plural(s.domains, 'domain')}, ${plural(s.relayEntries, 'relay entry', 'relay entries')}, ${plural(s.routes, 'alert route')})`
    : '';
  lines.push(
    d.valid
      ? `VALID${what}: ${plural(d.warnings, 'warning')} (exit 0)`
      : `INVALID: ${plural(d.errors, 'error')}, ${plural(d.warnings, 'warning')} (exit 3)`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerConfig(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const config = program.command('config').description('work with the configuration file');
  config
    .command('validate')
    .description('report every problem of the configuration at once, without running any check')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('--json', 'print the relaywatch.config-validation/v1 JSON document')
    .addHelpText(
      'after',
      `
Reads the configuration as every command does (YAML, keys, values, cross-checks such as a
domain in two tenants) and also: the secrets file (readable, valid, not readable by every
user), every secret reference (a variable that is not set here, an entry missing from the
secrets file: warnings, since the scheduled job may set them), state.store and dns.caFile.
No DNS query, no SMTP connection, no store is opened. Values found where a secret belongs are
never shown.

Exit status: 0 valid (warnings are listed), 3 at least one error.

Examples:
  $ relaywatch config validate
  $ relaywatch config validate --config /etc/relaywatch/relaywatch.yaml
  $ relaywatch config validate --json | jq '.problems[] | select(.severity == "error")'`,
    )
    .action(async (opts) => {
      const doc = await validateConfig(String(opts.config), io.env);
      write(io.stdout, opts.json ? `${safeJson(doc)}\n` : renderValidation(doc));
      setExit(doc.valid ? 0 : 3);
    });
  registerConfigPush(config, io, setExit);
}
