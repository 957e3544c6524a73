/**
 * The CDK app's intent, asserted on the synthesized templates (no snapshots), and cdk-nag's AWS Solutions rules with
 * no unacknowledged finding. Bundling is skipped here (`aws:cdk:bundling-stacks: []`); test/infra/bundles.test.ts
 * builds and runs the real bundles.
 */
import { App, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig, type StageConfig, StageConfigError } from '../../cdk/config.ts';
import { FUNCTION_NODE_OPTIONS } from '../../cdk/constructs/monitor-function.ts';
import { INGEST_ROUTE } from '../../cdk/stacks/service-stack.ts';
import {
  ENV,
  FUNCTIONS,
  GROUP_DIMENSION,
  GROUP_INTERVAL_ENV,
  GSI1,
  GSI2,
  GSI3,
  METRICS,
  METRICS_NAMESPACE,
  QUEUES,
  SCHEDULE_GROUPS,
  TABLE_INDEXES,
  TTL_ATTRIBUTE,
} from '../../shared/deploy/constants.ts';

const FUNCTION_NAMES = Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[];

const base = {
  stage: 'test',
  alertSender: 'relaywatch@msp.example',
  secrets: [
    { name: 'relaywatch/test/credentials', readers: ['worker'] },
    { name: 'relaywatch/test/agents', readers: ['ingest'], create: false },
  ],
};

function synth(overrides: Record<string, unknown> = {}) {
  const config: StageConfig = parseStageConfig({ ...base, ...overrides }, 'test');
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const built = buildApp(app, config);
  return {
    stacks: built,
    config,
    data: Template.fromStack(built.data),
    service: Template.fromStack(built.service),
  };
}

const s = synth();

/** Every policy statement of the service stack, flattened. */
function statements(t: Template): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument.Statement,
  );
}

/** The logical id of the function whose name ends with `-<name>`. */
function functionId(t: Template, name: string): string {
  const fns = t.findResources('AWS::Lambda::Function', {
    Properties: { FunctionName: `relaywatch-test-${name}` },
  });
  const ids = Object.keys(fns);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function roleOf(t: Template, fnId: string): string {
  const fn = t.toJSON().Resources[fnId] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  return fn.Properties.Role['Fn::GetAtt'][0];
}

function policyStatementsOfRole(t: Template, roleId: string) {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((r) => r.Ref === roleId))
    .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument.Statement);
}

