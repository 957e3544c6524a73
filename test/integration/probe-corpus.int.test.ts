/**
 * Every Exchange Online reply of the corpus (test/fixtures/exo-replies.ts, with sources) through the CLI's probe path:
 * `relaywatch probe relay|submission --json` in-process against a scripted smtp-server on loopback that answers the
 * corpus reply at its stage (AUTH via a Basic-auth submission probe; MAIL FROM, RCPT TO and the final dot via the relay
 * probe). Asserts the diagnosis id, severity and retryable flag the corpus expects, and that the reply arrived as sent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeDocument } from '../../shared/cli/probe-render.ts';
import { type CorpusReply, EXO_REPLIES } from '../fixtures/exo-replies.ts';
import { FIXED_NOW, runCliCaptured } from '../support/run-cli.ts';
import { type LabReply, type SmtpLabScript, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const PASSWORD = 'CANARY-corpus-Pa55-7d1e';
const CONFIG = `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 300
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    relay: { sender: scanner@contoso.example }
    probeRecipients: [probe@contoso.example]
  - id: tailspin
    name: Tailspin Toys
    domains: [tailspin.example]
    submission:
      mailbox: app@tailspin.example
      auth: basic
      password: { env: LAB_CORPUS_PASSWORD }
    probeRecipients: [probe@tailspin.example]
`;

let dir: string;
let cert: SelfSignedCert;
let configPath: string;
let caPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-probe-corpus-'));
  cert = await makeSelfSignedCert(dir);
  configPath = join(dir, 'relaywatch.yaml');
  caPath = join(dir, 'lab-ca.pem');
  await writeFile(configPath, CONFIG);
  await writeFile(caPath, cert.cert);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `550 5.7.1 text` → the lab's { code, message }. */
function labReply(raw: string): LabReply {
  const m = /^(\d{3}) (.*)$/s.exec(raw);
  if (!m) throw new Error(`corpus reply without a reply code: ${raw}`);
  return { code: Number(m[1]), message: m[2]! };
}

function script(r: CorpusReply): { kind: 'relay' | 'submission'; script: SmtpLabScript } {
  const reply = labReply(r.reply);
  switch (r.stage) {
    case 'auth':
      return {
        kind: 'submission',
        script: { auth: { methods: ['LOGIN'], user: 'app@tailspin.example', secret: PASSWORD, reject: reply } },
      };
    case 'mail':
      return { kind: 'relay', script: { onMailFrom: reply } };
    case 'rcpt':
      return { kind: 'relay', script: { onRcptTo: reply } };
    case 'data-end':
      return {
        kind: 'relay',
        script: reply.code < 400 ? { acceptData: reply.message } : { onData: reply },
      };
  }
}

describe('relaywatch probe against every reply of the Exchange Online corpus', () => {
  it.each(EXO_REPLIES.map((r) => [r.expect.id, r.stage, r.reply, r] as const))(
    'diagnoses %s at %s: %s',
    async (_id, _stage, _reply, r) => {
      const { kind, script: s } = script(r);
      const lab = await startSmtpLab(s, cert);
      try {
        const tenant = kind === 'relay' ? 'contoso' : 'tailspin';
        const out = await runCliCaptured(
          [
            'probe',
            kind,
            '-t',
            tenant,
            '--json',
            '--host',
            lab.host,
            '--port',
            String(lab.port),
            '--ca',
            caPath,
            '--config',
            configPath,
          ],
          { LAB_CORPUS_PASSWORD: PASSWORD },
          FIXED_NOW,
        );
        const doc = JSON.parse(out.stdout) as ProbeDocument;
        expect({
          id: doc.diagnosis.id,
          severity: doc.diagnosis.severity,
          retryable: doc.diagnosis.retryable,
        }).toEqual(r.expect);
        expect(doc.diagnosis.stage).toBe(r.stage);
        expect(doc.diagnosis.reply?.lines.join(' ')).toBe(r.reply);
        expect(out.code).toBe(r.expect.id === 'ok' ? 0 : r.expect.severity === 'error' ? 2 : 1);
        expect(out.stdout + out.stderr).not.toContain(PASSWORD);
      } finally {
        await lab.stop();
      }
    },
  );
});
