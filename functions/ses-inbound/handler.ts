/** The SES inbound function (confirmation on arrival): wiring only; the logic is makeSesInbound's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { containerDeps, lambdaSecrets, parseEnv } from '../../shared/adapters/lambda.ts';
import { lambdaNotifiers, SesInboundEnvSchema, sesInboundMessages } from '../../shared/adapters/lambda-confirm.ts';
import { CONFIRM_FUNCTIONS, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { makeSesInbound } from './ses-inbound.ts';

const env = parseEnv(SesInboundEnvSchema, process.env);
const logger = new Logger({ serviceName: CONFIRM_FUNCTIONS['ses-inbound'] });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: CONFIRM_FUNCTIONS['ses-inbound'] });
const deps = containerDeps(env);

export const handler = middy(
  makeSesInbound({
    config: deps.config,
    store: deps.store,
    secrets: (config) => lambdaSecrets(config, deps.secrets),
    messages: sesInboundMessages(env),
    notifiers: lambdaNotifiers,
    logger,
    metrics: { addMetric: (name, unit, value) => metrics.addMetric(name, unit, value) },
    now: () => new Date(),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