describe('the data stack', () => {
  it('keeps the table on demand, recoverable, with TTL and the indexes the store queries, named by the shared constants', () => {
    s.data.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'relaywatch-test',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        GlobalSecondaryIndexes: TABLE_INDEXES.map((ix) =>
          Match.objectLike({
            IndexName: ix.indexName,
            KeySchema: [
              { AttributeName: ix.partitionKey, KeyType: 'HASH' },
              { AttributeName: ix.sortKey, KeyType: 'RANGE' },
            ],
            Projection:
              ix.projection === 'ALL'
                ? { ProjectionType: 'ALL' }
                : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ix.projection] },
          }),
        ),
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      }),
    });
    expect(TABLE_INDEXES.map((i) => i.indexName)).toEqual([GSI1, GSI2, GSI3]);
  });

  it('keeps the config bucket private, encrypted, versioned, TLS-only and retained', () => {
    s.data.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'config/' }),
      }),
    });
    const policies = Object.values(s.data.findResources('AWS::S3::BucketPolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(2);
    for (const p of policies) {
      expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('source maps at run time (the stage setting sourceMapsAtRuntime)', () => {
  const nodeOptions = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function')).map(
      (r) =>
        (r as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables
          .NODE_OPTIONS,
    );
  const withConfirm = { confirm: { enabled: true, sesInbound: { domain: 'probes.msp.example' } } };

  it('are off by default: no function sets NODE_OPTIONS', () => {
    const t = synth(withConfirm).service;
    const all = nodeOptions(t);
    // every function of the stage, the confirmation ones too
    expect(all).toHaveLength(FUNCTION_NAMES.length + 2);
    expect(all).toEqual(all.map(() => undefined));
    expect(parseStageConfig(base, 's').sourceMapsAtRuntime).toBe(false);
  });

  it('when opted in, every function runs with --enable-source-maps', () => {
    const t = synth({ ...withConfirm, sourceMapsAtRuntime: true }).service;
    const all = nodeOptions(t);
    expect(all).toHaveLength(FUNCTION_NAMES.length + 2);
    expect(all).toEqual(all.map(() => FUNCTION_NODE_OPTIONS));
    expect(FUNCTION_NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('is a boolean', () => {
    expect(() => parseStageConfig({ ...base, sourceMapsAtRuntime: 'yes' }, 'stage.json')).toThrowError(
      /sourceMapsAtRuntime/,
    );
  });
});

describe('the service stack', () => {
  it('deploys every function on Node.js 24, arm64, with its own log group and retention', () => {
    const fns = s.service.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns)).toHaveLength(FUNCTION_NAMES.length);
    for (const name of FUNCTION_NAMES) {
      s.service.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `relaywatch-test-${name}`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON', LogGroup: Match.anyValue() }),
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: FUNCTIONS[name],
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            [ENV.configBucket]: Match.anyValue(),
            // The report link reads neither the table nor the config (it serves report pages only).
            ...(name === 'report-link'
              ? { [ENV.reportLinkSecret]: Match.anyValue() }
              : { [ENV.table]: Match.anyValue(), [ENV.configKey]: 'relaywatch.yaml' }),
          }),
        },
      });
      s.service.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/relaywatch-test-${name}`,
        RetentionInDays: 30,
      });
    }
    expect(s.service.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } })).toEqual(
      {},
    );
  });

  it('schedules each check group on its own EventBridge Scheduler schedule whose input names the group and the scheduled time', () => {
    s.service.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'relaywatch-test' });
    const dispatch = functionId(s.service, 'dispatch');
    const scheduleDlq = Object.keys(
      s.service.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'relaywatch-test-schedule-dlq' } }),
    )[0];
    expect(scheduleDlq).toBeDefined();
    const defaults = { checks: 60, blocklists: 60, probes: 240 };
    for (const g of SCHEDULE_GROUPS) {
      s.service.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `relaywatch-test-${g}`,
        GroupName: 'relaywatch-test',
        State: 'ENABLED',
        ScheduleExpression: ScheduleExpression.rate(Duration.minutes(defaults[g])).expressionString,
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 },
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [dispatch, 'Arn'] },
          Input: JSON.stringify({ group: g, scheduledTime: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
          // Scheduler's own dead-letter queue, not the job queue's: its events are no jobs.
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [scheduleDlq, 'Arn'] } },
        }),
      });
    }
    // One per check group, and the weekly digest's (test/infra/digest.test.ts).
    s.service.resourceCountIs('AWS::Scheduler::Schedule', SCHEDULE_GROUPS.length + 1);
    s.service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'relaywatch-test-schedule-dlq',
      MessageRetentionPeriod: 14 * 86_400,
    });
    // A tick dispatch failed (after Lambda's two retries of the asynchronous invocation) lands there too.
    s.service.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: dispatch },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [scheduleDlq, 'Arn'] } } },
    });
    // Legacy EventBridge rules are not used for schedules.
    expect(s.service.findResources('AWS::Events::Rule')).toEqual({});
    // Dispatch floors each group's scheduled time to the same intervals.
    s.service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-dispatch',
      Environment: {
        Variables: Match.objectLike({
          [GROUP_INTERVAL_ENV.checks]: '60',
          [GROUP_INTERVAL_ENV.blocklists]: '60',
          [GROUP_INTERVAL_ENV.probes]: '240',
          [ENV.blocklistShards]: '1',
        }),
      },
    });
  });

  it('takes each interval, the shards, the window and a paused group from the stage config, and tells dispatch the same', () => {
    const t = synth({
      schedules: {
        checks: { minutes: 15 },
        blocklists: { minutes: 120, shards: 3 },
        probes: { minutes: 720, enabled: false },
        flexibleWindowMinutes: 0,
      },
    });
    const env = Object.values(t.service.findResources('AWS::Lambda::Function')).find(
      (f) => (f as { Properties: { FunctionName: string } }).Properties.FunctionName === 'relaywatch-test-dispatch',
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(env.Properties.Environment.Variables).toMatchObject({
      [GROUP_INTERVAL_ENV.checks]: '15',
      [GROUP_INTERVAL_ENV.blocklists]: '120',
      [GROUP_INTERVAL_ENV.probes]: '720',
      [ENV.blocklistShards]: '3',
    });
    // The single cycle schedule's variables are gone.
    expect(Object.keys(env.Properties.Environment.Variables)).not.toContain('RELAYWATCH_SCHEDULE_MINUTES');
    expect(Object.keys(env.Properties.Environment.Variables)).not.toContain('RELAYWATCH_BLOCKLIST_EVERY_SLOTS');
    const schedule = (g: string) =>
      Object.values(
        t.service.findResources('AWS::Scheduler::Schedule', { Properties: { Name: `relaywatch-test-${g}` } }),
      )[0] as {
        Properties: Record<string, unknown>;
      };
    expect(schedule('checks').Properties).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
    expect(schedule('blocklists').Properties).toMatchObject({ ScheduleExpression: 'rate(2 hours)' });
    // A paused group keeps its schedule (disabled) and has no "no cycle" alarm.
    expect(schedule('probes').Properties).toMatchObject({ ScheduleExpression: 'rate(12 hours)', State: 'DISABLED' });
    const names = Object.values(t.service.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName,
    );
    expect(names).toContain('relaywatch-test-no-cycle-checks');
    expect(names).not.toContain('relaywatch-test-no-cycle-probes');
  });

  it('feeds the worker from the job queue with partial batch responses, bounded concurrency and a dead-letter queue', () => {
    const worker = functionId(s.service, 'worker');
    s.service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: worker },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    s.service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'relaywatch-test-jobs',
      // Six times the worker's 300 s timeout.
      VisibilityTimeout: 1800,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: QUEUES.maxReceiveCount },
    });
    s.service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'relaywatch-test-jobs-dlq',
      MessageRetentionPeriod: 14 * 86_400,
    });
  });

  it('derives the visibility timeout from the worker timeout', () => {
    const t = synth({ worker: { timeoutSeconds: 120 } });
    t.service.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'relaywatch-test-jobs', VisibilityTimeout: 720 });
    t.service.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'relaywatch-test-worker', Timeout: 120 });
  });

  it('grants no wildcard resource and no wildcard action', () => {
    for (const st of statements(s.service)) {
      const resources = ([] as unknown[]).concat(st.Resource);
      expect(resources, JSON.stringify(st)).not.toContain('*');
      for (const a of ([] as string[]).concat(st.Action)) expect(a, JSON.stringify(st)).not.toMatch(/\*/);
    }
  });

  it('scopes each function to what its job needs: dispatch reads and enqueues, worker writes and sends mail', () => {
    const actionsOf = (name: string) =>
      policyStatementsOfRole(s.service, roleOf(s.service, functionId(s.service, name))).flatMap((st) =>
        ([] as string[]).concat((st as { Action: string | string[] }).Action),
      );
    const dispatch = actionsOf('dispatch');
    expect(dispatch).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:Query', 's3:GetObject']));
    expect(dispatch).not.toContain('dynamodb:PutItem');
    expect(dispatch).not.toContain('ses:SendRawEmail');
    expect(dispatch).not.toContain('secretsmanager:GetSecretValue');
    const worker = actionsOf('worker');
    expect(worker).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem',
        'dynamodb:Query',
        'ses:SendRawEmail',
        'secretsmanager:GetSecretValue',
      ]),
    );
    expect(worker).not.toContain('sqs:SendMessage');
    const ingest = actionsOf('ingest');
    expect(ingest).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'secretsmanager:GetSecretValue']));
    expect(ingest).not.toContain('ses:SendRawEmail');
  });

  it('names the queried indexes one by one in the table grants', () => {
    const tableStatements = statements(s.service).filter((st) =>
      ([] as string[]).concat(st.Action).includes('dynamodb:Query'),
    );
    expect(tableStatements.length).toBeGreaterThan(0);
    for (const st of tableStatements) {
      const text = JSON.stringify(st.Resource);
      for (const ix of TABLE_INDEXES) expect(text).toContain(`/index/${ix.indexName}`);
    }
  });

  it('creates the grouped secrets once and imports the existing ones by name; their readers are exactly the configured ones', () => {
    // The configured one, and the report link's generated key (test/infra/digest.test.ts).
    s.service.resourceCountIs('AWS::SecretsManager::Secret', 2);
    s.service.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'relaywatch/test/credentials' });
    const readers = (fn: string) =>
      policyStatementsOfRole(s.service, roleOf(s.service, functionId(s.service, fn)))
        .filter((st) =>
          ([] as string[]).concat((st as { Action: string[] }).Action).includes('secretsmanager:GetSecretValue'),
        )
        .map((st) => JSON.stringify((st as { Resource: unknown }).Resource));
    expect(readers('worker').join()).not.toContain('relaywatch/test/agents');
    expect(readers('ingest').join()).toContain('relaywatch/test/agents');
    expect(readers('dispatch')).toEqual([]);
  });

  it('grants ssm:GetParameter on exactly the listed parameters to exactly their readers, and kms:Decrypt only for a customer key through SSM', () => {
    const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const t = synth({
      parameters: [
        { name: '/relaywatch/test/dqs-key', readers: ['worker'] },
        { name: '/relaywatch/test/agents', readers: ['ingest'], kmsKeyArn: KEY },
      ],
    });
    const of = (fn: string) =>
      policyStatementsOfRole(t.service, roleOf(t.service, functionId(t.service, fn))) as {
        Action: string | string[];
        Resource: unknown;
        Condition?: unknown;
      }[];
    const ssmResources = (fn: string) =>
      of(fn)
        .filter((st) => ([] as string[]).concat(st.Action).includes('ssm:GetParameter'))
        .map((st) => JSON.stringify(st.Resource));
    expect(ssmResources('worker')).toHaveLength(1);
    expect(ssmResources('worker')[0]).toContain(':parameter/relaywatch/test/dqs-key"');
    expect(ssmResources('ingest')).toHaveLength(1);
    expect(ssmResources('ingest')[0]).toContain(':parameter/relaywatch/test/agents"');
    expect(ssmResources('dispatch')).toEqual([]);
    for (const fn of ['worker', 'ingest', 'dispatch']) {
      for (const st of of(fn)) {
        const actions = ([] as string[]).concat(st.Action);
        if (actions.includes('ssm:GetParameter')) expect(actions).toEqual(['ssm:GetParameter']);
      }
    }
    // The default key needs no grant; the customer key is usable only through SSM, only for its parameter.
    const decrypt = (fn: string) => of(fn).filter((st) => ([] as string[]).concat(st.Action).includes('kms:Decrypt'));
    expect(decrypt('worker')).toEqual([]);
    expect(decrypt('dispatch')).toEqual([]);
    expect(decrypt('ingest')).toHaveLength(1);
    expect(decrypt('ingest')[0]).toMatchObject({ Action: 'kms:Decrypt', Resource: KEY });
    const condition = JSON.stringify(decrypt('ingest')[0]?.Condition);
    expect(condition).toContain('kms:ViaService');
    expect(condition).toContain('.amazonaws.com');
    expect(condition).toContain('kms:EncryptionContext:PARAMETER_ARN');
    expect(condition).toContain(':parameter/relaywatch/test/agents');
    // No parameter is created by the stack: the MSP puts SecureStrings (CloudFormation cannot create them).
    t.service.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  it('refuses a parameter name without its leading slash, a bad key ARN and a parameter listed twice', () => {
    const bad = (parameters: unknown) => () => parseStageConfig({ ...base, parameters }, 'stage.json');
    expect(bad([{ name: 'relaywatch/x', readers: ['worker'] }])).toThrowError(
      /parameters\.0\.name: an SSM parameter name with its leading slash/,
    );
    expect(bad([{ name: '/relaywatch/x', readers: ['worker'], kmsKeyArn: 'alias/aws/ssm' }])).toThrowError(
      /parameters\.0\.kmsKeyArn: a KMS key ARN/,
    );
    expect(
      bad([
        { name: '/relaywatch/x', readers: ['worker'] },
        { name: '/relaywatch/x', readers: ['ingest'] },
      ]),
    ).toThrowError(/each parameter is listed once/);
  });

  it('serves the ingest route on an HTTP API with throttling and access logs', () => {
    s.service.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `POST ${INGEST_ROUTE}` });
    // One API for both routes, named for the service; its logical id keeps the agents' URL across upgrades.
    s.service.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    expect(
      Object.keys(
        s.service.findResources('AWS::ApiGatewayV2::Api', { Properties: { Name: 'relaywatch-test-api' } }),
      )[0],
    ).toMatch(/^IngestApi/);
    // And the report link's GET route (test/infra/digest.test.ts).
    s.service.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    s.service.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 40, ThrottlingRateLimit: 20 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    s.service.hasOutput('IngestUrl', {});
  });

  it('sends mail only through the SES identity and configuration set of the stage', () => {
    s.service.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'relaywatch@msp.example',
      ConfigurationSetAttributes: { ConfigurationSetName: Match.anyValue() },
    });
    s.service.hasResourceProperties('AWS::SES::ConfigurationSet', { Name: 'relaywatch-test' });
    const ses = statements(s.service).filter((st) => ([] as string[]).concat(st.Action).includes('ses:SendRawEmail'));
    expect(ses).toHaveLength(2); // the worker's alerts and the weekly digest
    for (const st of ses) {
      const resources = JSON.stringify(st.Resource);
      expect(resources).toContain(':identity/');
      expect(resources).toContain(':configuration-set/');
      expect(resources).not.toContain('"*"');
    }
  });

  it('alarms on dead letters, function errors and throttles, ingest 5xx and a missing cycle of each check group', () => {
    const alarms = Object.values(s.service.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: Record<string, unknown> }).Properties,
    );
    const byName = new Map(alarms.map((a) => [a.AlarmName as string, a]));
    expect(byName.get('relaywatch-test-dead-letters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    expect(byName.get('relaywatch-test-schedule-dead-letters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: expect.anything() }],
    });
    for (const fn of FUNCTION_NAMES) {
      expect(byName.get(`relaywatch-test-${fn}-errors`)).toMatchObject({
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
      });
      expect(byName.get(`relaywatch-test-${fn}-throttles`)).toMatchObject({ MetricName: 'Throttles' });
    }
    expect(byName.get('relaywatch-test-ingest-5xx')).toMatchObject({ MetricName: '5xx', Namespace: 'AWS/ApiGateway' });
    const periods = { checks: 7200, blocklists: 7200, probes: 28_800 };
    for (const g of SCHEDULE_GROUPS) {
      const a = byName.get(`relaywatch-test-no-cycle-${g}`) as { Metrics: Record<string, unknown>[] } | undefined;
      expect(a, g).toMatchObject({
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
      });
      // A window is healthy when a job of the group finished, or dispatch ran and had nothing to enqueue.
      const expr = a?.Metrics.find((m) => typeof m.Expression === 'string');
      expect(expr?.Expression).toBe('IF(FILL(ok, 0) >= 1 OR FILL(enqueued, -1) == 0, 1, 0)');
      const stat = (id: string) =>
        a?.Metrics.find((m) => m.Id === id)?.MetricStat as {
          Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: string }[] };
          Period: number;
          Stat: string;
        };
      // Two of the group's intervals.
      expect(stat('ok')).toEqual({
        Metric: {
          MetricName: METRICS.jobs.ok,
          Namespace: METRICS_NAMESPACE,
          Dimensions: expect.arrayContaining([
            { Name: 'service', Value: FUNCTIONS.worker },
            { Name: GROUP_DIMENSION, Value: g },
          ]),
        },
        Period: periods[g],
        Stat: 'Sum',
      });
      expect(stat('ok').Metric.Dimensions).toHaveLength(2);
      expect(stat('enqueued').Metric).toMatchObject({
        MetricName: METRICS.jobsEnqueued,
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: FUNCTIONS.dispatch },
          { Name: GROUP_DIMENSION, Value: g },
        ]),
      });
    }
    expect(byName.has('relaywatch-test-no-cycle')).toBe(false);
    for (const a of alarms) expect(a.AlarmActions, String(a.AlarmName)).toHaveLength(1);
    // The tenant is never a metric dimension (custom metrics are billed per series).
    expect(JSON.stringify(alarms)).not.toMatch(/"Name":"tenant/i);
    s.service.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('puts only the worker in a VPC with a NAT gateway and flow logs when asked', () => {
    const t = synth({ vpc: { enabled: true } });
    t.service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-worker',
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
    t.service.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.service.resourceCountIs('AWS::EC2::FlowLog', 1);
    expect(
      Object.keys(t.service.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } })),
    ).toHaveLength(1);
  });
});

describe('cdk-nag (AWS Solutions)', () => {
  it('finds nothing unacknowledged in either stack, default and VPC variants', () => {
    const variants = [
      s,
      synth({
        vpc: { enabled: true },
        alarmEmail: 'noc@msp.example',
        verifySenderDomain: true,
        parameters: [
          {
            name: '/relaywatch/test/dqs-key',
            readers: ['worker', 'ingest'],
            kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          },
        ],
      }),
    ];
    for (const v of variants) {
      for (const stack of [v.stacks.data, v.stacks.service]) {
        const report = new AwsSolutionsChecks().validateScope(stack);
        expect(
          report.violations.map(
            (x) => `${x.ruleName}: ${x.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
          ),
          stack.stackName,
        ).toEqual([]);
      }
    }
  });

  it('acknowledges each finding on its own construct with a reason a reviewer can judge', () => {
    const acks = [s.stacks.data, s.stacks.service].flatMap((stack) =>
      stack.node
        .findAll()
        .flatMap((c) =>
          c.node.metadata
            .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
            .map((m) => ({ path: c.node.path, data: m.data as unknown })),
        ),
    );
    const ours = acks.flatMap((a) =>
      Object.entries(a.data as Record<string, string>)
        .filter(([id]) => id.includes('AwsSolutions-'))
        .map(([id, reason]) => ({ path: a.path, id, reason })),
    );
    expect(ours.length).toBeGreaterThan(0);
    for (const a of ours) {
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThanOrEqual(40);
      // On a construct inside a stack, never on a whole stack.
      expect(a.path.split('/').length, a.path).toBeGreaterThan(1);
    }
  });
});

