import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress } from '../../../shared/cli/progress.ts';
import { clean, renderCheck, renderCheckReport } from '../../../shared/cli/render.ts';
import type { CheckOutcome } from '../../../shared/domain/outcome.ts';

const plain = { color: false, verbose: false };

describe('clean', () => {
  it('makes terminal escapes, carriage returns and bidi overrides visible instead of acting on them', () => {
    expect(clean('v=spf1 \u001b[2J\u001b[31mred')).toBe('v=spf1 \\x1b[2J\\x1b[31mred');
    expect(clean('line\rover\nnext')).toBe('line\\x0dover\\x0anext');
    expect(clean('abc\u202eevil')).toBe('abc\\u202eevil');
    expect(clean('\u009b31m')).toBe('\\x9b31m');
    expect(clean('plain text, ü and ✔ stay')).toBe('plain text, ü and ✔ stay');
    expect(clean('tab\tstays')).toBe('tab\tstays');
  });

  it('escapes bidi marks, line and paragraph separators and the BOM like the other outputs do', () => {
    expect(clean('invoice\u200fgpj.exe')).toBe('invoice\\u200fgpj.exe');
    expect(clean('a\u200eb')).toBe('a\\u200eb');
    expect(clean('one\u2028two\u2029three')).toBe('one\\u2028two\\u2029three');
    expect(clean('\ufeffcontoso')).toBe('\\ufeffcontoso');
  });
});

describe('renderCheck', () => {
  const hostile: CheckOutcome = {
    kind: 'spf',
    subject: 'evil.example',
    status: 'fail',
    durationMs: 1,
    details: { lookups: 3 },
    findings: [
      { code: 'spf-syntax-error', severity: 'error', message: 'bad "\u001b]8;;http://x\u0007click\u001b]8;;\u0007"' },
      { code: 'spf-lookups', severity: 'info', message: 'The SPF tree needs 3 of 10 DNS lookups.' },
    ],
  };

  it('shows what needs attention, hides info unless verbose, and never emits a raw escape from a finding', () => {
    const lines = renderCheck(hostile, plain).join('\n');
    expect(lines).toContain('✘ FAIL    spf  3/10 lookups');
    expect(lines).toContain('[spf-syntax-error]');
    expect(lines).not.toContain('\u001b');
    expect(lines).not.toContain('spf-lookups');
    expect(renderCheck(hostile, { color: false, verbose: true }).join('\n')).toContain('[spf-lookups]');
  });

  it('colours only when asked', () => {
    expect(renderCheck(hostile, { color: true, verbose: false }).join('\n')).toContain('\u001b[31m');
  });

  it('escapes tenant names and ids from the config in the report', () => {
    const text = renderCheckReport({
      msp: 'MSP\u001b[2J',
      generatedAt: '2026-11-27T18:00:00.000Z',
      tenants: [
        {
          id: 't1',
          name: 'Evil\rCorp',
          status: 'fail',
          domains: [{ domain: 'evil.example', status: 'fail', checks: [hostile] }],
          checks: [],
        },
      ],
      status: 'fail',
      exitCode: 2,
      dnsLine: 'DNS: x',
      notes: [],
      o: plain,
    });
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\r');
    expect(text).toContain('Evil\\x0dCorp');
    expect(text).toContain(
      'Summary: 1 tenant(s), 1 domain(s), 0 IP(s): 0 pass, 0 warn, 1 fail, 0 unknown → FAIL (exit 2)',
    );
  });
});

describe('Progress', () => {
  function capture() {
    const s = new PassThrough();
    let out = '';
    s.on('data', (c) => {
      out += String(c);
    });
    return { s, text: () => out };
  }

  it('draws one line in place on a terminal and clears it when done', () => {
    const c = capture();
    const p = new Progress(c.s, true);
    p.update('[1/2] a');
    p.update('[2/2] b\u001b[31m');
    p.done();
    expect(c.text()).toBe('\r\u001b[2K[1/2] a\r\u001b[2K[2/2] b\\x1b[31m\r\u001b[2K');
  });

  it('writes nothing when not a terminal', () => {
    const c = capture();
    const p = new Progress(c.s, false);
    p.update('x');
    p.done();
    expect(c.text()).toBe('');
  });
});
