/** The probe report for the terminal and as the `relaywatch.probe/v1` JSON document. Pure. */
import type { Finding } from '../domain/outcome.ts';
import type { TlsFacts, TranscriptEntry } from '../ports/smtp-prober.ts';
import type { Diagnosis, ProbeStage } from '../probe/diagnosis.ts';
import type { ProbeReport, ProbeTarget } from '../use-cases/run-probe.ts';
import { clean, type RenderOptions } from './render.ts';

export const PROBE_SCHEMA = 'relaywatch.probe/v1';

export interface ProbeDocument {
  readonly schema: typeof PROBE_SCHEMA;
  readonly kind: ProbeReport['kind'];
  readonly tenant: { readonly id: string; readonly name: string };
  readonly probeId: string;
  readonly startedAt: string;
  readonly target: ProbeTarget;
  readonly from: string;
  readonly to: string;
  readonly auth: ProbeReport['auth'];
  readonly diagnosis: Omit<Diagnosis, 'reply'> & {
    readonly reply: {
      readonly code: number;
      readonly enhanced: string | null;
      readonly text: string;
      readonly lines: readonly string[];
    } | null;
  };
  readonly transcript: readonly TranscriptEntry[];
  readonly tls: TlsFacts | null;
  readonly timings: Partial<Record<ProbeStage, number>>;
  readonly messageId: string;
  readonly queueId: string | null;
  readonly findings: readonly Finding[];
}

export function probeDocument(report: ProbeReport): ProbeDocument {
  const d = report.result.diagnosis;
  return {
    schema: PROBE_SCHEMA,
    kind: report.kind,
    tenant: { id: report.tenantId, name: report.tenantName },
    probeId: report.probeId,
    startedAt: report.startedAt,
    target: report.target,
    from: report.from,
    to: report.to,
    auth: report.auth,
    diagnosis: {
      ...d,
      reply: d.reply
        ? { code: d.reply.code, enhanced: d.reply.enhanced, text: d.reply.text, lines: d.reply.lines }
        : null,
    },
    transcript: report.result.transcript,
    tls: report.result.tls,
    timings: report.result.timings,
    messageId: report.result.messageId,
    queueId: report.result.queueId,
    findings: report.findings,
  };
}

/** 0 `ok`, 1 a warning (temporary: throttled, rate limited), 2 an error. */
export function probeExitCode(d: Diagnosis): 0 | 1 | 2 {
  if (d.id === 'ok') return 0;
  return d.severity === 'error' ? 2 : 1;
}

function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

const HOST_SOURCE: Record<ProbeTarget['hostSource'], string> = {
  override: 'from --host',
  config: 'from the configuration',
  'expected-mx': "the domain's expectedMx",
  mx: "the sender domain's Microsoft 365 MX",
  pattern: "Microsoft's naming pattern for the domain",
};

function transcriptLine(e: TranscriptEntry): string[] {
  const at = `+${e.at}ms`.padEnd(9);
  const stage = e.stage.padEnd(9);
  const out: string[] = [];
  if (e.sent !== undefined) out.push(`  ${at}${stage}C: ${clean(e.sent)}`);
  for (const line of e.reply ?? []) out.push(`  ${out.length === 0 ? at : ' '.repeat(9)}${stage}S: ${clean(line)}`);
  if (e.note !== undefined) out.push(`  ${out.length === 0 ? at : ' '.repeat(9)}${stage}${clean(e.note)}`);
  return out;
}

export function renderProbeReport(report: ProbeReport, o: RenderOptions): string {
  const r = report.result;
  const d = r.diagnosis;
  const t = report.target;
  const lines: string[] = [];
  lines.push(
    `relaywatch probe ${report.kind} · ${clean(report.tenantName)} (${clean(report.tenantId)}) · probe ${clean(report.probeId)}`,
  );
  lines.push(`  to ${clean(t.host)}:${t.port} (${HOST_SOURCE[t.hostSource]}), TLS: ${t.tls}`);
  if (t.note) lines.push(`  note: ${clean(t.note)}`);
  lines.push(
    `  from ${clean(report.from)} to ${clean(report.to)}${report.auth ? `, AUTH ${report.auth.mechanism} as ${clean(report.auth.user)}` : ', no AUTH'}`,
  );
  lines.push('', 'Transcript');
  for (const e of r.transcript) lines.push(...transcriptLine(e));
  if (r.tls) {
    const tls = r.tls;
    lines.push(
      '',
      `TLS: ${clean(tls.version ?? '?')} ${clean(tls.cipher ?? '?')}; certificate ${clean(tls.subject ?? '?')}, issuer ${clean(tls.issuer ?? '?')}, valid to ${clean(tls.validTo ?? '?')}; ${tls.authorized ? 'verified' : `NOT verified (${clean(tls.authorizationError ?? 'unknown reason')})`}`,
    );
  }
  const color = d.id === 'ok' ? 32 : d.severity === 'error' ? 31 : 33;
  lines.push('', `${paint(o.color, color, `Diagnosis: ${d.id}`)} (${d.severity}) ${clean(d.title)}`);
  if (d.id !== 'ok') {
    lines.push(`  ${clean(d.explanation)}`);
    if (d.reply) lines.push(`  at ${d.stage}: ${clean(d.reply.lines.join(' / '))}`);
    if (d.detail) lines.push(`  detail: ${clean(d.detail)}`);
    if (d.remediation.length > 0) {
      lines.push('  What to do:');
      d.remediation.forEach((step, i) => {
        lines.push(`    ${i + 1}. ${clean(step)}`);
      });
    }
    if (d.delistable) {
      lines.push(
        `  Prepare the delisting request: relaywatch delist --ip ${d.ip ?? '<the listed IP>'} --tenant ${report.tenantId} --reply-file <the reply above saved to a file>`,
      );
    }
    if (d.retryable) lines.push('  This is temporary by nature: the next probe may pass without a change.');
  } else {
    lines.push(
      `  Message-ID <${clean(r.messageId)}>${r.queueId ? `, queue id ${clean(r.queueId)}` : ''}; check that it arrived at ${clean(report.to)}.`,
    );
  }
  for (const f of report.findings) {
    lines.push('', `${paint(o.color, 33, `! ${f.code}`)}: ${clean(f.message)}`);
  }
  const total = r.transcript.at(-1)?.at;
  if (total !== undefined) lines.push('', `Took ${total} ms.`);
  return `${lines.join('\n')}\n`;
}
