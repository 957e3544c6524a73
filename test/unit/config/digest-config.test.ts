import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { HEADER, lines, problemsOf, tenant } from './helpers.ts';

function withDigest(digest: string): string {
  return `${HEADER.replace('tenants:\n', '')}digest:\n${digest}tenants:\n${tenant('contoso')}`;
}

describe('the digest section', () => {
  it('fills in the defaults', () => {
    const { config } = parseConfig(withDigest('  msp: { to: [noc@northwind.example] }\n'), 'test.yaml');
    expect(config.digest).toMatchObject({
      enabled: true,
      day: 'monday',
      time: '08:00',
      timeZone: 'UTC',
      accentColor: '#0a5fb4',
      tenants: {},
      agentSilenceHours: 24,
      certificateWarningDays: 21,
    });
  });

  it('reads per-tenant recipients and switches', () => {
    const { config } = parseConfig(
      withDigest('  timeZone: Europe/London\n  tenants:\n    contoso: { enabled: false, to: [it@contoso.example] }\n'),
      'test.yaml',
    );
    expect(config.digest?.tenants.contoso).toEqual({ enabled: false, to: ['it@contoso.example'] });
    expect(config.digest?.timeZone).toBe('Europe/London');
  });

  it('names the setting and the expected form for a bad time zone, time, day, colour or key', () => {
    const problems = lines(
      problemsOf(
        withDigest(
          '  timeZone: Mars/Olympus\n  time: "8am"\n  day: funday\n  accentColor: purple\n  recipients: [x@y.example]\n',
        ),
      ),
    );
    expect(problems).toContain(
      'digest.timeZone: must be an IANA time zone name, e.g. Europe/London, America/New_York or UTC (line 8)',
    );
    expect(problems).toContain('digest.time: must be a 24-hour time HH:MM, e.g. 08:00 (line 9)');
    expect(problems.some((p) => p.startsWith('digest.day:') && p.includes('monday'))).toBe(true);
    expect(problems).toContain('digest.accentColor: must be a #RRGGBB colour, e.g. #0a5fb4 (line 11)');
    expect(problems.some((p) => p.startsWith('digest.recipients: unknown key "recipients"'))).toBe(true);
  });

  it('refuses a tenant id that is not a slug under digest.tenants', () => {
    const problems = lines(problemsOf(withDigest('  tenants:\n    "Contoso Ltd": { to: [it@contoso.example] }\n')));
    expect(problems.some((p) => p.startsWith('digest.tenants'))).toBe(true);
  });
});
