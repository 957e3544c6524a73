/**
 * The documentation stays true to the repository: every relative link in README.md and docs/ points at a file that
 * exists (and, into a Markdown file, at a heading that exists), and the CLI reference documents exactly the commands
 * `relaywatch --help` lists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '../support/run-cli.ts';

const root = new URL('../../', import.meta.url).pathname;
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code (a link inside code is an example, not a link). */
function prose(markdown: string): string {
  // Blanked, not removed, so that line numbers stay those of the file.
  const blank = (m: string) => m.replace(/[^\n]/g, '');
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, `-1`, `-2`… for repeats. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (m[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

function links(file: string): Array<{ target: string; line: number }> {
  const text = prose(readFileSync(join(root, file), 'utf8'));
  const out: Array<{ target: string; line: number }> = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    out.push({ target, line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}

describe('links in README.md and docs/', () => {
  it('finds the links it checks (the extractor is not silently empty)', () => {
    const all = DOCS.flatMap(links);
    expect(all.length).toBeGreaterThan(10);
    expect(links('README.md').map((l) => l.target)).toContain('docs/cli.md');
    expect(anchors('# A `b` (c), d\n## A `b` (c), d\n```\n# not a heading\n```\n')).toEqual(
      new Set(['a-b-c-d', 'a-b-c-d-1']),
    );
  });

  it.each(DOCS)('%s: every relative link points at a file (and heading) that exists', (file) => {
    const broken: string[] = [];
    for (const { target, line } of links(file)) {
      const [path = '', anchor] = target.split('#');
      const resolved = path === '' ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
      if (!existsSync(resolved)) {
        broken.push(`line ${line}: ${target} (no ${relative(root, resolved)})`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
        if (!anchors(readFileSync(resolved, 'utf8')).has(anchor.toLowerCase())) {
          broken.push(`line ${line}: ${target} (no heading #${anchor} in ${relative(root, resolved)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

/** The command names under "Commands:" in a help text. */
function helpCommands(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help');
}

describe('the CLI reference (docs/cli.md)', () => {
  const cliMd = readFileSync(join(root, 'docs/cli.md'), 'utf8');
  /** `relaywatch notify test …` → ['notify', 'test'] (a word after a command without sub-commands is ignored). */
  const documented = [...cliMd.matchAll(/^relaywatch ([a-z][a-z-]*)(?: ([a-z][a-z-]*)(?=[\s|]))?/gm)].map((m) =>
    m[2] ? [m[1] ?? '', m[2]] : [m[1] ?? ''],
  );

  it('documents only commands that relaywatch --help lists', async () => {
    const top = await runCliCaptured(['--help']);
    expect(top.code).toBe(0);
    const commands = helpCommands(top.stdout);
    expect(commands).toContain('check');
    const missing: string[] = [];
    for (const [command = '', sub] of documented) {
      if (!commands.includes(command)) missing.push(command);
      else if (sub) {
        const help = await runCliCaptured([command, '--help']);
        const subs = helpCommands(help.stdout);
        if (subs.length > 0 && !subs.includes(sub)) missing.push(`${command} ${sub}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents every command relaywatch --help lists', async () => {
    const commands = helpCommands((await runCliCaptured(['--help'])).stdout);
    const names = new Set(documented.map(([c]) => c));
    expect(commands.filter((c) => !names.has(c))).toEqual([]);
  });
});
