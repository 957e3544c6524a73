/**
 * An e-mail route through Amazon SES with an endpoint of its own (`ses: { region, endpoint }`, e.g. a VPC endpoint),
 * exercised with `relaywatch notify test` against a local emulation of the SES Query API (`SendRawEmail`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { runCliCaptured } from '../support/run-cli.ts';

let dir: string;
let ses: Receiver;
const raw: string[] = [];
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-ses-'));
  ses = await startReceiver('/', async (body) => {
    const params = new URLSearchParams(body);
    if (params.get('Action') !== 'SendRawEmail') return { status: 400, body: 'unexpected action' };
    raw.push(Buffer.from(params.get('RawMessage.Data') ?? '', 'base64').toString('utf8'));
    return {
      status: 200,
      body: '<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>0100-test</MessageId></SendRawEmailResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></SendRawEmailResponse>',
    };
  });
  // The SDK's credential chain reads the process environment (SES itself is emulated; any keys do).
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
});
afterAll(async () => {
  await ses?.close();
  await rm(dir, { recursive: true, force: true });
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  else process.env.AWS_ACCESS_KEY_ID = saved.id;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
});

describe('notify test through an SES route with its own endpoint', () => {
  it('sends the test alert as SendRawEmail to the configured endpoint', async () => {
    const config = join(dir, 'relaywatch.yaml');
    await writeFile(
      config,
      `
version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
alerts:
  routes:
    - id: psa
      email: { from: relaywatch@msp.example, to: [tickets@psa.example], ses: { region: eu-west-2, endpoint: "${ses.url}" } }
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
`,
    );
    const r = await runCliCaptured(['notify', 'test', '--route', 'psa', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(raw).toHaveLength(1);
    const mail = await simpleParser(raw[0]!);
    expect(mail.subject).toMatch(/^\[relaywatch\]\[contoso\] TEST: relaywatch test alert: .* #test0000$/);
    expect(mail.headers.get('x-relaywatch-kind')).toBe('test');
    // The config's own warnings (this route is routed to by nothing yet) only with --verbose.
    const verbose = await runCliCaptured(['notify', 'test', '--route', 'psa', '--config', config, '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^warning: alerts\.routes\[0\]\.id: route "psa" matches nothing/);
  });

  it('an endpoint that is not a URL is a configuration error', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(
      config,
      `
version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
alerts:
  routes:
    - id: psa
      email: { from: a@msp.example, to: [t@psa.example], ses: { region: eu-west-2, endpoint: "not a url" } }
tenants:
  - { id: contoso, name: Contoso Ltd, domains: [contoso.example] }
`,
    );
    const r = await runCliCaptured(['notify', 'test', '--route', 'psa', '--config', config]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/alerts\.routes\[0\]\.email\.ses\.endpoint: must be an http\(s\) URL/);
  });
});
