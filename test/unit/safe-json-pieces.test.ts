import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { safeJson, safeJsonPieces, writeSafeJson } from '../../shared/cli/json.ts';

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [2, { c: 'x' }] });

const docs: Record<string, unknown> = {
  scalar: 'text',
  number: 42,
  null: null,
  'empty object': {},
  'empty array': [],
  nested: {
    schema: 'relaywatch.check/v1',
    tenants: [
      {
        id: 't1',
        domains: [
          { domain: 'a.example', checks: [{ kind: 'spf', findings: [], details: { tree: { children: [] } } }] },
        ],
        checks: [],
      },
      { id: 't2', domains: [], checks: [{ details: {} }] },
    ],
    empty: { a: {}, b: [] },
  },
  'dropped and nulled values': {
    keep: 1,
    gone: undefined,
    fn: () => 1,
    sym: Symbol('s'),
    list: [undefined, () => 1, Symbol('s'), 3],
  },
  'toJSON and dates': { at: new Date(Date.UTC(2026, 11, 2)), custom: { toJSON: () => ({ replaced: true }) } },
  'unsafe text': {
    'key\u202e': 'DEL \u007f C1 \u0085 LS \u2028 PS \u2029 bidi \u202e \u2066 newline \n tab \t quote " backslash \\',
    list: ['\u2028', { deep: { deeper: ['\u0085\n'] } }],
  },
  'null prototype': nullProto,
  'deep array': [[[[[1, [2]]]]]],
};

describe('safeJsonPieces', () => {
  for (const [name, doc] of Object.entries(docs)) {
    for (const indent of [2, 0]) {
      it(`joins to exactly safeJson's text: ${name}, indent ${indent}`, () => {
        for (const depth of [0, 1, 3, 10]) {
          expect([...safeJsonPieces(doc, indent, depth)].join('')).toBe(safeJson(doc, indent));
        }
      });
    }
  }

  it('yields the outer levels as separate pieces, none as large as the document', () => {
    const doc = {
      tenants: Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, domains: [{ domain: `d${i}.example` }] })),
    };
    const pieces = [...safeJsonPieces(doc)];
    const whole = safeJson(doc).length;
    expect(pieces.length).toBeGreaterThan(200);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(whole / 50);
  });
});

describe('writeSafeJson', () => {
  it('writes safeJson and a newline, in several writes for a large document', () => {
    const doc = { tenants: Array.from({ length: 3000 }, (_, i) => ({ id: `tenant-${i}`, note: 'x'.repeat(40) })) };
    const writes: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        writes.push(chunk.toString('utf8'));
        done();
      },
    });
    writeSafeJson(sink, doc);
    expect(writes.join('')).toBe(`${safeJson(doc)}\n`);
    expect(writes.length).toBeGreaterThan(1);
  });
});
