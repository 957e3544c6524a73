import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type LoadedConfig, parseConfig } from '../../../shared/config/load.ts';
import { ConfigError, type ConfigProblem, formatProblem } from '../../../shared/config/problems.ts';

export const EXAMPLE_PATH = fileURLToPath(new URL('../../../examples/relaywatch.yaml', import.meta.url));
export const EXAMPLE_TEXT = readFileSync(EXAMPLE_PATH, 'utf8');

/**
 * Seven header lines, so the first tenant line of `withTenants()` is line 8:
 *   1 version, 2 msp, 3 name, 4 contact, 5 name, 6 email, 7 tenants:
 */
export const HEADER = `version: 1
msp:
  name: Northwind IT
  contact:
    name: NOC
    email: noc@northwind.example
tenants:
`;

/** A config whose `tenants:` list is `body` (its first line is line 8 of the result). */
export function withTenants(body: string): string {
  return HEADER + body;
}

/** A valid minimal tenant, 3 lines (for padding before the tenant a test is about). */
export function tenant(id: string, domain = `${id}.example`): string {
  return `  - id: ${id}
    name: ${id} Ltd
    domains: [${domain}]
`;
}

/** The problems of an invalid text (fails the test if the text is valid or something else is thrown). */
export function problemsOf(text: string, source = 'test.yaml'): readonly ConfigProblem[] {
  try {
    parseConfig(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

export function errorOf(text: string, source = 'test.yaml'): ConfigError {
  try {
    parseConfig(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

export function accepted(text: string): LoadedConfig {
  return parseConfig(text, 'test.yaml');
}

/** The one problem at `path` (fails when there is none or several). */
export function problemAt(problems: readonly ConfigProblem[], path: string): ConfigProblem {
  const found = problems.filter((p) => p.path === path);
  if (found.length !== 1) {
    throw new Error(
      `expected one problem at ${path}, found ${found.length}:\n${problems.map(formatProblem).join('\n')}`,
    );
  }
  return found[0] as ConfigProblem;
}

export function lines(problems: readonly ConfigProblem[]): string[] {
  return problems.map(formatProblem);
}

/** The 1-based line of the only line of `text` that contains `needle` (fails if none or several do). */
export function lineOf(text: string, needle: string): number {
  const found = text
    .split('\n')
    .map((l, i) => ({ l, n: i + 1 }))
    .filter(({ l }) => l.includes(needle));
  if (found.length !== 1) throw new Error(`${JSON.stringify(needle)} is on ${found.length} lines, expected one`);
  return (found[0] as { n: number }).n;
}

/** A problem as the JSON reader reports it: `severity path: message`, without the "on line N" a message may hold. */
export function withoutLines(p: ConfigProblem): string {
  return `${p.severity} ${p.path}: ${p.message.replaceAll(/ on line \d+/g, '')}`;
}
