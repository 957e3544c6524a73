import { describe, expect, it } from 'vitest';
import { messageEvidence } from '../../../shared/confirm/evidence.ts';
import {
  AR_ALL_PASS,
  AR_BESTGUESSPASS,
  AR_INTRA_ORG,
  AR_ISSUE_SPF_NONE,
  AR_MS_VAL_STRAY_PARTS,
  AR_SPF_FAIL_DKIM_BODYHASH_OREJECT,
  AR_SPF_SOFTFAIL_DMARC_FAIL,
  block,
  EHA_ALL_PASS_DKIM_FAIL,
} from './exo-headers.ts';

describe('Authentication-Results as Exchange Online writes it', () => {
  it('reads the verdicts of a real header below the internal hops, ignoring ARC-Authentication-Results', () => {
    const e = messageEvidence(EHA_ALL_PASS_DKIM_FAIL);
    expect(e.auth.source).toBe('exchange-online');
    expect(e.auth.authservId).toBeNull();
    expect(e.auth.spf).toEqual({ result: 'pass', ip: '40.107.93.132', mailfrom: 'transunited.com' });
    expect(e.auth.dkim).toEqual([{ result: 'fail', domain: 'transunited.com', note: 'no key for signature' }]);
    expect(e.auth.dmarc).toEqual({ result: 'pass', action: 'none', headerFrom: 'transunited.com' });
    expect(e.auth.compauth).toEqual({ result: 'pass', reason: '100' });
    expect(e.auth.ignored).toBe(0);
    expect(e.messageId).toBe('20240415071948.8976C81781726808@transunited.com');
  });

  it.each([
    ['softfail + dmarc fail (quarantine)', AR_SPF_SOFTFAIL_DMARC_FAIL, 'softfail', 'fail', 'quarantine', 'fail', '000'],
    ['fail + dkim body hash + oreject', AR_SPF_FAIL_DKIM_BODYHASH_OREJECT, 'fail', 'fail', 'oreject', 'fail', '000'],
    ['pass + bestguesspass', AR_BESTGUESSPASS, 'pass', 'bestguesspass', 'none', 'pass', '109'],
    ['spf none, dmarc none', AR_ISSUE_SPF_NONE, 'none', 'none', 'none', 'fail', '001'],
    ['all pass', AR_ALL_PASS, 'pass', 'pass', 'none', 'pass', '100'],
  ])('reads %s', (_name, ar, spf, dmarc, action, compauth, reason) => {
    const e = messageEvidence(block(ar));
    expect(e.auth.source).toBe('exchange-online');
    expect(e.auth.spf?.result).toBe(spf);
    expect(e.auth.dmarc).toMatchObject({ result: dmarc, action });
    expect(e.auth.compauth).toEqual({ result: compauth, reason });
  });

  it('takes the IP from Exchange Online’s SPF comment', () => {
    expect(messageEvidence(block(AR_SPF_SOFTFAIL_DMARC_FAIL)).auth.spf?.ip).toBe('203.0.113.9');
    expect(messageEvidence(block(AR_SPF_FAIL_DKIM_BODYHASH_OREJECT)).auth.dkim[0]).toEqual({
      result: 'fail',
      domain: 'contoso.com',
      note: 'body hash did not verify',
    });
  });

  it('does not take a stray bare word for an authserv-id in Microsoft’s folded example', () => {
    const e = messageEvidence(block(AR_MS_VAL_STRAY_PARTS));
    expect(e.auth.source).toBe('exchange-online');
    expect(e.auth.authservId).toBeNull();
    expect(e.auth.spf).toEqual({ result: 'none', ip: '10.2.3.4', mailfrom: 'fabrikam.com' });
    expect(e.auth.dmarc).toEqual({ result: 'none', action: 'none', headerFrom: 'fabrikam.com' });
    expect(e.auth.compauth).toEqual({ result: 'fail', reason: '001' });
  });

  it('reports intra-organisation mail without an SPF verdict as not evaluated', () => {
    const e = messageEvidence(block(AR_INTRA_ORG));
    expect(e.auth.spf).toBeNull();
    expect(e.auth.dmarc?.result).toBe('none');
  });

  it('gives null verdicts when there is no Authentication-Results at all', () => {
    const e = messageEvidence('Message-ID: <x@y>\r\nSubject: hi\r\n');
    expect(e.auth).toMatchObject({ source: null, spf: null, dmarc: null, compauth: null, dkim: [], ignored: 0 });
  });
});