describe('the stage config', () => {
  it('lists every problem with its path', () => {
    expect(() =>
      parseStageConfig(
        {
          stage: 'Prod!',
          alertSender: 'not-an-address',
          schedules: { checks: { minutes: 1 }, digest: { timeZone: 'Mars/Base' } },
        },
        'stage.json',
      ),
    ).toThrowError(StageConfigError);
    try {
      parseStageConfig(
        { stage: 'Prod!', alertSender: 'x', schedules: { checks: { minutes: 1 }, digest: { timeZone: 'Mars/Base' } } },
        'stage.json',
      );
    } catch (err) {
      const m = (err as Error).message;
      expect(m).toContain('stage.json');
      expect(m).toContain('stage:');
      expect(m).toContain('alertSender:');
      expect(m).toContain('schedules.checks.minutes:');
      expect(m).toContain('schedules.digest.timeZone: not an IANA time zone');
    }
  });

  it('refuses unknown keys', () => {
    expect(() => parseStageConfig({ ...base, schedule: {} }, 's')).toThrowError(/Unrecognized key/);
    expect(() => parseStageConfig({ ...base, schedules: { checksMinutes: 60 } }, 's')).toThrowError(/Unrecognized key/);
  });

  it('names what replaced each key of the former single cycle schedule', () => {
    expect(() =>
      parseStageConfig(
        { ...base, schedules: { cycleMinutes: 60, blocklistEveryCycles: 1, blocklistShards: 2 } },
        'old.json',
      ),
    ).toThrowError(
      /schedules\.cycleMinutes: replaced by schedules\.checks\.minutes and schedules\.probes\.minutes[\s\S]*schedules\.blocklistEveryCycles: replaced by schedules\.blocklists\.minutes[\s\S]*schedules\.blocklistShards: moved to schedules\.blocklists\.shards/,
    );
  });

  it('defaults to checks and sweep every 60 minutes and probes every 240, and refuses a window as long as an interval', () => {
    const c = parseStageConfig(base, 's');
    expect([c.schedules.checks.minutes, c.schedules.blocklists.minutes, c.schedules.probes.minutes]).toEqual([
      60, 60, 240,
    ]);
    expect(c.schedules.blocklists.shards).toBe(1);
    expect(() =>
      parseStageConfig({ ...base, schedules: { checks: { minutes: 10 }, flexibleWindowMinutes: 10 } }, 's'),
    ).toThrowError(/schedules\.flexibleWindowMinutes: must be shorter than the checks interval \(10 minutes\)/);
    // A paused group does not constrain the window.
    expect(
      parseStageConfig(
        { ...base, schedules: { checks: { minutes: 10, enabled: false }, flexibleWindowMinutes: 10 } },
        's',
      ).schedules.checks.enabled,
    ).toBe(false);
  });
});
