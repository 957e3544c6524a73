/** The report-link function: wiring only (environment, adapters, Powertools, middy); the logic is makeReportLink's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { parseEnv, ReportLinkEnvSchema, reportBucket, reportLinkSecret } from '../../shared/adapters/lambda-env.ts';
import { FUNCTIONS } from '../../shared/deploy/constants.ts';
import { makeReportLink } from './report-link.ts';

const env = parseEnv(ReportLinkEnvSchema, process.env);
const logger = new Logger({ serviceName: FUNCTIONS['report-link'] });
const secret = reportLinkSecret(env);

export const handler = middy(makeReportLink({ secret, reports: reportBucket(env), logger, now: () => new Date() })).use(
  injectLambdaContext(logger),
);
