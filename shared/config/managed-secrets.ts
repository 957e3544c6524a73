/**
 * Resolve every `{ secretsManager: NAME, key?: K }` reference of a configuration ahead of a run, through a
 * {@link SecretSource}: each distinct secret name is fetched once however many references point into it (a grouped
 * secret holds many keys), so the number of Secrets Manager calls grows with the secrets an MSP keeps, not with its
 * tenants. A reference that cannot be resolved is kept as a reason (naming the secret and key, never a value):
 * what depends on it fails or is skipped with that reason, as an unset environment variable would.
 */
import { SecretNotFoundError, type SecretSource } from '../ports/secret-source.ts';
import { ManagedSecrets, managedKey } from './secrets.ts';

type Ref = { readonly secretsManager: string; readonly key?: string };

function isRef(v: unknown): v is Ref {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { secretsManager?: unknown }).secretsManager === 'string' &&
    ((v as { key?: unknown }).key === undefined || typeof (v as { key?: unknown }).key === 'string')
  );
}

/** Every Secrets Manager reference anywhere in a (validated) configuration. */
export function managedRefs(config: unknown): Ref[] {
  const out = new Map<string, Ref>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32 || typeof v !== 'object' || v === null) return;
    if (isRef(v)) {
      out.set(managedKey(v), v);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child, depth + 1);
  };
  walk(config, 0);
  return [...out.values()];
}

export async function loadManagedSecrets(config: unknown, source: SecretSource): Promise<ManagedSecrets> {
  const refs = managedRefs(config);
  const names = [...new Set(refs.map((r) => r.secretsManager))];
  const fetched = new Map<string, { ok: true; value: string } | { ok: false; why: string }>();
  await Promise.all(
    names.map(async (name) => {
      try {
        fetched.set(name, { ok: true, value: await source.get(name) });
      } catch (err) {
        fetched.set(name, { ok: false, why: err instanceof Error ? err.message : String(err) });
      }
    }),
  );
  const values = new Map<string, string>();
  const problems = new Map<string, string>();
  for (const ref of refs) {
    const key = managedKey(ref);
    const f = fetched.get(ref.secretsManager);
    if (f === undefined) {
      problems.set(key, 'not fetched');
      continue;
    }
    if (!f.ok) {
      problems.set(key, f.why);
      continue;
    }
    if (ref.key === undefined) {
      values.set(key, f.value);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(f.value);
    } catch {
      problems.set(key, 'is not a JSON object, so it has no keys');
      continue;
    }
    const v = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[ref.key] : undefined;
    if (typeof v === 'string') values.set(key, v);
    else
      problems.set(
        key,
        v === undefined ? `has no key ${JSON.stringify(ref.key)}` : `key ${JSON.stringify(ref.key)} is not a string`,
      );
  }
  return new ManagedSecrets(values, problems);
}

/** Every SSM parameter name referenced (`{ ssm: /path }`) anywhere in a (validated) configuration. */
export function parameterRefs(config: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32 || typeof v !== 'object' || v === null) return;
    const ssm = (v as { ssm?: unknown }).ssm;
    if (!Array.isArray(v) && typeof ssm === 'string' && Object.keys(v).length === 1) {
      out.add(ssm);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child, depth + 1);
  };
  walk(config, 0);
  return [...out];
}

/**
 * Resolve every `{ ssm: /path }` reference of a configuration ahead of a run through a {@link SecretSource} over
 * Parameter Store (SecureString, decrypted): each parameter once. A parameter that cannot be read is kept as a reason
 * naming it, never its value; what depends on it fails or is skipped with that reason.
 */
export async function loadParameterSecrets(config: unknown, source: SecretSource): Promise<ManagedSecrets> {
  const values = new Map<string, string>();
  const problems = new Map<string, string>();
  await Promise.all(
    parameterRefs(config).map(async (name) => {
      try {
        values.set(name, await source.get(name));
      } catch (err) {
        problems.set(
          name,
          err instanceof SecretNotFoundError ? 'does not exist' : err instanceof Error ? err.message : String(err),
        );
      }
    }),
  );
  return new ManagedSecrets(values, problems);
}
