/**
 * The probe use case without a network: where the relay probe connects, what the submission probe authenticates
 * with, and what never leaves it (secrets). The SMTP side is a recording prober; SMTP itself is tested against real
 * servers in test/integration (smtp-server, Postfix).
 */
import { describe, expect, it } from 'vitest';
import type { ProbeRequest, ProbeResult, SmtpProber } from '../../shared/ports/smtp-prober.ts';
import type { TokenProvider, TokenRequest, TokenResult } from '../../shared/ports/token-provider.ts';
import { classify } from '../../shared/probe/diagnosis.ts';
import {
  newProbeId,
  ProbeSetupError,
  type ProbeTenant,
  relayTarget,
  runProbe,
} from '../../shared/use-cases/run-probe.ts';
import { ZoneFake } from '../support/zone-fake.ts';

class RecordingProber implements SmtpProber {
  readonly requests: ProbeRequest[] = [];
  async probe(request: ProbeRequest): Promise<ProbeResult> {
    this.requests.push(request);
    return {
      transcript: [{ stage: 'data-end', at: 5, reply: ['250 2.6.0 queued'] }],
      tls: null,
      diagnosis: classify({
        stage: 'data-end',
        reply: { code: 250, enhanced: '2.6.0', text: 'queued', lines: ['250 2.6.0 queued'], truncated: false },
      }),
      timings: {},
      messageId: 'm@x',
      queueId: null,
    };
  }
}

class FixedTokens implements TokenProvider {
  readonly requests: TokenRequest[] = [];
  readonly result: TokenResult;
  constructor(result: TokenResult) {
    this.result = result;
  }
  async getToken(request: TokenRequest): Promise<TokenResult> {
    this.requests.push(request);
    return this.result;
  }
}

const NOW = new Date('2026-11-27T18:00:00Z');
const relayTenant = (relay: Partial<NonNullable<ProbeTenant['relay']>> = {}, expectedMx?: string): ProbeTenant => ({
  id: 'contoso',
  name: 'Contoso',
  domains: [{ name: 'contoso.example', expectedMx }],
  probeRecipients: ['probe@contoso.example'],
  relay: { sender: 'scanner@contoso.example', port: 25, tls: 'if-offered', ...relay },
});
const okTokens = new FixedTokens({
  ok: true,
  token: 'eyJ.token',
  expiresAt: new Date(NOW.getTime() + 3600e3),
  fromCache: false,
});

describe('relayTarget: where the relay probe connects', () => {
  const tenant = relayTenant();
  const relay = tenant.relay!;

  it('takes the Microsoft 365 MX with the lowest preference, not a third-party filter in front of it', async () => {
    const dns = new ZoneFake({
      'contoso.example': [
        { MX: [5, 'mx1.filter.example'] },
        { MX: [20, 'contoso-example.mail.protection.outlook.com.'] },
        { MX: [10, 'Contoso-Example.mail.protection.outlook.com'] },
      ],
    });
    const t = await relayTarget(tenant, relay, {}, dns);
    expect(t).toEqual({
      host: 'contoso-example.mail.protection.outlook.com',
      port: 25,
      tls: 'starttls-if-offered',
      hostSource: 'mx',
      note: null,
    });
  });

  it('falls back to Microsoft’s naming pattern, saying why, when the MX has no Microsoft host or DNS fails', async () => {
    const filtered = await relayTarget(
      tenant,
      relay,
      {},
      new ZoneFake({ 'contoso.example': [{ MX: [5, 'mx1.filter.example'] }] }),
    );
    expect(filtered).toMatchObject({ host: 'contoso-example.mail.protection.outlook.com', hostSource: 'pattern' });
    expect(filtered.note).toMatch(/names no Microsoft 365 host/);
    const down = await relayTarget(tenant, relay, {}, new ZoneFake({ 'contoso.example': [{ fail: 'timeout' }] }));
    expect(down).toMatchObject({ hostSource: 'pattern' });
    expect(down.note).toMatch(/the MX lookup for contoso\.example gave .*timeout/i);
  });

  it('prefers --host, then relay.host, then expectedMx, without asking DNS', async () => {
    const dns = new ZoneFake({});
    expect(await relayTarget(tenant, relay, { host: 'h.example', port: 2525 }, dns)).toMatchObject({
      host: 'h.example',
      port: 2525,
      hostSource: 'override',
    });
    expect(await relayTarget(tenant, { ...relay, host: 'relay.example' }, {}, dns)).toMatchObject({
      host: 'relay.example',
      hostSource: 'config',
    });
    const withExpected = relayTenant({}, 'contoso-example01b.mail.protection.outlook.com');
    expect(await relayTarget(withExpected, withExpected.relay!, {}, dns)).toMatchObject({
      host: 'contoso-example01b.mail.protection.outlook.com',
      hostSource: 'expected-mx',
    });
    expect(dns.log).toEqual([]);
  });

  it('relay.tls: required becomes starttls-required', async () => {
    const t = await relayTarget(tenant, { ...relay, tls: 'required', host: 'r.example' }, {}, new ZoneFake({}));
    expect(t.tls).toBe('starttls-required');
  });
});

