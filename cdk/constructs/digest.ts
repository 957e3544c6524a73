/**
 * The weekly digest: its function (through MonitorFunction, so every Lambda default applies), the EventBridge
 * Scheduler schedule at the stage config's day, hour and minute in its IANA time zone (Scheduler evaluates the cron in
 * that zone, daylight saving included), the grants it needs and nothing more, and an alarm on its errors.
 *
 * Grants: the table read (digest reads results, events, incidents) plus `UpdateItem` (the per-recipient delivery
 * claims: claim, complete and release are each one UpdateItem); the config object read; `PutObject` on the report
 * prefix only; read of the report link key; SES sending for the one identity and configuration set.
 *
 * The report link (functions/report-link/, `GET /v1/reports/{week}` on the service's HTTP API): the e-mail links there
 * with a token valid seven days (HMAC with a generated key in Secrets Manager, read by these two functions only); the
 * function verifies it and redirects to a 300 s pre-signed GET signed with its own role, which may `GetObject` on the
 * report prefix and nothing else. The route shares the API stage's throttling.
 */
import { type CfnElement, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DIGEST_RUN, ENV, REPORT_LINK_ROUTE } from '../../shared/deploy/constants.ts';
import type { StageConfig } from '../config.ts';
import { grantConfigRead, grantTableRead } from './grants.ts';
import { MonitorFunction } from './monitor-function.ts';
import { acknowledge } from './nag.ts';

export interface WeeklyDigestProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITableV2;
  readonly configBucket: s3.IBucket;
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly alarmTopic: sns.ITopic;
  /** The service's HTTP API: the report link's route is added to it (its stage's throttling applies). */
  readonly api: apigw.HttpApi;
}

