/**
 * The worker's container-scope DNS cache against a real unbound on loopback, counted at a relay in front of it: the
 * runtime of each invocation is the worker's (`invocationRuntime`), and a container is what `workerContainer()` builds
 * once in the handler's module scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invocationRuntime, workerContainer } from '../../shared/adapters/lambda-runtime.ts';
import { parseConfig } from '../../shared/config/load.ts';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import { type DelayRelay, startDelayRelay } from '../bench/delay-relay.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const unbound = unboundAvailable();

function config(port: number): RelaywatchConfig {
  return parseConfig(
    `
version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
dns: { resolvers: ['udp://127.0.0.1:${port}'], timeoutMs: 1000 }
tenants:
  - { id: t1, name: Tenant One, domains: [one.cache.test] }
`,
    'container-cache.yaml',
  ).config;
}

const secrets = { env: {} };

describe.skipIf(!unbound.ok)(
  `the worker's container DNS cache against unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`,
  () => {
    const lab = useUnbound({
      localData: [
        'spf.shared.cache.test. 3600 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
        'short.cache.test. 2 IN TXT "v=spf1 -all"',
        'neg.cache.test. 3600 IN SOA ns.neg.cache.test. host.neg.cache.test. 1 3600 600 86400 300',
        '2.0.0.127.lab.bl.test. 3600 IN A 127.0.0.2',
      ],
      localZones: [
        ['cache.test.', 'static'],
        ['neg.cache.test.', 'static'],
        ['down.test.', 'refuse'],
        ['lab.bl.test.', 'static'],
      ],
      doh: false,
    });
    let relay: DelayRelay;
    beforeAll(async () => {
      relay = await startDelayRelay(lab().udpPort, 0);
    });
    afterAll(() => relay?.close());

    /** One invocation of a container: its own runtime, closed at the end, as the worker does. */
    async function invocation(
      container: ReturnType<typeof workerContainer> | undefined,
      ask: (rt: Awaited<ReturnType<typeof invocationRuntime>>) => Promise<void>,
    ): Promise<number> {
      const before = relay.counts().forwarded;
      const rt = await invocationRuntime(config(relay.port), secrets, container);
      try {
        await ask(rt);
      } finally {
        await rt.close();
      }
      return relay.counts().forwarded - before;
    }

    it('asks the server nothing in a second invocation of the same container for a name still fresh', async () => {
      const container = workerContainer();
      const first = await invocation(container, async (rt) => {
        const r = await rt.checkContext.resolver.query('spf.shared.cache.test', 'TXT');
        expect(r.kind).toBe('answer');
      });
      const second = await invocation(container, async (rt) => {
        const r = await rt.checkContext.resolver.query('spf.shared.cache.test', 'TXT');
        expect(r.kind === 'answer' && r.records[0]?.data.text).toBe('v=spf1 ip4:192.0.2.0/24 -all');
      });
      expect(first).toBe(1);
      expect(second).toBe(0);
      // Another container has its own cache: it asks.
      const elsewhere = await invocation(workerContainer(), async (rt) => {
        await rt.checkContext.resolver.query('spf.shared.cache.test', 'TXT');
      });
      expect(elsewhere).toBe(1);
      // Without a container (the CLI, or the worker before this change) every invocation asks.
      expect(
        await invocation(undefined, (rt) =>
          rt.checkContext.resolver.query('spf.shared.cache.test', 'TXT').then(() => {}),
        ),
      ).toBe(1);
    });

    it('asks again once the TTL has run out', async () => {
      const container = workerContainer();
      const ask = async (rt: Awaited<ReturnType<typeof invocationRuntime>>) => {
        expect((await rt.checkContext.resolver.query('short.cache.test', 'TXT')).kind).toBe('answer');
      };
      expect(await invocation(container, ask)).toBe(1);
      expect(await invocation(container, ask)).toBe(0);
      await new Promise((r) => setTimeout(r, 2100));
      expect(await invocation(container, ask)).toBe(1);
    });

    it('keeps an NXDOMAIN that carries its SOA, and asks again after a REFUSED', async () => {
      const container = workerContainer();
      const ask = async (rt: Awaited<ReturnType<typeof invocationRuntime>>) => {
        expect((await rt.checkContext.resolver.query('gone.neg.cache.test', 'TXT')).kind).toBe('nxdomain');
        expect((await rt.checkContext.resolver.query('x.down.test', 'TXT')).kind).toBe('refused');
      };
      expect(await invocation(container, ask)).toBe(2);
      // The NXDOMAIN (SOA: negative TTL 300 s) is kept; the failure is asked again, as every new run does.
      expect(await invocation(container, ask)).toBe(1);
      expect(container.dnsCache.stats()).toMatchObject({ entries: 1 });
    });

    it('never answers a blocklist question from the container cache (each cycle asks the lists afresh)', async () => {
      const container = workerContainer();
      const ask = async (rt: Awaited<ReturnType<typeof invocationRuntime>>) => {
        const { resolver } = rt.blocklists();
        expect(resolver).not.toBe(rt.checkContext.resolver);
        expect((await resolver.query('2.0.0.127.lab.bl.test', 'A')).kind).toBe('answer');
      };
      expect(await invocation(container, ask)).toBe(1);
      expect(await invocation(container, ask)).toBe(1);
      expect(container.dnsCache.stats().entries).toBe(0);
    });
  },
);
