/**
 * The DNSBL daily budget through the CLI, counted in the store: `relaywatch blocklist` with `blocklists.dailyBudget`
 * against a real rbldnsd reserves from the SQLite store's counter before sending, stops at the limit, and once it is spent a
 * later run the same day gets nothing more (its zone is unknown, "budget exhausted"), whatever the working directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { LAB_ZONE_CUSTOM } from '../support/lab-config.ts';
import { rbldnsdAvailable, useRbldnsd } from '../support/rbldnsd.ts';
import { runCliCaptured } from '../support/run-cli.ts';

const rb = rbldnsdAvailable();

describe.skipIf(!rb.ok && !process.env.CI)(
  `the DNSBL budget in the store${rb.ok ? '' : ` (SKIPPED: ${rb.reason})`}`,
  () => {
    const server = useRbldnsd({
      zones: [{ name: 'lab.bl.test', type: 'ip4set', files: [':127.0.0.2:listed\n127.0.0.2\n192.0.2.1\n'] }],
    });
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rw-budget-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reserves before sending, stops at the limit, and a later run the same day gets nothing more', async () => {
      const db = join(dir, 'state.db');
      const config = join(dir, 'relaywatch.yaml');
      await writeFile(
        config,
        `version: 1
msp: { name: Lab, contact: { name: NOC, email: noc@msp.example } }
state: { store: 'sqlite:${db}' }
blocklists:
  dailyBudget: { lab: 12 }
${LAB_ZONE_CUSTOM}
tenants: [{ id: t, name: T, domains: [t.example], relayIps: [] }]
`,
      );
      const run = () =>
        runCliCaptured([
          'blocklist',
          '192.0.2.1',
          '--config',
          config,
          '--zone',
          'lab.bl.test',
          '--blocklist-dns',
          `udp://127.0.0.1:${server().port}`,
          '--json',
        ]);
      const first = await run();
      expect(first.stdout, first.stderr).toMatch(/"listed"/);
      const store = openSqliteStore({ path: db });
      const day = new Date().toISOString().slice(0, 10);
      // One IP: 4 health checks + 1 query + 4 for listings' TXT = 9 reserved of 12.
      expect(await store.budget.used('lab', day)).toBe(9);
      // The second run is granted the 3 left (enough here: 2 health checks and 1 query), the third nothing.
      const second = await run();
      expect(second.stdout).toMatch(/"listed"/);
      expect(await store.budget.used('lab', day)).toBe(12);
      const third = await run();
      expect(third.stdout).toMatch(/budget for lab is exhausted/);
      expect(third.stdout).not.toMatch(/"listed"/);
      expect(await store.budget.used('lab', day)).toBe(12);
      await store.close();
    });
  },
);
