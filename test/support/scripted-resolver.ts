/**
 * A DnsResolver fake whose every answer is decided by the test (a function per call), for testing the resolvers
 * that wrap others (cache, failover). It records calls, counts queries in flight (and the maximum seen), honours
 * the abort signal like a real adapter (rejects with `signal.reason`), and counts `sent()` like one.
 */

import type { SentCounter } from '../../shared/adapters/dns/sent-counter.ts';
import type {
  DnsFailureKind,
  DnsResolver,
  DnsResult,
  QueryOptions,
  RecordDataByType,
  RecordType,
} from '../../shared/ports/dns-resolver.ts';

export interface ScriptedCall {
  readonly name: string;
  readonly type: RecordType;
  readonly signal: AbortSignal | undefined;
  /** 1-based number of this call. */
  readonly n: number;
}

export type Script = (call: ScriptedCall) => DnsResult<RecordType> | Promise<DnsResult<RecordType>>;

export class ScriptedResolver implements DnsResolver, SentCounter {
  readonly calls: ScriptedCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly id: string;
  private readonly script: Script;

  constructor(id: string, script: Script) {
    this.id = id;
    this.script = script;
  }

  describe(): string {
    return this.id;
  }

  sent(): number {
    return this.calls.length;
  }

  async query<T extends RecordType>(name: string, type: T, options: QueryOptions = {}): Promise<DnsResult<T>> {
    const { signal } = options;
    signal?.throwIfAborted();
    const call = { name, type, signal, n: this.calls.length + 1 };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const work = Promise.resolve(this.script(call));
      if (signal === undefined) return (await work) as DnsResult<T>;
      return (await new Promise<DnsResult<RecordType>>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      })) as DnsResult<T>;
    } finally {
      this.inFlight--;
    }
  }
}

/** A promise with its resolve function outside, to hold a scripted answer until the test releases it. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function answerOf<T extends RecordType>(
  call: ScriptedCall,
  data: readonly RecordDataByType[T][],
  ttl: number,
  server = 'scripted',
): DnsResult<RecordType> {
  return {
    kind: 'answer',
    name: call.name,
    type: call.type,
    server,
    records: data.map((d) => ({ data: d, ttl })),
    cnameChain: [],
    ttl,
  } as DnsResult<RecordType>;
}

export function negativeOf(
  call: ScriptedCall,
  kind: 'nodata' | 'nxdomain',
  ttl: number | null,
  server = 'scripted',
): DnsResult<RecordType> {
  return { kind, name: call.name, type: call.type, server, cnameChain: [], ttl };
}

export function failureOf(call: ScriptedCall, kind: DnsFailureKind, server = 'scripted'): DnsResult<RecordType> {
  return { kind, name: call.name, type: call.type, server, detail: `scripted ${kind}` };
}