export class WeeklyDigest extends Construct {
  readonly function: MonitorFunction;
  readonly schedule: scheduler.Schedule;
  readonly linkFunction: MonitorFunction;
  readonly linkSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: WeeklyDigestProps) {
    super(scope, id);
    const { config, table, configBucket } = props;
    const { stage } = config;
    const when = config.schedules.digest;
    // The report link's HMAC key: generated at deploy, never seen by anyone. Rotating it (a new value) invalidates
    // every outstanding link; docs/deploy.md says how.
    const linkSecretName = `relaywatch/${stage}/report-link-key`;
    const linkSecret = new secretsmanager.Secret(this, 'ReportLinkKey', {
      secretName: linkSecretName,
      description: `relaywatch ${stage}: HMAC key of the weekly digest's report links (generated; rotate by a new value)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    this.linkSecret = linkSecret;
    acknowledge(linkSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'A generated HMAC key with no external issuer; rotating it invalidates every outstanding report link, so it is rotated by hand (docs/deploy.md, "Weekly digest").',
      },
    ]);
    const fn = new MonitorFunction(this, 'Function', {
      name: 'digest',
      stage,
      logRetentionDays: config.logRetentionDays as logs.RetentionDays,
      sourceMapsAtRuntime: config.sourceMapsAtRuntime,
      memoryMb: 1024,
      timeout: Duration.seconds(DIGEST_RUN.timeoutSeconds),
      sizingReason:
        'reads a week of every tenant and renders 1,000 digests and the report page (bench: ~230 MB, a few s); one run a week',
      // One run at a time: two overlapping runs would only contend for the same claims.
      reservedConcurrency: 1,
      environment: {
        [ENV.table]: table.tableName,
        [ENV.configBucket]: configBucket.bucketName,
        [ENV.configKey]: config.configKey,
        [ENV.reportPrefix]: DIGEST_RUN.reportPrefix,
        [ENV.reportUrlSeconds]: String(DIGEST_RUN.reportUrlSeconds),
        [ENV.reportLinkSecret]: linkSecretName,
        [ENV.reportLinkBaseUrl]: `${props.api.apiEndpoint}/`,
      },
    });
    this.function = fn;
    linkSecret.grantRead(fn.fn);

    const link = new MonitorFunction(this, 'LinkFunction', {
      name: 'report-link',
      stage,
      logRetentionDays: config.logRetentionDays as logs.RetentionDays,
      sourceMapsAtRuntime: config.sourceMapsAtRuntime,
      memoryMb: 256,
      timeout: Duration.seconds(10),
      sizingReason: 'verifies one HMAC and pre-signs one S3 URL per request; no body passes through it',
      environment: {
        [ENV.configBucket]: configBucket.bucketName,
        [ENV.reportLinkSecret]: linkSecretName,
      },
    });
    this.linkFunction = link;
    linkSecret.grantRead(link.fn);
    props.api.addRoutes({
      path: REPORT_LINK_ROUTE,
      methods: [apigw.HttpMethod.GET],
      integration: new HttpLambdaIntegration('ReportLinkIntegration', link.fn),
    });

    grantTableRead(fn.role, table);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [table.tableArn] }),
    );
    grantConfigRead(fn.role, configBucket, config.configKey);
    // The bucket's ARN under an export name of ours (instead of CDK's generated one), so the acknowledgement below can
    // name the finding exactly.
    const exportName = `relaywatch-${stage}-config-bucket-arn`;
    const bucketArn =
      Stack.of(configBucket) === Stack.of(this)
        ? configBucket.bucketArn
        : Stack.of(configBucket).exportValue(configBucket.bucketArn, { name: exportName });
    // In a policy of its own, so the one wildcard (every week's page under the prefix) is acknowledged on exactly it.
    const reportPages = new iam.Policy(this, 'ReportPagesPolicy', {
      roles: [fn.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [`${bucketArn}/${DIGEST_RUN.reportPrefix}*`],
        }),
      ],
    });
    const reportReads = new iam.Policy(this, 'ReportReadPolicy', {
      roles: [link.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`${bucketArn}/${DIGEST_RUN.reportPrefix}*`],
        }),
      ],
    });
    const prefixFinding = `AwsSolutions-IAM5[Resource::${Stack.of(configBucket) === Stack.of(this) ? `<${Stack.of(this).getLogicalId(configBucket.node.defaultChild as CfnElement)}.Arn>` : exportName}/${DIGEST_RUN.reportPrefix}*]`;
    acknowledge(reportPages, [
      {
        id: prefixFinding,
        reason:
          'This policy holds one statement: put of the weekly report pages under the report prefix (reports/<week>.html); the prefix is the narrowest resource that names every week.',
      },
    ]);
    acknowledge(reportReads, [
      {
        id: prefixFinding,
        reason:
          'This policy holds one statement: get of the weekly report pages (reports/<week>.html), what the report link pre-signs; the prefix is the narrowest resource that names every week.',
      },
    ]);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendRawEmail', 'ses:SendEmail'],
        resources: [
          props.identity.emailIdentityArn,
          Stack.of(this).formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: props.configurationSet.configurationSetName,
          }),
        ],
      }),
    );
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `relaywatch ${stage}: EventBridge Scheduler invokes the weekly digest`,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `relaywatch-${stage}-digest`,
      description: `relaywatch ${stage}: the weekly digest, ${when.day} ${String(when.hour).padStart(2, '0')}:${String(when.minute).padStart(2, '0')} ${when.timeZone}`,
      scheduleGroup: props.scheduleGroup,
      schedule: scheduler.ScheduleExpression.cron({
        minute: String(when.minute),
        hour: String(when.hour),
        weekDay: when.day,
        timeZone: TimeZone.of(when.timeZone),
      }),
      // The digest is a Monday-morning read: on time, not spread.
      timeWindow: scheduler.TimeWindow.off(),
      enabled: when.enabled,
      target: new targets.LambdaInvoke(fn.fn, {
        // The function derives the week from the scheduled time, so a retry reports (and claims) the same week.
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        role,
      }),
    });
    acknowledge(role, [
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'The Scheduler role may invoke the digest function and its versions (the LambdaInvoke target grants arn and arn:*); nothing else.',
      },
    ]);

    const alarm = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: `relaywatch-${stage}-digest-errors`,
      alarmDescription:
        'The weekly digest failed (a digest e-mail not sent, the report page not written, or a config error); Lambda retries twice, sending only what is missing.',
      metric: fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    new cloudwatch.Alarm(this, 'Throttles', {
      alarmName: `relaywatch-${stage}-digest-throttles`,
      alarmDescription: 'The weekly digest was throttled (its reserved concurrency is 1: a second run overlapped).',
      metric: fn.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    for (const [what, metric, description] of [
      [
        'errors',
        link.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        'The report link function failed (the link key unreadable, or pre-signing failed): readers of the digest get a 500.',
      ],
      [
        'throttles',
        link.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        'The report link function was throttled (account concurrency).',
      ],
    ] as const) {
      new cloudwatch.Alarm(this, `Link${what}`, {
        alarmName: `relaywatch-${stage}-report-link-${what}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    }
  }
}
