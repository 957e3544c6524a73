/**
 * makeIngest with fakes: an in-memory SQLite store (its nonce table is the replay guard), the config with two agents
 * of two tenants, a recording notifier. Requests are API Gateway HTTP API (payload v2) events, signed with the real
 * signing code.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeIngest } from '../../../functions/ingest/ingest.ts';
import { openSqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import { AGENT_REPORT_MAX_BYTES } from '../../../shared/domain/agent-report.ts';
import { generateAgentSecret, signRequest } from '../../../shared/ingest/signature.ts';
import type { Alert, Notifier, SendResult } from '../../../shared/notify/alert.ts';
import { agentReportFixture, BANNED_REPLY } from '../../support/agent-report-fixture.ts';
import {
  FakeConfigSource,
  HOOK_ALERTS,
  LAB_MSP_LINES,
  RecordingLogger,
  RecordingMetrics,
} from '../../support/lambda-fakes.ts';

const CONFIG = `
${LAB_MSP_LINES}
${HOOK_ALERTS}
incidents:
  checks: { probe-relay: { openAfter: 1 } }
ingest:
  agents:
    - { id: contoso-hq, tenant: contoso, secret: { env: AGENT_CONTOSO } }
    - { id: fabrikam-hq, tenant: fabrikam, secret: { env: AGENT_FABRIKAM } }
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example], relayIps: [203.0.113.7] }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example], relayIps: [198.51.100.9] }
`;
const SECRETS = { AGENT_CONTOSO: generateAgentSecret(), AGENT_FABRIKAM: generateAgentSecret() };
const URL_ = 'https://ingest.example/reports';
const NOW = Date.parse('2026-11-27T18:00:30.000Z');

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<SendResult> {
    this.sent.push(alert);
    return { ok: true };
  }
}

function setup() {
  const store = openSqliteStore({ path: ':memory:' });
  const notifier = new RecordingNotifier();
  const metrics = new RecordingMetrics();
  const ingest = makeIngest({
    config: new FakeConfigSource(CONFIG),
    store,
    secrets: async () => ({ env: SECRETS }),
    notifiers: async () => () => notifier,
    logger: new RecordingLogger(),
    metrics,
    now: () => NOW,
  });
  return { store, notifier, metrics, ingest };
}

function request(body: string, headers: Record<string, string>, base64 = false): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /reports',
    rawPath: '/reports',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'ingest.example', ...headers },
    requestContext: { http: { method: 'POST', sourceIp: '203.0.113.7' } } as APIGatewayProxyEventV2['requestContext'],
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

const signed = (body: string, agentId = 'contoso-hq', secret = SECRETS.AGENT_CONTOSO, now = NOW) =>
  request(body, signRequest({ agentId, secret, body, now, url: URL_ }));

async function reportBody(o: Parameters<typeof agentReportFixture>[1] = {}) {
  return JSON.stringify(await agentReportFixture(BANNED_REPLY, { at: new Date('2026-11-27T18:00:00.000Z'), ...o }));
}

describe('makeIngest', () => {
  it('accepts a signed report (202), records it as a probe-relay check and alerts the tenant once', async () => {
    const s = setup();
    const res = await s.ingest(signed(await reportBody()));
    expect(res.statusCode).toBe(202);
    const h = await s.store.results.history('contoso', { check: 'probe-relay' });
    expect(h.items.map((c) => [c.status, c.codes[0]])).toEqual([['fail', 'probe-ms-banned-ip']]);
    expect(s.notifier.sent).toHaveLength(1);
    expect(s.metrics.total(METRICS.ingest.accepted)).toBe(1);
    // The result is the report's record: no run item besides it (one write fewer per report).
    expect((await s.store.results.runs({ tenantId: 'contoso' })).items).toEqual([]);
    // The same report posted again with a fresh signature (an agent retry) writes and sends nothing new.
    expect(
      (await s.ingest(signed(await reportBody(), 'contoso-hq', SECRETS.AGENT_CONTOSO, NOW + 1000))).statusCode,
    ).toBe(202);
    expect((await s.store.results.history('contoso', { check: 'probe-relay' })).items).toHaveLength(1);
    expect(s.notifier.sent).toHaveLength(1);
  });

  it('accepts a base64-encoded body (API Gateway binary), verified on the exact bytes', async () => {
    const s = setup();
    const body = await reportBody();
    const res = await s.ingest(
      request(
        body,
        signRequest({ agentId: 'contoso-hq', secret: SECRETS.AGENT_CONTOSO, body, now: NOW, url: URL_ }),
        true,
      ),
    );
    expect(res.statusCode).toBe(202);
  });

  it('answers 401 for a bad signature, an unknown agent, a stale timestamp and a signature for another endpoint; 400 without the headers; storing nothing', async () => {
    const s = setup();
    const body = await reportBody();
    for (const ev of [
      signed(body, 'contoso-hq', generateAgentSecret()),
      signed(body, 'nobody', generateAgentSecret()),
      signed(body, 'contoso-hq', SECRETS.AGENT_CONTOSO, NOW - 3_600_000),
      request(
        body,
        signRequest({
          agentId: 'contoso-hq',
          secret: SECRETS.AGENT_CONTOSO,
          body,
          now: NOW,
          url: 'https://other.example/reports',
        }),
      ),
    ]) {
      const res = await s.ingest(ev);
      expect(res.statusCode).toBe(401);
      expect(String(res.body)).not.toContain(SECRETS.AGENT_CONTOSO);
    }
    expect((await s.ingest(request(body, {}))).statusCode).toBe(400);
    expect((await s.store.results.history('contoso')).items).toEqual([]);
    expect(s.metrics.total(METRICS.ingest.rejected)).toBe(5);
  });

  it('answers 409 for a replayed request', async () => {
    const s = setup();
    const ev = signed(await reportBody());
    expect((await s.ingest(ev)).statusCode).toBe(202);
    expect((await s.ingest(ev)).statusCode).toBe(409);
  });

  it('answers 400 with the path for a malformed body, and for one that is not JSON', async () => {
    const s = setup();
    const report = JSON.parse(await reportBody()) as { probe: { target: { port: unknown } } };
    report.probe.target.port = 'twenty-five';
    const res = await s.ingest(signed(JSON.stringify(report)));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(String(res.body))).toMatchObject({ path: 'probe.target.port' });
    const notJson = await s.ingest(signed('{"schema":'));
    expect([notJson.statusCode, JSON.parse(String(notJson.body)).path]).toEqual([400, '(body)']);
  });

  it('answers 413 for an oversized body before verifying anything', async () => {
    const s = setup();
    const res = await s.ingest(request('x'.repeat(AGENT_REPORT_MAX_BYTES + 1), {}));
    expect(res.statusCode).toBe(413);
  });

  it('answers 403 when an agent reports for another tenant: its secret cannot post for them', async () => {
    const s = setup();
    const res = await s.ingest(signed(await reportBody({ tenantId: 'fabrikam' })));
    expect(res.statusCode).toBe(403);
    expect((await s.store.results.history('fabrikam')).items).toEqual([]);
  });

  it('re-classifies the quoted reply: a report claiming ok for a 5.7.606 refusal is recorded as the refusal', async () => {
    const s = setup();
    const report = JSON.parse(await reportBody()) as {
      probe: { result: { diagnosis: { id: string; severity: string } } };
    };
    report.probe.result.diagnosis.id = 'ok';
    report.probe.result.diagnosis.severity = 'info';
    expect((await s.ingest(signed(JSON.stringify(report)))).statusCode).toBe(202);
    const h = await s.store.results.history('contoso', { check: 'probe-relay' });
    expect(h.items[0]?.codes[0]).toBe('probe-ms-banned-ip');
  });

  it('stores the ok probes the agent held back (unpostedOk) with the result, and refuses a count that is no count', async () => {
    const s = setup();
    const report = JSON.parse(await reportBody()) as Record<string, unknown>;
    expect((await s.ingest(signed(JSON.stringify({ ...report, unpostedOk: 3 })))).statusCode).toBe(202);
    const h = await s.store.results.history('contoso', { check: 'probe-relay' });
    expect(h.items[0]?.detail).toMatchObject({ unpostedOk: 3 });
    const bad = await s.ingest(
      signed(JSON.stringify({ ...report, unpostedOk: 0 }), 'contoso-hq', SECRETS.AGENT_CONTOSO, NOW + 1000),
    );
    expect(bad.statusCode).toBe(400);
    expect(String(bad.body)).toContain('unpostedOk');
  });
});
