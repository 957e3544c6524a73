/**
 * Which agent reports are news: the agent probes every interval but posts a report only when
 *
 * - the probe is not ok (every failing or unknown probe is posted, so the incident policy's consecutive-failure
 *   thresholds count exactly as when every report was posted), or
 * - it differs from the last report the ingest accepted (diagnosis id, exit status, egress IP, finding codes): a
 *   change, the recovery included, or
 * - the heartbeat is due: `heartbeatMs` since the last accepted report, less half an interval so that the jitter of
 *   the schedule does not push a heartbeat one whole interval late (60 min at a 15-min interval: every 4th run).
 *
 * A report that was not accepted (network error, 5xx, refused) changes nothing: the next run posts. The state lives
 * in memory only, so a restarted agent posts at once. `heartbeatMs` 0 (or not above the interval) posts every run.
 */

/** What a report says, as far as "is it news" goes. */
export interface ReportKey {
  /** `ok` when the relay probe delivered; otherwise the diagnosis id. */
  readonly diagnosis: string;
  /** 0 delivered, 1 a warning or a temporary refusal, 2 failed (the agent's exit status without posting). */
  readonly status: number;
  /** The discovered public IP, or null when it could not be discovered. */
  readonly egressIp: string | null;
  /** The report's finding codes (sorted). */
  readonly findings: readonly string[];
}

export interface GateOptions {
  readonly heartbeatMs: number;
  readonly intervalMs: number;
}

export type PostReason = 'first' | 'not-ok' | 'changed' | 'heartbeat' | 'every-run';

export type GateDecision =
  | { readonly post: true; readonly reason: PostReason }
  | { readonly post: false; readonly nextHeartbeatAtMs: number };

interface Accepted {
  readonly key: ReportKey;
  readonly atMs: number;
}

function sameKey(a: ReportKey, b: ReportKey): boolean {
  return (
    a.diagnosis === b.diagnosis &&
    a.status === b.status &&
    a.egressIp === b.egressIp &&
    a.findings.length === b.findings.length &&
    a.findings.every((f, i) => f === b.findings[i])
  );
}

/** The pure rule: should a report with `key`, made at `atMs`, be posted given the last accepted one? */
export function decidePost(
  key: ReportKey,
  atMs: number,
  last: Accepted | undefined,
  options: GateOptions,
): GateDecision {
  if (!(options.heartbeatMs > options.intervalMs)) return { post: true, reason: 'every-run' };
  if (last === undefined) return { post: true, reason: 'first' };
  if (key.diagnosis !== 'ok') return { post: true, reason: 'not-ok' };
  if (!sameKey(key, last.key)) return { post: true, reason: 'changed' };
  const dueAtMs = last.atMs + options.heartbeatMs - options.intervalMs / 2;
  if (atMs >= dueAtMs) return { post: true, reason: 'heartbeat' };
  return { post: false, nextHeartbeatAtMs: dueAtMs };
}

/** The agent's memory of the last accepted report. */
export class ReportGate {
  private last: Accepted | undefined;
  private readonly options: GateOptions;

  constructor(options: GateOptions) {
    this.options = options;
    if (!(options.heartbeatMs >= 0) || !Number.isFinite(options.heartbeatMs))
      throw new RangeError('heartbeatMs must be 0 or a positive number');
  }

  private unposted = 0;

  decide(key: ReportKey, atMs: number): GateDecision {
    return decidePost(key, atMs, this.last, this.options);
  }

  /** A run the gate held back (same as the last accepted report, which was ok): the next report counts it. */
  skipped(): void {
    this.unposted++;
  }

  /**
   * The ok probes held back since the last accepted report, for the next report's `unpostedOk`: the ingest stores it
   * with the result, so the digest's availability counts every probe (held-back ones as up) as if each was posted.
   */
  unpostedOk(): number {
    return this.unposted;
  }

  /** The ingest accepted the report (2xx): it is the new reference, and it carried the held-back count. */
  accepted(key: ReportKey, atMs: number): void {
    this.last = { key: { ...key, findings: [...key.findings] }, atMs };
    this.unposted = 0;
  }
}

/** The key of an agent report (the fields the gate compares). */
export function reportKey(report: {
  readonly egress: { readonly ok: true; readonly ip: string } | { readonly ok: false };
  readonly findings: readonly { readonly code: string }[];
  readonly diagnosis: string;
  readonly status: number;
}): ReportKey {
  return {
    diagnosis: report.diagnosis,
    status: report.status,
    egressIp: report.egress.ok ? report.egress.ip : null,
    findings: report.findings.map((f) => f.code).sort(),
  };
}
