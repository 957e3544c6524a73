/**
 * When the store itself cannot be written, the incidents and their delivery claims live exactly where relaywatch cannot
 * write: the self-health incident cannot be an ordinary incident. What the CLI does instead (docs/state-incidents-
 * alerts.md, "Watching the watcher"):
 *
 * - Every `check` run whose state stage fails (the store cannot be opened or written) counts the failure in a small
 *   local marker file (`$RELAYWATCH_STATE_DIR`, else `relaywatch-<uid>` of mode 0700 under the OS temp directory; one
 *   file per store spec), so the count
 *   survives between cron runs without the store.
 * - From the `openAfter` of `incidents.checks.relaywatch` (default 3) failed runs in a row, the default routes get a
 *   critical "relaywatch cannot write its store" alert, sent WITHOUT the store's delivery claim and saying so, at most
 *   once per `remindEveryHours` (default 24) by the marker file: a broken store must not page every 15 minutes, and
 *   two hosts sharing a broken DynamoDB table may each send one.
 * - The first run that writes the store again sends RESOLVED to the same routes (if the alert went out) and deletes
 *   the marker. If the marker file cannot be written either, only the exit status (3) and stderr say it.
 *
 * The exit status stays 3 whatever the checks found, so cron or a monitoring host sees the monitor is broken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyFor } from '../incidents/config.ts';
import { incidentId } from '../incidents/id.ts';
import { SELF_CHECK, SELF_TENANT } from '../monitor/self-health.ts';
import type { Alert, AlertKind } from '../notify/alert.ts';
import type { CliConfig } from './config-bridge.ts';

export const STORE_DOWN_PROBLEM = 'relaywatch-store-unreachable';

interface Marker {
  readonly failures: number;
  readonly firstAt: string;
  readonly lastError: string;
  /** When the last alert went out (null: not yet). */
  readonly sentAt: string | null;
  /** Which routes were told (the RESOLVED goes to them). */
  readonly routes: readonly string[];
}

/**
 * Without `RELAYWATCH_STATE_DIR`: a directory of this user's own under the OS temp directory (`relaywatch-<uid>`, mode
 * 0700), never the shared temp directory itself, where another local user could plant the marker (a symlink to a file
 * to overwrite, or a marker that says the alert went out an hour ago).
 */
function defaultStateDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  return join(tmpdir(), uid === null ? 'relaywatch' : `relaywatch-${uid}`);
}

export function markerPath(spec: string, env: NodeJS.ProcessEnv): string {
  const hash = createHash('sha256').update(spec).digest('hex').slice(0, 16);
  return join(env.RELAYWATCH_STATE_DIR ?? defaultStateDir(), `relaywatch-store-down-${hash}.json`);
}

/**
 * The marker's directory (created when missing if `create`; storeBack's lstat of a missing one throws, which ends
 * it: no marker). The default one must be a real directory owned by this user that
 * nobody else can write: anything else throws (the marker is then not used; the exit status still says it).
 */
async function stateDir(path: string, env: NodeJS.ProcessEnv, create: boolean): Promise<void> {
  const dir = join(path, '..');
  if (env.RELAYWATCH_STATE_DIR !== undefined) {
    if (create) await mkdir(dir, { recursive: true });
    return;
  }
  if (create) {
    await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  const st = await lstat(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a directory of this user's that only it can write`);
  }
}

/** Written under a fresh name and renamed into place: a symlink at the marker's path is replaced, never followed. */
async function writeMarker(path: string, m: Marker): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(m), { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

async function readMarker(path: string): Promise<Marker | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<Marker>;
    if (typeof v.failures !== 'number' || typeof v.firstAt !== 'string') return null;
    return {
      failures: v.failures,
      firstAt: v.firstAt,
      lastError: typeof v.lastError === 'string' ? v.lastError : '',
      sentAt: typeof v.sentAt === 'string' ? v.sentAt : null,
      routes: Array.isArray(v.routes) ? v.routes.filter((r): r is string => typeof r === 'string') : [],
    };
  } catch {
    return null;
  }
}

