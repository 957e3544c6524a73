/**
 * Round-trip confirmation (issue 13), deployed only when the stage config enables it (`confirm.enabled`):
 * - the `confirm` function on an EventBridge Scheduler schedule every `confirm.pollMinutes`: it looks for the
 *   outstanding probes in the tenants' probe mailboxes (Graph, IMAP), records, decides and alerts;
 * - with `confirm.sesInbound`, SES receiving for the probe domain: a receipt rule set with one rule for the domain,
 *   whose actions store the message in the data bucket under `bucketPrefix` (S3 action) and then invoke the
 *   `ses-inbound` function (Lambda action, asynchronous). SES may write only under that prefix and invoke only that
 *   function, each on behalf of this account and this rule (aws:SourceAccount and aws:SourceArn).
 *
 * A rule set does nothing until it is the account's active one (one per region; CloudFormation cannot activate it):
 * `aws ses set-active-receipt-rule-set --rule-set-name relaywatch-<stage>-inbound` (docs/deploy.md).
 */
import { Aws, type CfnElement, Duration, Fn, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONFIRM_ENV, ENV } from '../../shared/deploy/constants.ts';
import type { StageConfig } from '../config.ts';
import { grantConfigRead, grantParameterRead, grantTableReadWrite } from './grants.ts';
import { MonitorFunction } from './monitor-function.ts';
import { acknowledge } from './nag.ts';

export interface ConfirmationProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITableV2;
  /** The data stack's bucket: the config document, and the SES-stored messages under `confirm.sesInbound.bucketPrefix`. */
  readonly dataBucket: s3.IBucket;
  /** The stage's secrets and SSM parameters the functions read (`confirm.secrets`, see {@link confirmSecrets}). */
  readonly secrets: {
    readonly secrets: readonly secretsmanager.ISecret[];
    readonly parameters: readonly { readonly name: string; readonly kmsKeyArn?: string | undefined }[];
  };
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetentionDays: logs.RetentionDays;
  /** Grants the functions what the alert routes need beyond secrets (SES sending for e-mail routes). */
  readonly grantAlerts: (role: iam.IRole) => void;
}

export class Confirmation extends Construct {
  readonly confirm: MonitorFunction;
  readonly sesInbound: MonitorFunction | undefined;
  readonly ruleSet: ses.ReceiptRuleSet | undefined;

  /** The functions by name, for the service stack's error and throttle alarms. */
  get alarmed(): [string, MonitorFunction][] {
    return [
      ['confirm', this.confirm],
      ...(this.sesInbound ? [['ses-inbound', this.sesInbound] as [string, MonitorFunction]] : []),
    ];
  }

