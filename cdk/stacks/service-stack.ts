/**
 * The stateless half of a deployment: schedules, the job queue, the functions, the ingest API, secrets, SES and the
 * alarms. Everything here can be destroyed and re-created; what is stored lives in the data stack.
 *
 * The flow: EventBridge Scheduler → dispatch (decides what is due, enqueues one job per tenant and check group) →
 * SQS → worker (runs the job, records it, decides incidents, sends alerts) → DynamoDB; site agents → HTTP API → ingest.
 *
 * No VPC by default: a Lambda outside a VPC reaches DNS, DoH, Entra ID, Exchange Online on 587 and the alert endpoints
 * directly, at no cost. Outbound port 25 stays blocked from Lambda in any case (AWS lifts it only for a VPC with a NAT
 * gateway and an approved request), which is why relay probes run on the site agents. The optional VPC gives the worker
 * a fixed egress IP (for Spamhaus DQS or Barracuda registration, or a private resolver).
 */
import { type CfnElement, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  ENV,
  FUNCTIONS,
  GROUP_DIMENSION,
  GROUP_INTERVAL_ENV,
  METRICS,
  METRICS_NAMESPACE,
  QUEUES,
  SCHEDULE_GROUPS,
  type ScheduleGroup,
} from '../../shared/deploy/constants.ts';
import type { StageConfig } from '../config.ts';
import { Confirmation, confirmSecrets } from '../constructs/confirmation.ts';
import { WeeklyDigest } from '../constructs/digest.ts';
import { grantConfigRead, grantParameterRead, grantTableRead, grantTableReadWrite } from '../constructs/grants.ts';
import { MonitorFunction } from '../constructs/monitor-function.ts';
import { acknowledge } from '../constructs/nag.ts';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITableV2;
  readonly configBucket: s3.IBucket;
}

/** What each check group's schedule does, for descriptions and alarm texts. */
const GROUP_WHAT: Readonly<Record<ScheduleGroup, string>> = {
  checks: "every tenant's SPF/MX checks",
  blocklists: 'the blocklist sweep of the sending IPs',
  probes: 'the submission probes',
};

/** Route the site agents post their signed reports to. */
export const INGEST_ROUTE = '/v1/agent-reports';

