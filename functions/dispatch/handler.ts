/** The dispatch function: wiring only; the logic is makeDispatch's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import {
  configSource,
  DispatchEnvSchema,
  dispatchSettings,
  jobQueue,
  parseEnv,
} from '../../shared/adapters/lambda-env.ts';
import { FUNCTIONS, GROUP_DIMENSION, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { makeDispatch } from './dispatch.ts';

const env = parseEnv(DispatchEnvSchema, process.env);
const logger = new Logger({ serviceName: FUNCTIONS.dispatch });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FUNCTIONS.dispatch });

export const handler = middy(
  makeDispatch({
    config: configSource(env),
    queue: jobQueue(env),
    settings: dispatchSettings(env),
    logger,
    metrics: {
      addMetric: (name, unit, value) => metrics.addMetric(name, unit, value),
      addGroupMetric: (name, group, value) =>
        metrics.singleMetric().addDimension(GROUP_DIMENSION, group).addMetric(name, 'Count', value),
    },
    now: () => new Date(),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
