/** The worker function: wiring only (environment, adapters, Powertools, middy); the logic is makeWorker's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { containerDeps, lambdaSecrets, parseEnv, WorkerEnvSchema } from '../../shared/adapters/lambda.ts';
import { invocationRuntime, workerContainer } from '../../shared/adapters/lambda-runtime.ts';
import { FUNCTIONS, GROUP_DIMENSION, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { makeWorker } from './worker.ts';

const env = parseEnv(WorkerEnvSchema, process.env);
const logger = new Logger({ serviceName: FUNCTIONS.worker });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FUNCTIONS.worker });
const deps = containerDeps(env);
/**
 * Container scope: every invocation of this container shares its DNS cache (answers for their TTLs, bounded), never
 * rebuilt per invocation. Exported so that the handler benchmark can read its counters (and empty it between cycles).
 */
export const container = workerContainer();

export const handler = middy(
  makeWorker({
    config: deps.config,
    store: deps.store,
    secrets: (config) => lambdaSecrets(config, deps.secrets),
    runtime: (config, secrets) => invocationRuntime(config, secrets, container),
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