function storeAlert(kind: AlertKind, spec: string, m: Marker, at: Date, route: string, every = '24 hours'): Alert {
  const id = incidentId(SELF_TENANT, SELF_CHECK, 'store', STORE_DOWN_PROBLEM);
  const episode = `${id}-${Date.parse(m.firstAt).toString(36)}`;
  return {
    kind,
    incidentId: id,
    tenant: { id: SELF_TENANT, name: 'relaywatch (the MSP’s monitor)' },
    severity: 'critical',
    check: SELF_CHECK,
    problem: STORE_DOWN_PROBLEM,
    subject: spec,
    title: `relaywatch cannot write its store ${spec} (${m.failures} runs in a row): nothing is recorded and no alert is sent`,
    what:
      kind === 'resolved'
        ? `relaywatch writes its store ${spec} again; incidents and alerts work again.`
        : `${m.failures} check runs in a row since ${m.firstAt} could not write the store ${spec}: results are not recorded, no incident opens or resolves and no tenant alert is sent. Sent without the store's delivery claim (the store is where claims live), at most once every ${every}: another host using the same store may send it too.`,
    why: 'While the store cannot be written, relaywatch is blind for every tenant: a new listing or a broken SPF record goes unnoticed.',
    remediation: [
      'Read the error below: a full disk, a read-only or missing directory for SQLite, or credentials, throttling or a deleted table on DynamoDB.',
      'Run relaywatch check by hand with the same --store to see the error; relaywatch status reads what was recorded before.',
      'This alert resolves on the first run that writes the store again.',
    ],
    links: [],
    evidence: m.lastError,
    openedAt: m.firstAt,
    at: at.toISOString(),
    packet: null,
    delivery: {
      key: `${episode}-${kind}${kind === 'resolved' ? '' : `-${m.failures}`}/${route}`,
      threadKey: `${episode}-opened/${route}`,
    },
  };
}

type Send = (route: string, alert: Alert) => Promise<{ ok: boolean; error?: string }>;

/**
 * After a failed state stage: count it and, when due, alert the default routes. Returns a line for the report, or null.
 * Never throws (the marker file is best effort).
 */
export async function storeDown(args: {
  readonly spec: string;
  readonly error: string;
  readonly config: CliConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly now: Date;
  readonly routes: readonly string[];
  readonly send: Send;
}): Promise<string | null> {
  try {
    const path = markerPath(args.spec, args.env);
    await stateDir(path, args.env, true);
    const prev = await readMarker(path);
    const policy = policyFor(SELF_CHECK, args.config.config.incidents);
    let m: Marker = {
      failures: (prev?.failures ?? 0) + 1,
      firstAt: prev?.firstAt ?? args.now.toISOString(),
      lastError: args.error.slice(0, 1000),
      sentAt: prev?.sentAt ?? null,
      routes: prev?.routes ?? [],
    };
    let line: string | null = null;
    const due =
      m.failures >= policy.openAfter &&
      (m.sentAt === null ||
        (policy.remindEveryMs > 0 && args.now.getTime() - Date.parse(m.sentAt) >= policy.remindEveryMs));
    if (due && args.routes.length > 0) {
      const told: string[] = [];
      const failed: string[] = [];
      for (const route of args.routes) {
        const kind: AlertKind = m.routes.includes(route) ? 'reminder' : 'opened';
        const every = policy.remindEveryMs > 0 ? `${Math.round(policy.remindEveryMs / 3_600_000)} hours` : 'episode';
        const r = await args.send(route, storeAlert(kind, args.spec, m, args.now, route, every));
        if (r.ok) told.push(route);
        else failed.push(`${route} (${r.error ?? 'failed'})`);
      }
      if (told.length > 0) m = { ...m, sentAt: args.now.toISOString(), routes: [...new Set([...m.routes, ...told])] };
      line = `store-unreachable alert sent without a store claim to ${told.join(', ') || 'no route'}${
        failed.length > 0 ? `; NOT sent to ${failed.join(', ')}` : ''
      }`;
    }
    await writeMarker(path, m);
    return line;
  } catch {
    return null;
  }
}

/** After a state stage that wrote the store: RESOLVED to the routes told it was down, and the marker removed. */
export async function storeBack(args: {
  readonly spec: string;
  readonly env: NodeJS.ProcessEnv;
  readonly now: Date;
  readonly send: Send;
}): Promise<void> {
  try {
    const path = markerPath(args.spec, args.env);
    await stateDir(path, args.env, false);
    const m = await readMarker(path);
    if (!m) return;
    const left: string[] = [];
    for (const route of m.routes) {
      const r = await args.send(route, storeAlert('resolved', args.spec, m, args.now, route));
      if (!r.ok) left.push(route);
    }
    if (left.length === 0) await rm(path, { force: true });
    else await writeMarker(path, { ...m, routes: left });
  } catch {
    // best effort: the next successful run tries again
  }
}
