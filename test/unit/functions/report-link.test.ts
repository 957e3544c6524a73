/** makeReportLink with fakes: a recording pre-signer, a counting key source, a fixed clock. */
import { describe, expect, it } from 'vitest';
import { makeReportLink, PRESIGN_SECONDS } from '../../../functions/report-link/report-link.ts';
import { signReportLink } from '../../../shared/digest/report-link.ts';
import { RecordingLogger } from '../../support/lambda-fakes.ts';

const KEY = 's'.repeat(48);
const NOW = new Date('2026-11-23T09:00:00Z');

function setup(now = NOW) {
  const signed: { key: string; seconds: number }[] = [];
  const logger = new RecordingLogger();
  const handler = makeReportLink({
    secret: async () => KEY,
    reports: {
      presignGet: async (key, seconds) => {
        signed.push({ key, seconds });
        return `https://bucket.s3.example/${key}?X-Amz-Expires=${seconds}&X-Amz-Signature=f00`;
      },
    },
    logger,
    now: () => now,
  });
  return { handler, signed, logger };
}

function eventOf(link: string) {
  const url = new URL(link, 'https://api.example');
  return {
    pathParameters: { week: url.pathname.split('/').at(-1) ?? '' },
    queryStringParameters: Object.fromEntries(url.searchParams),
  };
}

const link = signReportLink({ week: '2026-W47', expiresAt: new Date(NOW.getTime() + 7 * 86_400_000) }, KEY);

describe('makeReportLink', () => {
  it('redirects a valid link to a fresh 300 s pre-signed GET of its week, never cached, no referrer', async () => {
    const { handler, signed } = setup();
    const r = await handler(eventOf(link));
    expect(r.statusCode).toBe(302);
    expect(r.headers).toMatchObject({
      Location: `https://bucket.s3.example/reports/2026-W47.html?X-Amz-Expires=300&X-Amz-Signature=f00`,
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
    expect(signed).toEqual([{ key: 'reports/2026-W47.html', seconds: PRESIGN_SECONDS }]);
  });

  it('answers 403 with the same body for an expired, tampered or unsigned link, and signs nothing', async () => {
    const late = setup(new Date(NOW.getTime() + 7 * 86_400_000 + 1000));
    const expired = await late.handler(eventOf(link));
    expect(expired.statusCode).toBe(403);
    const { handler, signed, logger } = setup();
    const e = eventOf(link);
    const tampered = await handler({ ...e, pathParameters: { week: '2026-W46' } });
    const unsigned = await handler({ ...e, queryStringParameters: {} });
    const noQuery = await handler({ pathParameters: e.pathParameters, queryStringParameters: undefined });
    for (const r of [tampered, unsigned, noQuery]) {
      expect(r.statusCode).toBe(403);
      expect(r.body).toBe(expired.body);
      expect(r.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    }
    expect(signed).toEqual([]);
    expect(JSON.stringify(logger.lines)).not.toContain(e.queryStringParameters.sig);
  });

  it('answers 404 for a path that names no week, without echoing it', async () => {
    const { handler, signed } = setup();
    const e = eventOf(link);
    for (const week of ['<script>alert(1)</script>', '..%2Fconfig', 'relaywatch.yaml', undefined]) {
      const r = await handler({ ...e, pathParameters: week === undefined ? undefined : { week } });
      expect(r.statusCode, String(week)).toBe(404);
      expect(r.body).not.toContain('script');
      expect(r.body).not.toContain('config');
      expect(r.headers).toMatchObject({ 'Content-Type': 'text/plain; charset=utf-8' });
    }
    expect(signed).toEqual([]);
  });
});
