/** The confirm function (scheduled probe-mailbox poller): wiring only; the logic is makeConfirm's. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { containerDeps, lambdaSecrets, parseEnv } from '../../shared/adapters/lambda.ts';
import { ConfirmEnvSchema, lambdaNotifiers } from '../../shared/adapters/lambda-confirm.ts';
import { lambdaMailboxes } from '../../shared/adapters/mailbox/lambda-mailboxes.ts';
import { CONFIRM_ENV, CONFIRM_FUNCTIONS, METRICS_NAMESPACE } from '../../shared/deploy/constants.ts';
import { makeConfirm } from './confirm.ts';

const env = parseEnv(ConfirmEnvSchema, process.env);
const logger = new Logger({ serviceName: CONFIRM_FUNCTIONS.confirm });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: CONFIRM_FUNCTIONS.confirm });
const deps = containerDeps(env);

export const handler = middy(
  makeConfirm({
    config: deps.config,
    store: deps.store,
    secrets: (config) => lambdaSecrets(config, deps.secrets),
    mailboxes: lambdaMailboxes(env),
    notifiers: lambdaNotifiers,
    sesInboundDomain: env[CONFIRM_ENV.sesInboundDomain] ?? null,
    logger,
    metrics: { addMetric: (name, unit, value) => metrics.addMetric(name, unit, value) },
    now: () => new Date(),
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