export class ServiceStack extends Stack {
  readonly jobQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly functions: Readonly<Record<'dispatch' | 'worker' | 'ingest', MonitorFunction>>;
  readonly api: apigw.HttpApi;
  readonly alarmTopic: sns.Topic;
  readonly digest: WeeklyDigest;
  readonly confirmation: Confirmation | undefined;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, table, configBucket } = props;
    const { stage } = config;
    const retention = config.logRetentionDays as logs.RetentionDays;

    const vpc = config.vpc.enabled ? this.#vpc(config) : undefined;

    // Queues -------------------------------------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: `relaywatch-${stage}-jobs-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: time to find out why a job failed and redrive it (docs/deploy.md, "Dead letters").
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the job queue.' },
    ]);
    const workerTimeout = Duration.seconds(config.worker.timeoutSeconds);
    this.jobQueue = new sqs.Queue(this, 'JobQueue', {
      queueName: `relaywatch-${stage}-jobs`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's rule for Lambda event sources: at least six times the function timeout, so a batch that is retried
      // within the invocation (and the event source's own polling) never becomes visible to a second worker.
      visibilityTimeout: Duration.seconds(config.worker.timeoutSeconds * 6),
      // A job older than a day is stale: the next schedule slot has enqueued a fresh one.
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: QUEUES.maxReceiveCount },
    });

    // Secrets ------------------------------------------------------------------------------------------------------
    const secrets = config.secrets.map((s, i) => {
      const secret = s.create
        ? new secretsmanager.Secret(this, `Secret${i}`, {
            secretName: s.name,
            description: `relaywatch ${stage}: put the value with aws secretsmanager put-secret-value (docs/deploy.md)`,
          })
        : secretsmanager.Secret.fromSecretNameV2(this, `Secret${i}`, s.name);
      if (secret instanceof secretsmanager.Secret) {
        acknowledge(secret, [
          {
            id: 'AwsSolutions-SMG4',
            reason:
              'Holds third-party credentials (Entra client secrets, webhook URLs, DQS keys, agent secrets) that their issuers rotate; there is no rotation API to call.',
          },
        ]);
      }
      return { secret, readers: s.readers };
    });

    // SES ----------------------------------------------------------------------------------------------------------
    const configurationSet = new ses.ConfigurationSet(this, 'MailConfigurationSet', {
      configurationSetName: `relaywatch-${stage}`,
      // Bounces and complaints stop a PSA mailbox from getting tickets; SES keeps the account-level suppression list.
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    const senderDomain = config.alertSender.slice(config.alertSender.indexOf('@') + 1);
    const identity = new ses.EmailIdentity(this, 'MailIdentity', {
      identity: config.verifySenderDomain ? ses.Identity.domain(senderDomain) : ses.Identity.email(config.alertSender),
      configurationSet,
    });

    // Functions ----------------------------------------------------------------------------------------------------
    const common = { stage, logRetentionDays: retention, sourceMapsAtRuntime: config.sourceMapsAtRuntime };
    const configEnv = {
      [ENV.table]: table.tableName,
      [ENV.configBucket]: configBucket.bucketName,
      [ENV.configKey]: config.configKey,
    };
    const dispatch = new MonitorFunction(this, 'Dispatch', {
      ...common,
      name: 'dispatch',
      memoryMb: 256,
      timeout: Duration.seconds(60),
      sizingReason: 'reads the config and enqueues jobs in batches of 10; no SPF, DNS or mail, so little memory',
      environment: {
        ...configEnv,
        [ENV.jobQueueUrl]: this.jobQueue.queueUrl,
        // The slot arithmetic of dispatch: each check group's interval, and the sweep's shards.
        ...Object.fromEntries(SCHEDULE_GROUPS.map((g) => [GROUP_INTERVAL_ENV[g], String(config.schedules[g].minutes)])),
        [ENV.blocklistShards]: String(config.schedules.blocklists.shards),
      },
    });
    const worker = new MonitorFunction(this, 'Worker', {
      ...common,
      name: 'worker',
      // Only the worker needs the fixed egress IP (DNSBL queries, a private resolver); dispatch and ingest stay out.
      ...(vpc !== undefined ? { vpc } : {}),
      memoryMb: config.worker.memoryMb,
      timeout: workerTimeout,
      sizingReason:
        'evaluates SPF and asks DNS and DNSBLs for a batch of jobs; 1 GB buys CPU for mailauth, and DNS timeouts bound the time',
      // SES mail goes through the identity, whose default configuration set is the one above.
      environment: configEnv,
    });
    const ingest = new MonitorFunction(this, 'Ingest', {
      ...common,
      name: 'ingest',
      memoryMb: 256,
      timeout: Duration.seconds(15),
      sizingReason: 'verifies one signed agent report and records it; answers the agent within its HTTP timeout',
      environment: configEnv,
    });
    this.functions = { dispatch, worker, ingest };

    // Grants: small and explicit; every resource is named, except where AWS allows no scoping (commented).
    this.jobQueue.grantSendMessages(dispatch.fn);
    grantTableRead(dispatch.role, table);
    grantTableReadWrite(worker.role, table);
    grantTableReadWrite(ingest.role, table);
    for (const f of [dispatch, worker, ingest]) grantConfigRead(f.role, configBucket, config.configKey);
    // Secrets and SSM SecureString parameters (`{ ssm: /path }`, created outside the stack): read by exactly their
    // readers. The digest's grants follow its construct, below.
    for (const { secret, readers } of secrets) {
      for (const r of readers) if (r !== 'digest') secret.grantRead(this.functions[r].fn);
    }
    for (const p of config.parameters) {
      for (const r of p.readers) {
        if (r !== 'digest') grantParameterRead(this.functions[r].role, this, p.name, p.kmsKeyArn);
      }
    }
    grantSendMail(worker.role, this, identity, configurationSet);

    worker.fn.addEventSource(
      new SqsEventSource(this.jobQueue, {
        batchSize: config.worker.batchSize,
        // One bad tenant must not fail (and redeliver) the whole batch: the worker reports failed items only.
        reportBatchItemFailures: true,
        // Bounds concurrent workers, and with them the DNS and DNSBL query rates (operators rate-limit per source).
        maxConcurrency: config.worker.maxConcurrency,
      }),
    );

    // Schedules ----------------------------------------------------------------------------------------------------
    const group = new scheduler.ScheduleGroup(this, 'Schedules', { scheduleGroupName: `relaywatch-${stage}` });
    // One role for the schedule, so its single permission (invoke dispatch) is visible in one place.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `relaywatch ${stage}: EventBridge Scheduler invokes dispatch`,
    });
    // One schedule per check group, each with its own interval; the input names the group and the scheduled time,
    // from which dispatch derives the group's slot (and so the job ids). The flexible window spreads the start and
    // does not move the scheduled time.
    const schedules = config.schedules;
    // Ticks that did not become jobs are kept apart from the job dead letters (they are not jobs and must not be
    // redriven into the job queue): Scheduler's dead-letter events (it could not invoke dispatch) and Lambda's
    // on-failure records of a dispatch that failed its asynchronous invocation and both retries (with the tick's
    // input as `requestPayload`, to replay it).
    const scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      queueName: `relaywatch-${stage}-schedule-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(scheduleDeadLetters, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the check-group schedules.' },
    ]);
    // Scheduler invokes dispatch asynchronously: Lambda retries a failed tick twice, then records it here.
    dispatch.fn.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(scheduleDeadLetters),
    });
    const timeWindow =
      schedules.flexibleWindowMinutes > 0
        ? scheduler.TimeWindow.flexible(Duration.minutes(schedules.flexibleWindowMinutes))
        : scheduler.TimeWindow.off();
    for (const g of SCHEDULE_GROUPS) {
      const minutes = schedules[g].minutes;
      new scheduler.Schedule(this, `Schedule-${g}`, {
        scheduleName: `relaywatch-${stage}-${g}`,
        description: `relaywatch ${stage}: ${GROUP_WHAT[g]} every ${minutes} minutes`,
        scheduleGroup: group,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(minutes)),
        enabled: schedules[g].enabled,
        timeWindow,
        target: new targets.LambdaInvoke(dispatch.fn, {
          input: scheduler.ScheduleTargetInput.fromObject({
            group: g,
            scheduledTime: scheduler.ContextAttribute.scheduledTime,
          }),
          retryAttempts: 2,
          // A tick older than its interval is stale: the next one is on its way.
          maxEventAge: Duration.minutes(Math.min(minutes, 60)),
          deadLetterQueue: scheduleDeadLetters,
          role: schedulerRole,
        }),
      });
    }
    acknowledge(schedulerRole, [
      {
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(dispatch.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'The Scheduler role may invoke the dispatch function and its versions (the LambdaInvoke target grants arn and arn:*); nothing else.',
      },
    ]);
    // Round-trip confirmation (optional, off by default): cdk/constructs/confirmation.ts.
    this.confirmation = config.confirm.enabled
      ? new Confirmation(this, 'Confirmation', {
          config,
          table,
          dataBucket: configBucket,
          secrets: confirmSecrets(config, secrets),
          scheduleGroup: group,
          deadLetterQueue: scheduleDeadLetters,
          logRetentionDays: retention,
          grantAlerts: (role) => grantSendMail(role, this, identity, configurationSet),
        })
      : undefined;

    // Ingest API ---------------------------------------------------------------------------------------------------
    const accessLogs = new logs.LogGroup(this, 'IngestAccessLogs', { retention });
    // The construct id stays `IngestApi` (its first route): a new logical id would replace the API, and with it the
    // URL every site agent posts to. The name says what it serves now.
    this.api = new apigw.HttpApi(this, 'IngestApi', {
      apiName: `relaywatch-${stage}-api`,
      description: 'relaywatch: signed reports from the site agents, and the weekly report links',
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: INGEST_ROUTE,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('IngestIntegration', ingest.fn),
    });
    const apiStage = new apigw.HttpStage(this, 'IngestStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Agents post every 15 minutes; anything near these limits is a misbehaving or hostile client.
      throttle: { rateLimit: config.ingest.rateLimit, burstLimit: config.ingest.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    acknowledge(this.api, [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Each request is authenticated by the function: an HMAC-SHA256 signature with the agent’s own secret over method, host, path, time and body, with replay protection (shared/ingest/signature.ts). An IAM or JWT authorizer cannot run on a printer-room box.',
      },
    ]);

    // Alarms -------------------------------------------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `relaywatch-${stage}-alarms`,
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (config.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    const alarm = (name: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmName'>) => {
      const a = new cloudwatch.Alarm(this, `Alarm-${name}`, {
        alarmName: `relaywatch-${stage}-${name}`,
        alarmDescription: description,
        ...props,
      });
      a.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      return a;
    };
    alarm(
      'dead-letters',
      'Jobs failed three times and wait in the dead-letter queue (docs/deploy.md, "Dead letters").',
      {
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
    for (const [name, f] of [...Object.entries(this.functions), ...(this.confirmation?.alarmed ?? [])]) {
      alarm(`${name}-errors`, `The ${name} function failed (an invocation error, not a failing check).`, {
        metric: f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`${name}-throttles`, `The ${name} function was throttled (account or reserved concurrency).`, {
        metric: f.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('ingest-5xx', 'The ingest API answered 5xx: site agents cannot deliver relay probe results.', {
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm(
      'schedule-dead-letters',
      'A check-group tick did not become jobs: Scheduler could not invoke dispatch, or dispatch failed three times (docs/deploy.md, "Dead letters").',
      {
        metric: scheduleDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
    // "No cycle finished in two intervals", per check group: the worker counts the jobs it finished with the group
    // as the one dimension beside the service (never the tenant: custom metrics are billed per series), dispatch the
    // jobs it enqueued. A window is healthy when a job of the group finished, or when dispatch ran and had nothing to
    // enqueue (no tenant has a submission probe, say); no data at all (dispatch never ran) is breaching.
    const finished = (g: ScheduleGroup, period: Duration) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.jobs.ok,
        dimensionsMap: { service: FUNCTIONS.worker, [GROUP_DIMENSION]: g },
        statistic: 'Sum',
        period,
      });
    const cycleWidgets: cloudwatch.IMetric[] = [];
    for (const g of SCHEDULE_GROUPS) {
      if (!schedules[g].enabled) continue;
      const period = Duration.minutes(Math.min(schedules[g].minutes * 2, 1440));
      const ok = finished(g, period);
      cycleWidgets.push(finished(g, Duration.minutes(5)).with({ label: g }));
      const enqueued = new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.jobsEnqueued,
        dimensionsMap: { service: FUNCTIONS.dispatch, [GROUP_DIMENSION]: g },
        statistic: 'Sum',
        period,
      });
      alarm(
        `no-cycle-${g}`,
        `No ${g} cycle finished in two intervals (${schedules[g].minutes * 2} minutes): relaywatch is not watching ${GROUP_WHAT[g]}.`,
        {
          metric: new cloudwatch.MathExpression({
            expression: 'IF(FILL(ok, 0) >= 1 OR FILL(enqueued, -1) == 0, 1, 0)',
            usingMetrics: { ok, enqueued },
            period,
            label: `${g} cycles finished`,
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          // No data is exactly the failure this alarm exists for.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
      );
    }

    // The weekly digest: function, schedule (config.schedules.digest), grants and alarm (cdk/constructs/digest.ts).
    this.digest = new WeeklyDigest(this, 'Digest', {
      config,
      table,
      configBucket,
      identity,
      configurationSet,
      scheduleGroup: group,
      alarmTopic: this.alarmTopic,
      api: this.api,
    });
    // An SMTP route's password the digest is sent through (`secrets[].readers: [digest]`).
    for (const { secret, readers } of secrets)
      if (readers.includes('digest')) secret.grantRead(this.digest.function.fn);
    for (const p of config.parameters) {
      if (p.readers.includes('digest')) grantParameterRead(this.digest.function.role, this, p.name, p.kmsKeyArn);
    }

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `relaywatch-${stage}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Jobs finished per check group', left: cycleWidgets }),
          new cloudwatch.GraphWidget({
            title: 'Jobs waiting / dead letters',
            left: [this.jobQueue.metricApproximateNumberOfMessagesVisible()],
            right: [this.deadLetterQueue.metricApproximateNumberOfMessagesVisible()],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            left: Object.values(this.functions).map((f) => f.fn.metricErrors()),
          }),
          new cloudwatch.GraphWidget({
            title: 'Worker duration (p50, p99)',
            left: [worker.fn.metricDuration({ statistic: 'p50' }), worker.fn.metricDuration({ statistic: 'p99' })],
          }),
          new cloudwatch.GraphWidget({
            title: 'Ingest 4xx / 5xx',
            left: [this.api.metricClientError(), this.api.metricServerError()],
          }),
        ],
      ],
    });

    new CfnOutput(this, 'IngestUrl', {
      value: `${this.api.apiEndpoint}${INGEST_ROUTE}`,
      description: 'agent.ingestUrl for the site agents',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    void apiStage;
  }

  #vpc(config: StageConfig): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: config.vpc.maxAzs,
      natGateways: config.vpc.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'VpcFlowLogs', { retention: config.logRetentionDays as logs.RetentionDays }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    return vpc;
  }
}

/** SES sending for one identity and one configuration set: the two ARNs SES authorises SendRawEmail against. */
function grantSendMail(
  role: iam.IRole,
  stack: Stack,
  identity: ses.EmailIdentity,
  configurationSet: ses.ConfigurationSet,
): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ses:SendRawEmail', 'ses:SendEmail'],
      resources: [
        identity.emailIdentityArn,
        stack.formatArn({
          service: 'ses',
          resource: 'configuration-set',
          resourceName: configurationSet.configurationSetName,
        }),
      ],
    }),
  );
}
