/**
 * The report link (API Gateway HTTP API, payload v2, `GET /v1/reports/{week}?exp=…&sig=…`): the durable link of the
 * weekly digest e-mail. A link whose HMAC verifies and has not expired is answered with a 302 to a pre-signed S3 GET of
 * `reports/<week>.html`, signed now by this function's role and valid for {@link PRESIGN_SECONDS}: the reader's
 * browser fetches the page from S3 directly (the 7.4 MB page of 1,000 tenants never passes through Lambda, whose
 * responses stop at 6 MB). 404 for a path that names no week; 403 for a missing, wrong or expired signature, one
 * answer for all three (nothing that helps forging). Nothing of the request is echoed. Every answer is `no-store`
 * and `no-referrer` (the pre-signed URL must not end up in a cache or another site's logs).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { verifyReportLink } from '../../shared/digest/report-link.ts';
import type { ReportBucket } from '../../shared/ports/report-bucket.ts';

/** Lifetime of the S3 URL the 302 points at: long enough to follow the redirect, not to pass the URL around. */
export const PRESIGN_SECONDS = 300;

export interface ReportLinkDeps {
  /** The HMAC key (Secrets Manager through a cached SecretSource). */
  readonly secret: () => Promise<string>;
  readonly reports: Pick<ReportBucket, 'presignGet'>;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now: () => Date;
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
} as const;

function text(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, body };
}

export function makeReportLink(deps: ReportLinkDeps) {
  return async (event: Pick<APIGatewayProxyEventV2, 'pathParameters' | 'queryStringParameters'>) => {
    const secret = await deps.secret();
    const q = event.queryStringParameters ?? {};
    const verdict = verifyReportLink({ week: event.pathParameters?.week, exp: q.exp, sig: q.sig }, secret, deps.now());
    if (!verdict.ok) {
      // The reason goes to the log only (never the input: it is untrusted and may be long).
      deps.logger.warn('report link refused', { reason: verdict.reason });
      return verdict.reason === 'malformed-week'
        ? text(404, 'No such report.\n')
        : text(403, 'This report link is not valid or has expired. Links in the weekly digest work for 7 days.\n');
    }
    const location = await deps.reports.presignGet(verdict.objectKey, PRESIGN_SECONDS);
    deps.logger.info('report link followed', { week: verdict.week });
    return { statusCode: 302, headers: { ...HEADERS, Location: location }, body: '' };
  };
}
