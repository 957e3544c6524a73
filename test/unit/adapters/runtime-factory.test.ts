/** The runtime-deps factory: built lazily and once, closed once, refused after close. No network is touched. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../../shared/adapters/runtime.ts';
import { genericZone } from '../../../shared/blocklist/registry.ts';

const dns = { specs: ['udp://127.0.0.1:9'], timeoutMs: 100 };

describe('createRuntime', () => {
  it('opens the store on first use only, once, and closes it with the runtime', async () => {
    const rt = createRuntime({ dns, store: { spec: 'sqlite::memory:' } });
    const a = rt.store();
    const b = rt.store();
    expect(a).toBe(b);
    const store = await a;
    await store.results.putRun({
      runId: 'r1',
      startedAt: '2026-11-27T18:00:00.000Z',
      finishedAt: '2026-11-27T18:00:01.000Z',
      source: 'cli',
      counts: { pass: 1, warn: 0, fail: 0, unknown: 0 },
    });
    await rt.close();
    await rt.close();
    await expect(store.results.runs()).rejects.toThrow();
    expect(() => rt.store()).toThrow(/closed/);
  });

  it('builds the blocklist plans once, through a separate stack only when blocklist resolvers are given', () => {
    const zones = [genericZone('lab.bl.test')];
    const same = createRuntime({ dns, blocklists: { zones, explicit: true } });
    expect(same.blocklists().resolver).toBe(same.dns.resolver);
    expect(same.blocklists()).toBe(same.blocklists());
    const apart = createRuntime({
      dns,
      blocklistDns: { specs: ['udp://127.0.0.1:10'], timeoutMs: 100 },
      blocklists: { zones, explicit: true },
    });
    expect(apart.blocklists().resolver).not.toBe(apart.dns.resolver);
    expect(apart.blocklists().description).toMatch(/127\.0\.0\.1:10/);
    return Promise.all([same.close(), apart.close()]);
  });

  it('says which settings are missing instead of guessing', async () => {
    const rt = createRuntime({ dns });
    expect(() => rt.blocklists()).toThrow(/no blocklist settings/);
    await expect(rt.store()).rejects.toThrow(/no store settings/);
    await expect(rt.notifiers()).rejects.toThrow(/no alert settings/);
    await rt.close();
  });

  it('refuses an invalid resolver spec at once', () => {
    expect(() => createRuntime({ dns: { specs: ['8.8.8.8'] } })).toThrow(/needs a scheme/);
  });
});