  constructor(scope: Construct, id: string, props: ConfirmationProps) {
    super(scope, id);
    const { config, table, dataBucket } = props;
    const { stage } = config;
    const inbound = config.confirm.sesInbound;
    const configEnv = {
      [ENV.table]: table.tableName,
      [ENV.configBucket]: dataBucket.bucketName,
      [ENV.configKey]: config.configKey,
    };
    const common = {
      stage,
      logRetentionDays: props.logRetentionDays,
      sourceMapsAtRuntime: config.sourceMapsAtRuntime,
    };

    this.confirm = new MonitorFunction(this, 'Confirm', {
      ...common,
      name: 'confirm',
      memoryMb: 512,
      timeout: Duration.seconds(120),
      sizingReason:
        'one Graph or IMAP look per outstanding probe and the incident writes; Graph throttling waits bound the time',
      environment: {
        ...configEnv,
        // Probes to the SES receiving domain are confirmed on arrival; the poller only calls them not-delivered.
        ...(inbound ? { [CONFIRM_ENV.sesInboundDomain]: inbound.domain } : {}),
      },
      // No reserved concurrency: overlapping ticks are safe (verdicts and alerts are claimed), and reserving any in a
      // new account (unreserved concurrency must stay at least 10 of its 10) would fail the deployment.
    });

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `relaywatch ${stage}: EventBridge Scheduler invokes the confirmation poller`,
    });
    new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `relaywatch-${stage}-confirm`,
      description: `relaywatch ${stage}: look for outstanding probes every ${config.confirm.pollMinutes} minutes`,
      scheduleGroup: props.scheduleGroup,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(config.confirm.pollMinutes)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.confirm.fn, {
        // The run id comes from the scheduled time: a retried tick writes the same records.
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        // A tick older than the interval is superseded by the next one.
        maxEventAge: Duration.minutes(Math.max(config.confirm.pollMinutes, 1)),
        deadLetterQueue: props.deadLetterQueue,
        role: schedulerRole,
      }),
    });
    acknowledge(schedulerRole, [
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.confirm.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'The Scheduler role may invoke the confirm function and its versions (the LambdaInvoke target grants arn and arn:*); nothing else.',
      },
    ]);

    const functions = [this.confirm];
    if (inbound) {
      const ruleSetName = `relaywatch-${stage}-inbound`;
      const ruleName = `relaywatch-${stage}-probes`;
      const ruleArn = `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:receipt-rule-set/${ruleSetName}:receipt-rule/${ruleName}`;
      const sesInbound = new MonitorFunction(this, 'SesInbound', {
        ...common,
        name: 'ses-inbound',
        memoryMb: 256,
        timeout: Duration.seconds(30),
        sizingReason: 'reads the head of one stored message from S3 (bounded) and records one confirmation',
        environment: {
          ...configEnv,
          // No RELAYWATCH_SES_INBOUND_DOMAIN: the receipt rule only hands it mail for that domain.
          [CONFIRM_ENV.sesInboundBucket]: dataBucket.bucketName,
          [CONFIRM_ENV.sesInboundPrefix]: inbound.bucketPrefix,
        },
      });
      this.sesInbound = sesInbound;
      functions.push(sesInbound);
      // The data bucket's ARN through a named export (instead of CDK's generated one), so the finding below has a
      // stable name to be acknowledged by.
      const exportName = `relaywatch-${stage}-data-bucket-arn`;
      Stack.of(dataBucket).exportValue(dataBucket.bucketArn, { name: exportName });
      sesInbound.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`${Fn.importValue(exportName)}/${inbound.bucketPrefix}*`],
        }),
      );
      acknowledge(sesInbound.role, [
        {
          id: `AwsSolutions-IAM5[Resource::${exportName}/${inbound.bucketPrefix}*]`,
          reason:
            'The function reads the messages SES stores under the inbound prefix, whose keys are SES message ids it learns from each event; nothing else in the bucket.',
        },
      ]);
      // SES may store messages only under the prefix, for this account's rule (the confused-deputy conditions).
      const sesSource = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': ruleArn } };
      dataBucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowSesPutProbeMessages',
          principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
          actions: ['s3:PutObject'],
          resources: [dataBucket.arnForObjects(`${inbound.bucketPrefix}*`)],
          conditions: sesSource,
        }),
      );
      sesInbound.fn.addPermission('AllowSesInvoke', {
        principal: new iam.ServicePrincipal('ses.amazonaws.com'),
        sourceAccount: Aws.ACCOUNT_ID,
        sourceArn: ruleArn,
      });
      this.ruleSet = new ses.ReceiptRuleSet(this, 'RuleSet', { receiptRuleSetName: ruleSetName });
      const rule = this.ruleSet.addRule('Probes', {
        receiptRuleName: ruleName,
        recipients: [inbound.domain],
        // Spam and virus verdicts on every message (the spam verdict is what tells "junk" apart).
        scanEnabled: true,
        // Exchange Online always sends over TLS; a cleartext sender to the probe domain is not a probe.
        tlsPolicy: ses.TlsPolicy.REQUIRE,
        actions: [
          {
            bind: () => ({
              s3Action: { bucketName: dataBucket.bucketName, objectKeyPrefix: inbound.bucketPrefix },
            }),
          },
          {
            bind: () => ({
              lambdaAction: { functionArn: sesInbound.fn.functionArn, invocationType: 'Event' },
            }),
          },
        ],
      });
      // SES checks both permissions when the rule is created.
      const policy = dataBucket.node.tryFindChild('Policy');
      if (policy) rule.node.addDependency(policy);
      const invoke = sesInbound.fn.node.tryFindChild('AllowSesInvoke');
      if (invoke) rule.node.addDependency(invoke);
    } else {
      this.sesInbound = undefined;
      this.ruleSet = undefined;
    }

    for (const f of functions) {
      grantTableReadWrite(f.role, table);
      grantConfigRead(f.role, dataBucket, config.configKey);
      for (const secret of props.secrets.secrets) secret.grantRead(f.fn);
      for (const p of props.secrets.parameters) grantParameterRead(f.role, Stack.of(this), p.name, p.kmsKeyArn);
      props.grantAlerts(f.role);
    }
  }
}

/**
 * What `confirm.secrets` names: Secrets Manager secrets of the stage's `secrets[]` and SSM parameters of its
 * `parameters[]`; a name that is neither fails the synth, named.
 */
export function confirmSecrets<T>(
  config: StageConfig,
  secrets: readonly { readonly secret: T }[],
): { secrets: T[]; parameters: { name: string; kmsKeyArn?: string | undefined }[] } {
  const out: { secrets: T[]; parameters: { name: string; kmsKeyArn?: string | undefined }[] } = {
    secrets: [],
    parameters: [],
  };
  for (const name of config.confirm.secrets) {
    const i = config.secrets.findIndex((s) => s.name === name);
    const secret = i >= 0 ? secrets[i] : undefined;
    const parameter = config.parameters.find((p) => p.name === name);
    if (secret) out.secrets.push(secret.secret);
    else if (parameter) out.parameters.push({ name: parameter.name, kmsKeyArn: parameter.kmsKeyArn });
    else {
      throw new Error(
        `confirm.secrets: ${JSON.stringify(name)} is neither one of the stage config's secrets[].name nor its parameters[].name`,
      );
    }
  }
  return out;
}
