/**
 * The OpenSPF RFC 7208 test suite (release 2014.04, rfc7208-tests.yml, licence in rfc7208-tests.LICENSE) run through
 * our SPF evaluation path: makeSpfEvaluator() → toNodeStyleResolver() → mailauth's spf() in strict mode, with DNS
 * answered from each scenario's zonedata (suite-resolver.ts).
 *
 * A test conforms when the result is one of the acceptable ones and, for a fail with an expected explanation, the
 * explanation matches (`DEFAULT` = no `exp=` text, as the reference driver sets it with set_default_explanation).
 *
 * known-failures.json lists, by test name, the tests we do not conform to and why. A listed test that conforms fails
 * the run (remove it from the list); an unlisted test that does not conform fails the run (a regression).
 * The summary line goes to the console and to RESULTS.md (only when the whole suite ran).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { makeSpfEvaluator, type SpfEvaluation } from '../../shared/adapters/spf/mailauth-spf.ts';
import { loadSuite, makeSuiteResolver, type SuiteTest } from './suite-resolver.ts';

const EXPECTED_TESTS = 203;
const here = new URL('./', import.meta.url);

function loadKnownFailures(): ReadonlyMap<string, string> {
  const raw: unknown = JSON.parse(readFileSync(new URL('known-failures.json', here), 'utf8'));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('known-failures.json: not an object');
  const out = new Map<string, string>();
  for (const [name, reason] of Object.entries(raw)) {
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`known-failures.json: ${name}: no reason`);
    out.set(name, reason);
  }
  return out;
}

/** Why the evaluation does not conform to the test, or null when it does. */
function mismatch(t: SuiteTest, e: SpfEvaluation): string | null {
  if (!t.result.includes(e.result)) {
    return `result ${e.result}, expected ${t.result.join(' or ')} (${e.comment})`;
  }
  if (t.explanation !== undefined && e.result === 'fail') {
    const got = e.explanation ?? 'DEFAULT';
    if (got !== t.explanation) return `explanation ${JSON.stringify(got)}, expected ${JSON.stringify(t.explanation)}`;
  }
  return null;
}

const tests = loadSuite();
const knownFailures = loadKnownFailures();
/** Test id → whether it conforms; filled as the tests run. */
const outcomes = new Map<string, boolean>();

describe('OpenSPF RFC 7208 test suite', () => {
  test('the whole suite was parsed', () => {
    expect(tests).toHaveLength(EXPECTED_TESTS);
    const names = tests.map((t) => t.name);
    expect(new Set(names).size, 'test names are unique, so known-failures.json can key by name').toBe(names.length);
  });

  test('every known failure names a test of the suite', () => {
    const names = new Set(tests.map((t) => t.name));
    expect([...knownFailures.keys()].filter((n) => !names.has(n))).toEqual([]);
  });

  test.each(tests)('$id', async (t) => {
    const evaluate = makeSpfEvaluator(makeSuiteResolver(t.zonedata));
    const evaluation = await evaluate({ ip: t.host, sender: t.mailfrom, helo: t.helo });
    const why = mismatch(t, evaluation);
    outcomes.set(t.id, why === null);
    const known = knownFailures.get(t.name);
    if (known === undefined) {
      expect(why, `${t.id} (RFC 7208 ${t.spec})`).toBeNull();
    } else if (why === null) {
      throw new Error(`${t.name} now conforms: remove it from test/conformance/known-failures.json`);
    }
  });

  afterAll(() => {
    const passed = [...outcomes.values()].filter(Boolean).length;
    const line = `OpenSPF RFC 7208: ${passed}/${EXPECTED_TESTS} pass`;
    console.log(line);
    if (outcomes.size !== tests.length || tests.length !== EXPECTED_TESTS) return; // a filtered or broken run
    const failing = tests.filter((t) => outcomes.get(t.id) === false);
    const lines = [
      '# OpenSPF RFC 7208 conformance',
      '',
      'Written by `test/conformance/rfc7208.test.ts` (`npx vitest run test/conformance`): the OpenSPF RFC 7208 test suite',
      '(release 2014.04) through `makeSpfEvaluator()` (mailauth, strict mode).',
      '',
      `${line}`,
      '',
      ...(failing.length === 0
        ? ['No failures.']
        : [
            'Failures (reasons from `known-failures.json`):',
            '',
            ...failing.map(
              (t) => `- ${t.id}: ${knownFailures.get(t.name) ?? 'NOT in known-failures.json: a regression'}`,
            ),
          ]),
      '',
    ];
    writeFileSync(new URL('RESULTS.md', here), lines.join('\n'));
  });
});