describe('several Authentication-Results from different hops: only the one Exchange Online added counts', () => {
  it('ignores a Google hop’s passing header below Exchange Online’s failing one', () => {
    const e = messageEvidence(
      block(AR_SPF_SOFTFAIL_DMARC_FAIL, []) +
        'Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=contoso.com; dkim=pass header.i=@contoso.com; dmarc=pass header.from=contoso.com\r\n',
    );
    expect(e.auth.spf?.result).toBe('softfail');
    expect(e.auth.dmarc?.result).toBe('fail');
    expect(e.auth.ignored).toBe(1);
  });

  it('ignores a header without authserv-id that is not the topmost (a sender can write one)', () => {
    const forged = `Authentication-Results: ${AR_ALL_PASS}`;
    const headers = [
      'Authentication-Results: filter.contoso.example; spf=fail smtp.mailfrom=contoso.com; dmarc=fail header.from=contoso.com',
      forged,
      'Message-ID: <a@b>',
      '',
    ].join('\r\n');
    const e = messageEvidence(headers);
    expect(e.auth.source).toBeNull();
    expect(e.auth.spf).toBeNull();
    expect(e.auth.ignored).toBe(2);
  });

  it('counts a configured authserv-id wherever it is, and ignores the others', () => {
    const headers = [
      'Authentication-Results: other.example; spf=pass smtp.mailfrom=contoso.com',
      'Authentication-Results: Filter.Contoso.Example; spf=fail smtp.mailfrom=contoso.com; dkim=pass header.d=contoso.com; dkim=fail header.d=mailer.example; dmarc=fail header.from=contoso.com',
      '',
    ].join('\r\n');
    const e = messageEvidence(headers, { trustedAuthservIds: ['filter.contoso.example'] });
    expect(e.auth).toMatchObject({ source: 'trusted', authservId: 'filter.contoso.example', ignored: 1 });
    expect(e.auth.spf?.result).toBe('fail');
    expect(e.auth.dkim.map((d) => `${d.result}:${d.domain}`)).toEqual(['pass:contoso.com', 'fail:mailer.example']);
  });

  it('does not let a method=result inside a comment count', () => {
    const e = messageEvidence(
      block(
        'spf=fail (sender IP is 198.51.100.7; dmarc=pass) smtp.mailfrom=contoso.com;dmarc=fail action=none header.from=contoso.com',
      ),
    );
    expect(e.auth.spf).toEqual({ result: 'fail', ip: '198.51.100.7', mailfrom: 'contoso.com' });
    expect(e.auth.dmarc?.result).toBe('fail');
  });
});

describe('spam verdict and hops', () => {
  it('reads SCL from X-MS-Exchange-Organization-SCL and the antispam report fields', () => {
    const e = messageEvidence(block(AR_ALL_PASS));
    expect(e.spam).toEqual({ scl: 1, sfv: 'NSPM', cat: 'NONE', connectingIp: '40.107.20.51' });
  });

  it('falls back to the antispam report’s SCL and CIP (also as the SPF IP when the comment has none)', () => {
    const e = messageEvidence(
      'Authentication-Results: spf=pass smtp.mailfrom=contoso.com;dmarc=pass action=none header.from=contoso.com\r\n' +
        'X-Forefront-Antispam-Report: CIP:198.51.100.20;CTRY:NL;LANG:en;SCL:6;SRV:;IPV:NLI;SFV:SPM;CAT:SPM;SFTY:;\r\n',
    );
    expect(e.spam).toEqual({ scl: 6, sfv: 'SPM', cat: 'SPM', connectingIp: '198.51.100.20' });
    expect(e.auth.spf?.ip).toBe('198.51.100.20');
  });

  it('lists the hops oldest first with the delay each added', () => {
    const e = messageEvidence(EHA_ALL_PASS_DKIM_FAIL);
    expect(e.hops.map((h) => h.by)).toEqual([
      'SG2PR02CA0123.outlook.office365.com',
      'TY0PR0101MB4165.apcprd01.prod.exchangelabs.com',
      'SI2PR01MB4273.apcprd01.prod.exchangelabs.com',
    ]);
    expect(e.hops.map((h) => h.delayMs)).toEqual([null, 1000, 6000]);
    expect(e.hops[0]?.at).toBe('2024-04-15T14:19:56.000Z');
  });
});
