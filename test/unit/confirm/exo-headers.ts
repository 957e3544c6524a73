/**
 * Header blocks in the shapes Exchange Online really writes, for the Authentication-Results / SCL / hop parsing tests.
 * Every Authentication-Results value below is taken from (or assembled only from lines quoted in) public sources;
 * names and IPs are those of the sources. Sources:
 *
 * [MS-HDR] Microsoft, "Anti-spam message headers in Microsoft 365", MicrosoftDocs/microsoft-365-docs,
 *   microsoft-365/security/office-365-security/anti-spam-message-headers.md: the SPF/DKIM/DMARC syntax and examples
 *   (`spf=fail (sender IP is 127.0.0.1) smtp.mailfrom=contoso.com`, `dkim=fail (body hash did not verify)`,
 *   `dmarc=fail action=oreject`, `dmarc=bestguesspass action=none`), X-Forefront-Antispam-Report fields
 *   (`...CTRY:;LANG:hr;SCL:1;SRV:;IPV:NLI;SFV:NSPM;PTR:;CAT:NONE;SFTY:;...`), compauth reason codes.
 * [MS-VAL] Microsoft, email-validation-and-authentication.md (same repository, localised copies quote the English
 *   text): `Authentication-Results: spf=none (sender IP is 10.2.3.4) smtp.mailfrom=fabrikam.com; contoso.com; dkim=none
 *   (message not signed) header.d=none; contoso.com; dmarc=none action=none header.from=fabrikam.com; compauth=fail
 *   reason=001` (note the stray `contoso.com;` parts: a naive "first bare word is the authserv-id" reading goes wrong).
 * [EHA] "Email Header Analysis", a public GitHub markdown quoting a real 2024 Exchange Online header: the Received
 *   chain through *.prod.outlook.com / *.prod.exchangelabs.com, `ARC-Authentication-Results: i=2; mx.microsoft.com 1;
 *   spf=pass (sender ip is 40.107.93.132) …` and `Authentication-Results: spf=pass (sender IP is 40.107.93.132)
 *   smtp.mailfrom=transunited.com; dkim=fail (no key for signature) header.d=transunited.com;dmarc=pass action=none
 *   header.from=transunited.com;compauth=pass reason=100` (no space after some `;`, as Exchange Online writes it).
 * [ISSUE] Public issue/test texts quoting captured Microsoft 365 headers: `spf=none (sender IP is 57.128.69.202)
 *   smtp.mailfrom=dturm.de; dkim=none (message not signed) header.d=none;dmarc=none action=none
 *   header.from=appjj.example.fr;compauth=fail reason=001`, and the intra-organisation shape with no SPF at all:
 *   `dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=quackback.io;`.
 * [URTECH] urtech.ca, "What an email message header tells you about spam" (2022): `X-MS-Exchange-Organization-SCL: 1`,
 *   `ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass`.
 */

/** [EHA]: the full top of a real header, Exchange Online's own AR below the internal hops (all pass, DKIM fail). */
export const EHA_ALL_PASS_DKIM_FAIL = [
  'Received: from TY0PR0101MB4165.apcprd01.prod.exchangelabs.com',
  ' (2603:1096:400:1bb::9) by SI2PR01MB4273.apcprd01.prod.exchangelabs.com with',
  ' HTTPS; Mon, 15 Apr 2024 14:20:03 +0000',
  'ARC-Authentication-Results: i=2; mx.microsoft.com 1; spf=pass (sender ip is 40.107.93.132) smtp.rcpttodomain=asteelflash.com smtp.mailfrom=transunited.com; dmarc=pass (p=none sp=none pct=100) action=none header.from=transunited.com; dkim=fail (no key for signature) header.d=transunited.com; arc=pass (0 oda=0 ltdi=1)',
  'Received: from SG2PR02CA0123.apcprd02.prod.outlook.com (2603:1096:4:188::22) by TY0PR0101MB4165.apcprd01.prod.exchangelabs.com (2603:1096:400:1bb::9) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7452.50; Mon, 15 Apr 2024 14:19:57 +0000',
  'Received: from HK3PEPF00000220.apcprd03.prod.outlook.com (2603:1096:4:188:cafe::7a) by SG2PR02CA0123.outlook.office365.com (2603:1096:4:188::22) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7472.33 via Frontend Transport; Mon, 15 Apr 2024 14:19:56 +0000',
  'Authentication-Results: spf=pass (sender IP is 40.107.93.132) smtp.mailfrom=transunited.com; dkim=fail (no key for signature) header.d=transunited.com;dmarc=pass action=none header.from=transunited.com;compauth=pass reason=100',
  'Message-ID: <20240415071948.8976C81781726808@transunited.com>',
  '',
].join('\r\n');

/** Exchange Online's AR line of a relay from an IP SPF does not list ([MS-HDR] syntax and reasons; [ISSUE] shape). */
export const AR_SPF_SOFTFAIL_DMARC_FAIL =
  'spf=softfail (sender IP is 203.0.113.9) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=contoso.com;compauth=fail reason=000';

/** [MS-HDR]: `spf=fail (sender IP is 127.0.0.1)`, `dkim=fail (body hash did not verify)`, `dmarc=fail action=oreject`. */
export const AR_SPF_FAIL_DKIM_BODYHASH_OREJECT =
  'spf=fail (sender IP is 127.0.0.1) smtp.mailfrom=contoso.com; dkim=fail (body hash did not verify) header.d=contoso.com;dmarc=fail action=oreject header.from=contoso.com;compauth=fail reason=000';

/** [MS-HDR]: SPF pass, no DMARC record but it would pass (`bestguesspass`), compauth pass. */
export const AR_BESTGUESSPASS =
  'spf=pass (sender IP is 192.168.0.1) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=bestguesspass action=none header.from=contoso.com;compauth=pass reason=109';

/** [MS-VAL]: spf=none, stray `contoso.com;` parts, compauth fail 001. */
export const AR_MS_VAL_STRAY_PARTS = [
  'spf=none (sender IP is 10.2.3.4)',
  '  smtp.mailfrom=fabrikam.com; contoso.com; dkim=none',
  '  (message not signed) header.d=none; contoso.com; dmarc=none',
  '  action=none header.from=fabrikam.com; compauth=fail reason=001',
].join('\r\n');

/** [ISSUE]: spf=none from a real sender. */
export const AR_ISSUE_SPF_NONE =
  'spf=none (sender IP is 57.128.69.202) smtp.mailfrom=dturm.de; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=appjj.example.fr;compauth=fail reason=001';

/** [ISSUE]: intra-organisation mail: no SPF result at all, DMARC none. */
export const AR_INTRA_ORG =
  'dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=quackback.io;';

/** [EHA]: Exchange Online's line (all the verdicts of a healthy relay are in the pass one below). */
export const AR_ALL_PASS =
  'spf=pass (sender IP is 40.107.20.51) smtp.mailfrom=contoso.com; dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass reason=100';

/** A block of headers around an AR line: Exchange Online's antispam headers ([MS-HDR], [URTECH]). */
export function block(ar: string, extra: readonly string[] = []): string {
  return [
    ...extra,
    `Authentication-Results: ${ar}`,
    'X-MS-Exchange-Organization-SCL: 1',
    'X-Forefront-Antispam-Report: CIP:40.107.20.51;CTRY:;LANG:hr;SCL:1;SRV:;IPV:NLI;SFV:NSPM;PTR:;CAT:NONE;SFTY:;',
    'Message-ID: <relaywatch.a1@contoso.com>',
    '',
  ].join('\r\n');
}
