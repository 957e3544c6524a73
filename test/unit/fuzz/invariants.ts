/** Invariants every check outcome keeps, whatever DNS returned (domain/outcome.ts). */
import { isDeepStrictEqual } from 'node:util';
import { type CheckKind, type CheckOutcome, type Finding, statusOf } from '../../../shared/domain/outcome.ts';

export const STATUSES: ReadonlySet<string> = new Set(['pass', 'warn', 'fail', 'unknown']);
export const SEVERITIES: ReadonlySet<string> = new Set(['info', 'warning', 'error', 'unknown']);
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Where a value is not plain JSON (undefined, a function, NaN, a class instance…), as `path: what` strings. */
export function jsonProblems(value: unknown, path = '$'): string[] {
  if (value === null) return [];
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return [];
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? [] : [`${path}: ${value} is not a JSON number`];
    case 'object': {
      if (Array.isArray(value)) return value.flatMap((v, i) => jsonProblems(v, `${path}[${i}]`));
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return [`${path}: not a plain object`];
      return Object.entries(value).flatMap(([k, v]) => jsonProblems(v, `${path}.${k}`));
    }
    default:
      return [`${path}: ${typeof value} is not JSON`];
  }
}

/**
 * Problems with one outcome. `inputText` is everything the check was fed (zone, target), so that words like
 * "undefined" in a message are flagged only when they did not come from the input.
 */
export function outcomeProblems(out: CheckOutcome, kind: CheckKind, inputText: string): string[] {
  const p: string[] = [];
  if (out.kind !== kind) p.push(`kind ${out.kind} !== ${kind}`);
  if (!STATUSES.has(out.status)) p.push(`status ${String(out.status)} not in pass|warn|fail|unknown`);
  if (!Array.isArray(out.findings)) return [...p, 'findings is not an array'];
  const implied = statusOf(out.findings);
  if (out.status !== implied) p.push(`status ${out.status} but its findings imply ${implied}`);
  if (typeof out.subject !== 'string' || out.subject.length === 0) p.push('empty subject');
  if (typeof out.durationMs !== 'number' || !Number.isFinite(out.durationMs) || out.durationMs < 0) {
    p.push(`durationMs ${out.durationMs}`);
  }
  out.findings.forEach((f: Finding, i) => {
    const at = `finding ${i} (${String(f.code)})`;
    if (typeof f.code !== 'string' || !KEBAB.test(f.code)) p.push(`${at}: code is not kebab-case`);
    if (!SEVERITIES.has(f.severity)) p.push(`${at}: severity ${String(f.severity)}`);
    if (typeof f.message !== 'string' || f.message.trim().length === 0) p.push(`${at}: empty message`);
    for (const word of ['undefined', 'NaN', '[object Object]', 'Infinity']) {
      if (typeof f.message === 'string' && f.message.includes(word) && !inputText.includes(word)) {
        p.push(`${at}: message contains "${word}": ${f.message}`);
      }
    }
    if (f.evidence !== undefined && (typeof f.evidence !== 'object' || f.evidence === null)) {
      p.push(`${at}: evidence is not an object`);
    }
  });
  const json = jsonProblems(out);
  if (json.length > 0) p.push(`not JSON-safe: ${json.slice(0, 5).join('; ')}`);
  else {
    let round: unknown;
    try {
      round = JSON.parse(JSON.stringify(out));
    } catch (e) {
      p.push(`JSON round trip throws: ${String(e)}`);
    }
    if (round !== undefined && !isDeepStrictEqual(round, out)) p.push('JSON round trip changes the outcome');
  }
  return p;
}

/** The set of `code` of findings of severity `error`. */
export function errorCodes(out: CheckOutcome): Set<string> {
  return new Set(out.findings.filter((f) => f.severity === 'error').map((f) => f.code));
}
