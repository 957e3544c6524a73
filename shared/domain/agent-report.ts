/**
 * The site agent's report on the wire (`relaywatch.agent-report/v1`): what `relaywatch agent` posts, signed, to the
 * ingest endpoint, and what the ingest function accepts from the Internet. The zod schema is the contract: the
 * ingest parses every body with it, so a malformed or hostile body is refused with the path of the first problem
 * (`probe.result.diagnosis.reply.lines[3]`) before anything is stored.
 *
 * Bounds: every string is capped (a transcript line at 2,000 characters, most fields far less), every array too, so
 * a report is at most a few hundred KB even when every field is at its limit; the ingest caps the body itself at
 * {@link AGENT_REPORT_MAX_BYTES} before parsing. Text inside (SMTP replies, host names) is untrusted: it is stored as
 * evidence and escaped wherever shown, never interpreted.
 *
 * The agent's own verdict (the diagnosis) is carried for display, but the ingest re-classifies the reply it quotes
 * (`classify()` is pure), so a report cannot claim `ok` for a reply that says 5.7.606.
 */
import * as z from 'zod';
import { DIAGNOSIS_IDS } from '../probe/diagnosis-table.ts';

export const AGENT_REPORT_SCHEMA = 'relaywatch.agent-report/v1';
/** The largest body the ingest reads (a real report is 5-20 KB). */
export const AGENT_REPORT_MAX_BYTES = 256 * 1024;

const text = (max: number) => z.string().max(max);
const iso = z.iso.datetime({ offset: false });
const STAGES = ['connect', 'banner', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'data-end'] as const;
const FAILURES = [
  'dns',
  'refused',
  'timeout',
  'tls-handshake',
  'certificate',
  'starttls-not-offered',
  'protocol',
  'token',
] as const;
const stage = z.enum(STAGES);
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id (a-z, 0-9 and -)');
const agentId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1..128 letters, digits and . _ : -');

const finding = z.object({
  code: z.string().regex(/^[a-z0-9-]{1,80}$/, 'must be a kebab-case finding code'),
  severity: z.enum(['info', 'warning', 'error', 'unknown']),
  message: text(2000),
  evidence: z.record(z.string().max(64), z.json()).optional(),
});

const reply = z.object({
  code: z.number().int().min(200).max(599),
  enhanced: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .nullable(),
  text: text(4000),
  lines: z.array(text(2000)).max(64),
  truncated: z.boolean(),
});

const diagnosis = z.object({
  id: z.enum(DIAGNOSIS_IDS),
  severity: z.enum(['info', 'warning', 'error']),
  title: text(300),
  explanation: text(2000),
  remediation: z.array(text(1000)).max(20),
  delistable: z.boolean(),
  retryable: z.boolean(),
  ip: text(64).nullable(),
  reply: reply.nullable(),
  stage,
  failure: z.enum(FAILURES).nullable(),
  queueId: text(200).nullable(),
  messageId: text(300).nullable(),
  detail: text(2000).nullable(),
});

const transcriptEntry = z.object({
  stage,
  at: z.number().min(0),
  sent: text(2000).optional(),
  reply: z.array(text(2000)).max(64).optional(),
  note: text(2000).optional(),
});

const tls = z.object({
  version: text(40).nullable(),
  cipher: text(120).nullable(),
  subject: text(1000).nullable(),
  issuer: text(1000).nullable(),
  validTo: text(64).nullable(),
  authorized: z.boolean(),
  authorizationError: text(200).nullable(),
});

export const ProbeReportWireSchema = z.object({
  kind: z.enum(['relay', 'submission']),
  tenantId: id,
  tenantName: text(200),
  probeId: text(100),
  startedAt: iso,
  target: z.object({
    host: text(253),
    port: z.number().int().min(1).max(65535),
    tls: z.enum(['starttls-required', 'starttls-if-offered', 'none']),
    hostSource: z.enum(['override', 'config', 'expected-mx', 'mx', 'pattern']),
    note: text(1000).nullable(),
  }),
  from: text(320),
  to: text(320),
  auth: z.object({ mechanism: z.enum(['XOAUTH2', 'LOGIN', 'PLAIN']), user: text(320) }).nullable(),
  result: z.object({
    transcript: z.array(transcriptEntry).max(200),
    tls: tls.nullable(),
    diagnosis,
    timings: z.partialRecord(stage, z.number().min(0)),
    messageId: text(300),
    queueId: text(200).nullable(),
  }),
  findings: z.array(finding).max(20),
});

const attempt = z.object({ method: text(300), outcome: z.enum(['ok', 'failed']), detail: text(1000) });

export const AgentReportSchema = z.strictObject({
  schema: z.literal(AGENT_REPORT_SCHEMA),
  agentId,
  tenant: z.object({ id, name: text(200) }),
  at: iso,
  egress: z.discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      ip: z.union([z.ipv4(), z.ipv6()]),
      method: text(300),
      /** The methods that agreed on the address. */
      confirmedBy: z.array(text(300)).max(16),
      attempts: z.array(attempt).max(16),
    }),
    z.object({ ok: z.literal(false), attempts: z.array(attempt).max(16) }),
  ]),
  findings: z.array(finding).max(20),
  probe: ProbeReportWireSchema,
  /**
   * Ok probes the agent held back since its last accepted report (unchanged and ok: docs/agent.md "What the agent
   * posts"). Stored with the result so availability counts them as up. Absent: none (and agents before it).
   */
  unpostedOk: z.number().int().min(1).max(100_000).optional(),
});

export type AgentReportWire = z.infer<typeof AgentReportSchema>;

export type AgentReportParse =
  | { readonly ok: true; readonly report: AgentReportWire }
  | { readonly ok: false; readonly path: string; readonly message: string };

/** `probe.result.transcript[3].sent` */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(body)' : out;
}

/** Parse a JSON value as an agent report; the first problem with its path on failure. Never throws. */
export function parseAgentReport(value: unknown): AgentReportParse {
  const r = AgentReportSchema.safeParse(value);
  if (r.success) return { ok: true, report: r.data };
  const issue = r.error.issues[0];
  return { ok: false, path: pathText(issue?.path ?? []), message: issue?.message ?? 'invalid' };
}
