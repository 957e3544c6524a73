/**
 * The layering the design asks for, checked on the import statements of the source tree: functions/ never imports
 * shared/cli/; domain/ and use-cases/ import neither adapters/ nor cli/; cdk/ imports from shared/ only the deploy
 * constants and config types.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(path)));
    else if (/\.(ts|js|mjs)$/.test(e.name)) out.push(path);
  }
  return out;
}

/** Every module a file imports (static and dynamic), resolved against the repository root. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, file, '..', s)));
}

async function violations(dirs: string[], forbidden: (target: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    for (const file of await sources(dir)) {
      for (const target of await importsOf(file)) if (forbidden(target)) out.push(`${file} → ${target}`);
    }
  }
  return out;
}

describe('layering', () => {
  it('finds the imports it checks (the scanner itself works)', async () => {
    expect(await importsOf('functions/worker/handler.ts')).toContain('functions/worker/worker.ts');
    expect(await violations(['shared/cli'], (t) => t.startsWith('shared/cli/'))).not.toEqual([]);
  });

  it('keeps functions/ away from shared/cli/', async () => {
    expect(await violations(['functions'], (t) => t.startsWith('shared/cli'))).toEqual([]);
  });

  it('keeps the domain and the use cases away from adapters and the CLI', async () => {
    expect(
      await violations(
        ['shared/domain', 'shared/use-cases'],
        (t) => t.startsWith('shared/adapters') || t.startsWith('shared/cli'),
      ),
    ).toEqual([]);
  });

  it('lets cdk/ import only the deploy constants and config types from shared/', async () => {
    expect(
      await violations(
        ['cdk'],
        (t) => t.startsWith('shared/') && !t.startsWith('shared/deploy/') && !t.startsWith('shared/config/schema'),
      ),
    ).toEqual([]);
  });

  it('keeps shared/deploy/constants.ts free of imports (the CDK app loads it alone)', async () => {
    expect(await readFile(join(ROOT, 'shared/deploy/constants.ts'), 'utf8')).not.toMatch(/^import /m);
  });
});
