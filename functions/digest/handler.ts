/** The weekly digest function: wiring only (environment, adapters, Powertools, middy); the logic is makeDigest's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { containerDeps, DigestEnvSchema, parseEnv, reportBucket, routeSecrets } from '../../shared/adapters/lambda.ts';
import { DIGEST_RUN, ENV, FUNCTIONS, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { buildEmailNotifier } from '../../shared/notify/routing.ts';
import { makeDigest } from './digest.ts';

const env = parseEnv(DigestEnvSchema, process.env);
const logger = new Logger({ serviceName: FUNCTIONS.digest });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FUNCTIONS.digest });
const deps = containerDeps(env);

export const handler = middy(
  makeDigest({
    config: deps.config,
    store: deps.store,
    reports: reportBucket(env),
    reportLinkSecret: () => deps.secrets.secretsManager.get(env[ENV.reportLinkSecret]),
    secrets: (routes) => routeSecrets(routes, deps.secrets),
    mailer: (route, sources) => buildEmailNotifier(route, sources),
    settings: {
      reportPrefix: env[ENV.reportPrefix],
      reportUrlSeconds: env[ENV.reportUrlSeconds],
      reportLinkBaseUrl: env[ENV.reportLinkBaseUrl],
      leaseMs: DIGEST_RUN.leaseSeconds * 1000,
    },
    logger,
    metrics: { addMetric: (name, unit, value) => metrics.addMetric(name, unit, value) },
    now: () => new Date(),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
