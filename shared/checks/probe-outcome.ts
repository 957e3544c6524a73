/**
 * A probe report as a check outcome (pure), so that probes sit in the report, the store and the incident policy
 * beside SPF, MX and blocklists.
 *
 * Status by diagnosis:
 * - `ok` → pass;
 * - a temporary refusal (throttling, rate limits: severity warning) → warn;
 * - a failure of the path rather than an answer of the service: DNS, connection refused, timeout, TLS handshake, an
 *   unverifiable certificate, STARTTLS missing, a broken session, or a token request that failed on the network →
 *   unknown (for submission probed from the MSP's network these say nothing about the customer; for the relay probe
 *   at the site the agent's report carries them as they are);
 * - any other answer (authentication refused, SMTP AUTH disabled, Basic disabled, a Microsoft block, send-as denied,
 *   Entra refusing the app) → fail.
 *
 * Finding codes are `probe-<diagnosis id>` (README "Probe diagnoses"), plus the probe's own findings (Basic auth).
 */
import { type CheckOutcome, type Finding, finding } from '../domain/outcome.ts';
import type { Diagnosis } from '../probe/diagnosis.ts';
import type { ProbeReport } from '../use-cases/run-probe.ts';

const PATH_FAILURES: ReadonlySet<string> = new Set([
  'dns-failure',
  'connection-refused',
  'timeout',
  'tls-handshake-failed',
  'certificate-invalid',
  'starttls-not-offered',
  'protocol-error',
]);

export type ProbeCheckKind = 'probe-submission' | 'probe-relay';

/** Whether a diagnosis is about the path from where the probe ran rather than the service's answer. */
export function isPathFailure(d: Diagnosis): boolean {
  if (PATH_FAILURES.has(d.id)) return true;
  // A token request that failed on the network or timed out is retryable; Entra refusing the app is not.
  // run-probe puts the token provider's reason first: `(network) …`, `(timeout) …`.
  return d.id === 'oauth-token-failed' && d.detail !== null && /^\((?:network|timeout)\)/.test(d.detail);
}

export function probeOutcome(report: ProbeReport, kind: ProbeCheckKind = `probe-${report.kind}`): CheckOutcome {
  const d = report.result.diagnosis;
  const where = `${report.target.host}:${report.target.port}`;
  const reply = d.reply ? ` Reply: ${d.reply.lines.join(' / ')}` : d.detail ? ` Detail: ${d.detail}` : '';
  const evidence = {
    diagnosis: d.id,
    stage: d.stage,
    host: report.target.host,
    port: report.target.port,
    probeId: report.probeId,
    messageId: report.result.messageId,
    queueId: report.result.queueId,
    reply: d.reply ? d.reply.lines.join('\n') : null,
    ip: d.ip,
  };
  let main: Finding;
  if (d.id === 'ok') {
    main = finding(
      'probe-ok',
      'info',
      `The ${report.kind} probe from ${report.from} to ${report.to} was accepted by ${where}${report.result.queueId ? ` (queue id ${report.result.queueId})` : ''}.`,
      evidence,
    );
  } else if (isPathFailure(d)) {
    main = finding(
      `probe-${d.id}`,
      'unknown',
      `The ${report.kind} probe could not reach ${where} (${d.title}): that says nothing about the tenant yet.${reply}`,
      evidence,
    );
  } else {
    main = finding(
      `probe-${d.id}`,
      d.severity === 'warning' ? 'warning' : 'error',
      `The ${report.kind} probe from ${report.from} was refused at ${d.stage} by ${where}: ${d.title}. ${d.explanation}${reply}`,
      evidence,
    );
  }
  const findings = [main, ...report.findings];
  const severities = findings.map((f) => f.severity);
  const status = severities.includes('error')
    ? 'fail'
    : severities.includes('unknown')
      ? 'unknown'
      : severities.includes('warning')
        ? 'warn'
        : 'pass';
  return {
    kind,
    subject: report.from,
    status,
    findings,
    details: {
      diagnosis: d.id,
      severity: d.severity,
      title: d.title,
      remediation: [...d.remediation],
      retryable: d.retryable,
      target: { host: report.target.host, port: report.target.port, tls: report.target.tls },
      probeId: report.probeId,
      // What round-trip confirmation needs to look for the message later (shared/confirm/).
      messageId: report.result.messageId,
      sentAt: report.startedAt,
      from: report.from,
      to: report.to,
      transcriptSteps: report.result.transcript.length,
      /** Milliseconds from connect to the last step: the digest's probe latency. */
      latencyMs: report.result.transcript.at(-1)?.at ?? 0,
      // The whole conversation (credentials already redacted by the prober), for `relaywatch history --detail`
      // and the report page's last transcripts.
      transcript: report.result.transcript.map((e) => ({
        stage: e.stage,
        at: e.at,
        ...(e.sent !== undefined ? { sent: e.sent } : {}),
        ...(e.reply !== undefined ? { reply: [...e.reply] } : {}),
        ...(e.note !== undefined ? { note: e.note } : {}),
      })),
      tls: report.result.tls
        ? {
            version: report.result.tls.version,
            cipher: report.result.tls.cipher,
            authorized: report.result.tls.authorized,
            subject: report.result.tls.subject,
            issuer: report.result.tls.issuer,
            /** The leaf certificate's expiry: the digest's "certificates near expiry". */
            validTo: report.result.tls.validTo,
          }
        : null,
    },
    durationMs: report.result.transcript.at(-1)?.at ?? 0,
  };
}
