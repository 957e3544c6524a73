import { describe, expect, it } from 'vitest';
import { AGENT_REPORT_MAX_BYTES, parseAgentReport } from '../../../shared/domain/agent-report.ts';
import { agentReportFixture, BANNED_REPLY } from '../../support/agent-report-fixture.ts';

/** A report as it crosses the wire: JSON text and back. */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('the agent report wire schema', () => {
  it('accepts what the agent really sends, for a delivered and for a refused probe', async () => {
    for (const report of [await agentReportFixture(), await agentReportFixture(BANNED_REPLY)]) {
      const r = parseAgentReport(wire(report));
      expect(r).toMatchObject({ ok: true });
      if (r.ok) expect(r.report).toEqual(wire(report));
      expect(JSON.stringify(report).length).toBeLessThan(AGENT_REPORT_MAX_BYTES);
    }
  });

  it('names the path of the first problem', async () => {
    const report = wire(await agentReportFixture(BANNED_REPLY)) as {
      probe: { result: { diagnosis: { reply: { lines: unknown[] } } } };
    };
    report.probe.result.diagnosis.reply.lines[0] = 42;
    expect(parseAgentReport(report)).toMatchObject({ ok: false, path: 'probe.result.diagnosis.reply.lines[0]' });
  });

  it('refuses an unknown top-level key, a wrong schema, a tenant id that is not an id and an oversized line', async () => {
    const base = wire(await agentReportFixture()) as Record<string, unknown>;
    expect(parseAgentReport({ ...base, extra: 1 })).toMatchObject({ ok: false });
    expect(parseAgentReport({ ...base, schema: 'relaywatch.agent-report/v2' })).toMatchObject({
      ok: false,
      path: 'schema',
    });
    expect(parseAgentReport({ ...base, tenant: { id: '../other', name: 'x' } })).toMatchObject({
      ok: false,
      path: 'tenant.id',
    });
    const long = wire(base) as { findings: { message: string }[] };
    long.findings[0] = { ...long.findings[0], message: 'x'.repeat(2001) } as never;
    expect(parseAgentReport(long)).toMatchObject({ ok: false, path: 'findings[0].message' });
    expect(parseAgentReport(null)).toMatchObject({ ok: false, path: '(body)' });
  });
});
