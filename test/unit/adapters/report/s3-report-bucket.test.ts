/** The report bucket's pre-signed links: SigV4 query signing (computed locally, nothing is contacted), at most 7 days. */
import { describe, expect, it } from 'vitest';
import { s3Client } from '../../../../shared/adapters/config/s3-config-source.ts';
import { S3ReportBucket } from '../../../../shared/adapters/report/s3-report-bucket.ts';

const bucket = new S3ReportBucket(
  s3Client({
    endpoint: 'http://127.0.0.1:9',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  }),
  'relaywatch-config',
);

describe('S3ReportBucket.presignGet', () => {
  it('signs a GET of the key for the lifetime asked, up to seven days', async () => {
    const url = new URL(await bucket.presignGet('reports/2026-W47.html', 604_800));
    expect(url.pathname).toBe('/relaywatch-config/reports/2026-W47.html');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('604800');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // The secret never appears in the link.
    expect(url.href).not.toContain('wJalrXUtnFEMI');
    expect(new URL(await bucket.presignGet('reports/x.html', 3600)).searchParams.get('X-Amz-Expires')).toBe('3600');
  });

  it('refuses a lifetime S3 would not honour', () => {
    for (const bad of [0, -1, 604_801, 1.5, Number.NaN]) {
      expect(() => bucket.presignGet('reports/x.html', bad), String(bad)).toThrow(RangeError);
    }
  });
});
