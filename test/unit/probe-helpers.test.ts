/** Small pure pieces of the probe and agent layers: the EHLO name, the agent's egress findings, alert content bounds. */
import { describe, expect, it } from 'vitest';
import { defaultEhloName } from '../../shared/cli/commands/probe.ts';
import { decodeContent, encodeContent } from '../../shared/monitor/observe.ts';
import { egressFindings } from '../../shared/use-cases/agent-cycle.ts';

describe('defaultEhloName', () => {
  it('is the host name when it is fully qualified, else the sender’s domain', () => {
    expect(defaultEhloName('scanner@Contoso.example', 'Site-GW.contoso.example')).toBe('site-gw.contoso.example');
    expect(defaultEhloName('scanner@Contoso.example', 'PRINTSRV')).toBe('contoso.example');
    expect(defaultEhloName('scanner@contoso.example', 'bad_host.local')).toBe('contoso.example');
  });
});

describe('egressFindings', () => {
  const ok = (ip: string) => ({
    ok: true as const,
    ip,
    method: 'dns:myip.opendns.com@208.67.222.222',
    confirmedBy: [],
    attempts: [],
  });

  it('ok when the IP is a relay IP or inside a relay range', () => {
    expect(egressFindings(ok('198.51.100.9'), ['198.51.100.8/29']).map((f) => f.code)).toEqual(['agent-egress-ip-ok']);
  });

  it('changed when it is not, naming both', () => {
    const [f] = egressFindings(ok('198.51.100.77'), ['203.0.113.10']);
    expect(f?.code).toBe('agent-egress-ip-changed');
    expect(f?.message).toContain('198.51.100.77');
    expect(f?.message).toContain('203.0.113.10');
  });

  it('not-configured when the tenant lists no relay IPs; unknown (never a failure) when no method answered', () => {
    expect(egressFindings(ok('198.51.100.77'), []).map((f) => [f.code, f.severity])).toEqual([
      ['agent-egress-ip-not-configured', 'warning'],
    ]);
    const unknown = egressFindings(
      {
        ok: false,
        attempts: [{ method: 'dns:myip.opendns.com@208.67.222.222', outcome: 'failed', detail: 'timeout' }],
      },
      ['203.0.113.10'],
    );
    expect(unknown.map((f) => [f.code, f.severity])).toEqual([['agent-egress-ip-unknown', 'unknown']]);
    expect(unknown[0]?.message).toContain('timeout');
  });
});

describe('alert content kept with an incident', () => {
  it('always fits the incident record (4,000 characters) and decodes, however long the parts', () => {
    const huge = 'x'.repeat(50_000);
    const json = encodeContent({
      what: huge,
      why: huge,
      remediation: Array.from({ length: 20 }, () => huge),
      links: Array.from({ length: 20 }, () => ({ label: huge, url: `https://e.example/${huge}` })),
      evidence: huge,
      listing: {
        ip: '192.0.2.1',
        zoneId: 'z',
        zone: 'z.example',
        codes: [{ code: '127.0.0.2', meaning: huge }],
        reason: huge,
        removalUrl: null,
        lookupUrl: null,
      },
    });
    expect(json.length).toBeLessThanOrEqual(3900);
    const back = decodeContent(json);
    expect(back.what.startsWith('xxx')).toBe(true);
    expect(back.listing?.ip).toBe('192.0.2.1');
  });

  it('plain text that is not ours decodes as the description', () => {
    expect(decodeContent('just text')).toEqual({
      what: 'just text',
      why: '',
      remediation: [],
      links: [],
      evidence: null,
    });
  });
});
