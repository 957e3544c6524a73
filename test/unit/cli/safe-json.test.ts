import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { safeJson } from '../../../shared/cli/json.ts';

describe('safeJson', () => {
  it('escapes C1 controls, bidi overrides and line separators inside strings and keeps the same JSON value', () => {
    const doc = { reply: 'ok\u202egnp.exe\u009b31m\u2028x\u007f', n: 1 };
    for (const text of [safeJson(doc), safeJson(doc, 0)]) {
      expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(JSON.parse(text)).toEqual(doc);
    }
    expect(safeJson(doc, 0)).not.toContain('\n');
  });

  it('is what every command prints its JSON document with (untrusted TXT records and SMTP replies reach stdout)', () => {
    const dir = new URL('../../../shared/cli/commands/', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        readFileSync(new URL(f, dir), 'utf8')
          .split('\n')
          .map((line, i) => ({ f, i: i + 1, line }))
          .filter(({ line }) => /write\(io\.stdout/.test(line) && /JSON\.stringify\(/.test(line)),
      )
      .map(({ f, i }) => `${f}:${i}`);
    expect(offenders).toEqual([]);
  });

  it('goes with warnings printed through clean() by every command (config text is untrusted too)', () => {
    const dir = new URL('../../../shared/cli/commands/', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        readFileSync(new URL(f, dir), 'utf8')
          .split('\n')
          .map((line, i) => ({ f, i: i + 1, line }))
          .filter(({ line }) => /`warning: \$\{(?!clean\()/.test(line)),
      )
      .map(({ f, i }) => `${f}:${i}`);
    expect(offenders).toEqual([]);
  });
});
