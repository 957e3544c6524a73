import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadZoneRegistry, ZONES, ZONES_FILE, ZoneRegistryError } from '../../../shared/blocklist/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'relaywatch-zones-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the zone registry as JSON (what the Lambda bundles carry)', () => {
  it('gives the same zones as the YAML', () => {
    const file = join(dir, 'zones.json');
    writeFileSync(file, JSON.stringify(parse(readFileSync(ZONES_FILE, 'utf8'))));
    expect(loadZoneRegistry(pathToFileURL(file))).toEqual(ZONES);
  });

  it('is validated like the YAML, naming the file', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"zones": [{"id": 1}]}');
    expect(() => loadZoneRegistry(pathToFileURL(file))).toThrow(ZoneRegistryError);
    writeFileSync(file, '{not json');
    expect(() => loadZoneRegistry(pathToFileURL(file))).toThrow(/could not be read as JSON/);
  });
});
