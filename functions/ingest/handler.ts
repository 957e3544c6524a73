/** The ingest function: wiring only; the logic is makeIngest's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { containerDeps, IngestEnvSchema, lambdaSecrets, parseEnv } from '../../shared/adapters/lambda.ts';
import { FUNCTIONS, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { routeNotifiers } from '../../shared/notify/routing.ts';
import { makeIngest } from './ingest.ts';

const env = parseEnv(IngestEnvSchema, process.env);
const logger = new Logger({ serviceName: FUNCTIONS.ingest });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FUNCTIONS.ingest });
const deps = containerDeps(env);

export const handler = middy(
  makeIngest({
    config: deps.config,
    store: deps.store,
    secrets: (config) => lambdaSecrets(config, deps.secrets),
    notifiers: async (config, secrets) => {
      const n = routeNotifiers(config, secrets);
      return (id) => n.notifierFor(id);
    },
    logger,
    metrics: { addMetric: (name, unit, value) => metrics.addMetric(name, unit, value) },
    now: () => Date.now(),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
