/**
 * One monitoring cycle of the synthetic MSP, as the CLI runs it: a fresh resolver stack (`createResolver`, so the
 * cache is cold), `runChecks` with every domain check, `makeSpfEvaluator` over the same resolver. Used in-process by
 * run.ts for the timed runs, and as the entry point of a fresh child process for the memory measurement (one cycle
 * per process, like `relaywatch check`): `node test/bench/cycle.ts <relayPort> <concurrency>` forked with IPC sends
 * back its `CycleResult` and its own peak RSS.
 */
import { createResolver } from '../../shared/adapters/dns/index.ts';
import { makeSpfEvaluator } from '../../shared/adapters/spf/mailauth-spf.ts';
import { ALL_DOMAIN_CHECKS } from '../../shared/checks/registry.ts';
import type { CheckStatus } from '../../shared/domain/outcome.ts';
import {
  type DnsResolver,
  type DnsResult,
  type DnsStats,
  normaliseName,
  type QueryOptions,
  type RecordType,
} from '../../shared/ports/dns-resolver.ts';
import { runChecks } from '../../shared/use-cases/run-checks.ts';
import { type SyntheticMsp, syntheticMsp } from './synthetic-msp.ts';

export const MSP_SHAPE = { tenants: 500, domainsPerTenant: 2, vendors: 30 } as const;
export const TIMEOUT_MS = 5000;

export function benchMsp(): SyntheticMsp {
  return syntheticMsp(MSP_SHAPE);
}

/** Passes every question on, remembering which (name, type) pairs the checks asked. */
export class QuestionCounter implements DnsResolver {
  readonly inner: DnsResolver;
  readonly asked = new Map<string, number>();

  constructor(inner: DnsResolver) {
    this.inner = inner;
  }

  query<T extends RecordType>(name: string, type: T, options?: QueryOptions): Promise<DnsResult<T>> {
    const key = `${normaliseName(name)}/${type}`;
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    return this.inner.query(name, type, options);
  }

  describe(): string {
    return this.inner.describe();
  }
}

/** Peaks of `process.memoryUsage()` sampled during the cycle, in MB. */
export interface MemoryPeaks {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

function sampleMemory(everyMs: number): () => MemoryPeaks {
  const peaks: MemoryPeaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss / 1048576);
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed / 1048576);
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal / 1048576);
    peaks.external = Math.max(peaks.external, m.external / 1048576);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}

export interface CycleResult {
  readonly wallMs: number;
  /** User + system CPU of this process during the cycle (all its threads, GC helpers included). */
  readonly cpuMs: number;
  /** Share of the cycle the event loop spent running code rather than waiting for I/O (0-1). */
  readonly eventLoopBusy: number;
  /** Zeros unless sampled. */
  readonly memory: MemoryPeaks;
  readonly stats: DnsStats;
  /** Every distinct `name/TYPE` the checks asked. */
  readonly asked: readonly string[];
  readonly statuses: Record<CheckStatus, number>;
  /** Non-info findings of domains that did not pass: code → count. */
  readonly problems: Readonly<Record<string, number>>;
  /** A few of them, for the console. */
  readonly problemExamples: readonly string[];
}

/**
 * Run one cycle against the relay. `sampleMemory` samples `process.memoryUsage()` every 10 ms (it costs CPU, so the
 * timed runs leave it off and report zeros).
 */
export async function runCycle(
  msp: SyntheticMsp,
  relayPort: number,
  concurrency: number,
  options: { readonly sampleMemory?: boolean } = {},
): Promise<CycleResult> {
  const stack = createResolver({
    specs: [`udp://127.0.0.1:${relayPort}`],
    maxConcurrent: concurrency,
    timeoutMs: TIMEOUT_MS,
  });
  try {
    const counter = new QuestionCounter(stack.resolver);
    const stopSampling = options.sampleMemory ? sampleMemory(10) : undefined;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const reports = await runChecks({
      tenants: msp.tenants,
      checks: ALL_DOMAIN_CHECKS,
      ctx: { resolver: counter, evaluateSpf: makeSpfEvaluator(counter), now: () => performance.now() },
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const memory = stopSampling?.() ?? { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };

    const statuses: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, unknown: 0 };
    const problems: Record<string, number> = {};
    const problemExamples: string[] = [];
    for (const tenant of reports) {
      for (const d of tenant.domains) {
        statuses[d.status]++;
        if (d.status === 'pass') continue;
        for (const check of d.checks) {
          for (const f of check.findings) {
            if (f.severity === 'info') continue;
            problems[f.code] = (problems[f.code] ?? 0) + 1;
            if (problemExamples.length < 5) problemExamples.push(`${d.domain} [${f.code}] ${f.message}`);
          }
        }
      }
    }
    return {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      eventLoopBusy: elu,
      memory,
      stats: stack.resolver.stats(),
      asked: [...counter.asked.keys()],
      statuses,
      problems,
      problemExamples,
    };
  } finally {
    await stack.close();
  }
}

/** What the child process sends back. */
export interface ChildCycleMessage {
  readonly result: CycleResult;
  /** `process.resourceUsage().maxRSS` of the child after the cycle, MB. */
  readonly maxRssMb: number;
  /** The same just before the cycle (Node, the modules and the synthetic data loaded), MB. */
  readonly maxRssBeforeMb: number;
}

async function childMain(): Promise<void> {
  const [port, concurrency] = process.argv.slice(2).map(Number);
  if (!port || !concurrency || !process.send) {
    console.error('usage: forked with IPC: cycle.ts <relayPort> <concurrency>');
    process.exit(2);
  }
  const msp = benchMsp();
  const maxRssBeforeMb = process.resourceUsage().maxRSS / 1024;
  const result = await runCycle(msp, port, concurrency, { sampleMemory: true });
  const message: ChildCycleMessage = { result, maxRssMb: process.resourceUsage().maxRSS / 1024, maxRssBeforeMb };
  process.send(message, () => process.disconnect());
}

if (import.meta.main) await childMain();
