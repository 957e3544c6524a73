/**
 * A daily DNSBL query budget that survives across runs: per zone, per UTC day, counted in a small JSON file.
 *
 * The file is read once (`fileBudget()`), counts are kept in memory while the run takes queries (`take()` is
 * synchronous, as the engine's `QueryBudget` wants), and `flush()` writes them back atomically (a temporary file in
 * the same directory, then a rename; one write at a time within a process). Runs that overlap (two processes at once) can each spend the remaining budget:
 * the last flush wins. That is accepted: relaywatch runs one check at a time per working directory, and an operator's
 * cap is a daily average, not a hard wall.
 *
 * Error contract: a missing file is an empty budget; a corrupt or unreadable file, or one from another day, starts
 * from zero for today (the first two with a warning in `warnings`) and is overwritten by the next `flush()`.
 * `fileBudget()` never rejects for the file's content. `flush()` rejects only when the file cannot be written.
 *
 * File format (version 1): `{ "version": 1, "day": "2026-11-27", "used": { "spamhaus-zen": 1234 } }`.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { QueryBudget } from '../../blocklist/engine.ts';

export const DEFAULT_BUDGET_PATH = '.relaywatch/blocklist-budget.json';
const FORMAT_VERSION = 1;
/** A budget file is tiny; anything larger is not one. */
const MAX_BYTES = 1024 * 1024;

export interface FileBudgetOptions {
  /** The JSON file (default `.relaywatch/blocklist-budget.json`, relative to the working directory). */
  readonly path?: string;
  /** Queries per zone per UTC day; zones without a limit are unlimited (and still counted). */
  readonly limits: Readonly<Record<string, number>>;
  /** The clock (default: the system clock). */
  readonly now?: () => Date;
}

export interface FileBudget extends QueryBudget {
  /** The file this budget reads and writes (as given, not resolved). */
  readonly path: string;
  /** Problems with the file found when it was read (never thrown). */
  readonly warnings: readonly string[];
  /** Queries taken so far today for a zone (this run and earlier runs of the same UTC day). */
  used(zoneId: string): number;
  /** Queries a zone may still take today; `Infinity` when it has no limit. */
  remaining(zoneId: string): number;
  /** Write today's counts (atomic: temporary file, then rename). Creates the directory. */
  flush(): Promise<void>;
}

/** `2026-11-27`: the UTC day of a date. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

type Parsed =
  | { readonly ok: true; readonly day: string; readonly used: Map<string, number> }
  | { readonly ok: false; readonly why: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBudgetFile(text: string): Parsed {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, why: 'is not valid JSON' };
  }
  if (!isRecord(data) || data.version !== FORMAT_VERSION) return { ok: false, why: 'is not a version 1 budget file' };
  const { day, used } = data;
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return { ok: false, why: 'has no valid day' };
  if (!isRecord(used)) return { ok: false, why: 'has no valid counts' };
  const out = new Map<string, number>();
  for (const [zone, n] of Object.entries(used)) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      return { ok: false, why: 'has a count that is not a whole number' };
    }
    out.set(zone, n);
  }
  return { ok: true, day, used: out };
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

let tmpCounter = 0;

/**
 * Open the budget: read the file once. Counts belong to the UTC day of `now()`; when the day changes during a run,
 * `take()` starts the new day from zero.
 */
export async function fileBudget(options: FileBudgetOptions): Promise<FileBudget> {
  const path = options.path ?? DEFAULT_BUDGET_PATH;
  const now = options.now ?? (() => new Date());
  const limits = options.limits;
  const warnings: string[] = [];

  let day = utcDay(now());
  let used = new Map<string, number>();
  try {
    const bytes = await readFile(path);
    const parsed =
      bytes.length > MAX_BYTES ? { ok: false as const, why: 'is too large' } : parseBudgetFile(bytes.toString('utf8'));
    if (!parsed.ok) {
      warnings.push(`the blocklist budget file ${path} ${parsed.why}; counting starts from zero for today`);
    } else if (parsed.day === day) {
      used = parsed.used;
    }
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'ENOENT') {
      warnings.push(
        `cannot read the blocklist budget file ${path} (${code ?? 'read error'}); counting starts from zero for today`,
      );
    }
  }

  /** Roll over to a new UTC day when the clock has moved on. */
  const today = (): Map<string, number> => {
    const d = utcDay(now());
    if (d !== day) {
      day = d;
      used = new Map();
    }
    return used;
  };

  const write = async (): Promise<void> => {
    const counts = today();
    const body = `${JSON.stringify({ version: FORMAT_VERSION, day, used: Object.fromEntries(counts) }, null, 2)}\n`;
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
    try {
      await writeFile(tmp, body, { mode: 0o644 });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  };
  let writing: Promise<void> = Promise.resolve();

  return {
    path,
    warnings,
    take(zoneId) {
      const counts = today();
      const n = counts.get(zoneId) ?? 0;
      const limit = Object.hasOwn(limits, zoneId) ? limits[zoneId] : undefined;
      if (limit !== undefined && n >= limit) return false;
      counts.set(zoneId, n + 1);
      return true;
    },
    used(zoneId) {
      return today().get(zoneId) ?? 0;
    },
    remaining(zoneId) {
      const limit = Object.hasOwn(limits, zoneId) ? limits[zoneId] : undefined;
      return limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, limit - (today().get(zoneId) ?? 0));
    },
    flush() {
      // One write at a time, each with the counts as they are when it starts: overlapping flushes cannot land out of
      // order and leave older counts behind.
      const run = writing.then(write);
      writing = run.catch(() => undefined);
      return run;
    },
  };
}