describe('runProbe', () => {
  it('relay: no AUTH, the device sender, the first probe recipient, the tenant as the allow-list', async () => {
    const prober = new RecordingProber();
    const report = await runProbe(
      'relay',
      relayTenant({ host: 'r.example' }),
      { ehloName: 'site.contoso.example' },
      {
        prober,
        resolver: new ZoneFake({}),
        tokens: okTokens,
        now: () => NOW,
        newProbeId: () => 'p1',
      },
    );
    expect(prober.requests[0]).toMatchObject({
      host: 'r.example',
      port: 25,
      from: 'scanner@contoso.example',
      to: 'probe@contoso.example',
      allowedRecipients: ['probe@contoso.example'],
      tenantId: 'contoso',
      probeId: 'p1',
      ehloName: 'site.contoso.example',
    });
    expect(prober.requests[0]?.auth).toBeUndefined();
    expect(report).toMatchObject({
      kind: 'relay',
      probeId: 'p1',
      startedAt: NOW.toISOString(),
      auth: null,
      findings: [],
    });
  });

  it('submission with OAuth: asks for a token with the client secret, sends XOAUTH2, keeps the token out of the report', async () => {
    const prober = new RecordingProber();
    const tokens = new FixedTokens({ ok: true, token: 'eyJ.CANARY', expiresAt: NOW, fromCache: false });
    const tenant: ProbeTenant = {
      id: 'wingtip',
      name: 'Wingtip',
      domains: [{ name: 'wingtip.example' }],
      probeRecipients: ['probe@wingtip.example'],
      submission: {
        auth: 'oauth',
        mailbox: 'app@wingtip.example',
        host: 'smtp.office365.com',
        port: 587,
        entraTenantId: 'wingtip.onmicrosoft.com',
        clientId: 'cid',
        clientSecret: () => ({ ok: true, value: 'CANARY-SECRET' }),
      },
    };
    const report = await runProbe(
      'submission',
      tenant,
      { ehloName: 'h.example' },
      { prober, resolver: new ZoneFake({}), tokens, now: () => NOW },
    );
    expect(tokens.requests).toEqual([
      { entraTenantId: 'wingtip.onmicrosoft.com', clientId: 'cid', clientSecret: 'CANARY-SECRET' },
    ]);
    expect(prober.requests[0]).toMatchObject({
      host: 'smtp.office365.com',
      port: 587,
      tls: 'starttls-required',
      auth: { mechanism: 'XOAUTH2', user: 'app@wingtip.example', token: 'eyJ.CANARY' },
    });
    const json = JSON.stringify(report);
    expect(json).not.toContain('CANARY');
    expect(report.auth).toEqual({ mechanism: 'XOAUTH2', user: 'app@wingtip.example' });
    expect(report.findings).toEqual([]);
  });

  it('a failed token request is oauth-token-failed with Entra’s reason, and nothing is sent', async () => {
    const prober = new RecordingProber();
    const tokens = new FixedTokens({
      ok: false,
      reason: 'invalid-client-secret',
      aadsts: 'AADSTS7000215',
      message: 'Entra ID rejected the client secret (AADSTS7000215)',
      retryable: false,
    });
    const tenant: ProbeTenant = {
      id: 'w',
      name: 'W',
      domains: [{ name: 'w.example' }],
      probeRecipients: ['p@w.example'],
      submission: {
        auth: 'oauth',
        mailbox: 'a@w.example',
        host: 'smtp.office365.com',
        port: 587,
        entraTenantId: 't',
        clientId: 'c',
        clientSecret: () => ({ ok: true, value: 's' }),
      },
    };
    const report = await runProbe(
      'submission',
      tenant,
      { ehloName: 'h.example' },
      { prober, resolver: new ZoneFake({}), tokens, now: () => NOW },
    );
    expect(prober.requests).toEqual([]);
    expect(report.result.diagnosis).toMatchObject({
      id: 'oauth-token-failed',
      stage: 'auth',
      failure: 'token',
      severity: 'error',
    });
    expect(report.result.diagnosis.detail).toContain('AADSTS7000215');
    expect(report.result.transcript[0]?.note).toMatch(/invalid-client-secret/);
  });

  it('configuration gaps are ProbeSetupError: no recipients, no section, a secret that does not resolve', async () => {
    const deps = { prober: new RecordingProber(), resolver: new ZoneFake({}), tokens: okTokens, now: () => NOW };
    await expect(runProbe('relay', { ...relayTenant(), probeRecipients: [] }, { ehloName: 'h' }, deps)).rejects.toThrow(
      ProbeSetupError,
    );
    await expect(runProbe('submission', relayTenant(), { ehloName: 'h' }, deps)).rejects.toThrow(
      /no submission section/,
    );
    const basic: ProbeTenant = {
      ...relayTenant(),
      submission: {
        auth: 'basic',
        mailbox: 'a@contoso.example',
        host: 'h',
        port: 587,
        password: () => ({ ok: false, reason: 'environment variable X is not set' }),
      },
    };
    await expect(runProbe('submission', basic, { ehloName: 'h' }, deps)).rejects.toThrow(
      /submission\.password: environment variable X is not set/,
    );
    expect(deps.prober.requests).toEqual([]);
  });
});

describe('newProbeId', () => {
  it('is sortable by time and unique', () => {
    const a = newProbeId(NOW);
    expect(a).toMatch(/^20261127T180000Z-[0-9a-f]{8}$/);
    expect(newProbeId(NOW)).not.toBe(a);
  });
});
