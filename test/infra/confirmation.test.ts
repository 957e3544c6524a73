/**
 * The optional round-trip confirmation resources (cdk/constructs/confirmation.ts), asserted on the synthesized
 * templates: nothing by default; the poller and its schedule when enabled; SES receiving (rule set, rule with the S3
 * action then the Lambda action, the bucket policy and the invoke permission scoped to this account and rule) when
 * `confirm.sesInbound` is set; cdk-nag's AWS Solutions rules with no unacknowledged finding.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig, StageConfigError } from '../../cdk/config.ts';
import { CONFIRM_ENV, CONFIRM_FUNCTIONS } from '../../shared/deploy/constants.ts';

const base = {
  stage: 'test',
  alertSender: 'relaywatch@msp.example',
  secrets: [
    { name: 'relaywatch/test/credentials', readers: ['worker'] },
    { name: 'relaywatch/test/mailbox', readers: ['worker'] },
  ],
};

function synth(confirm?: Record<string, unknown>) {
  const config = parseStageConfig({ ...base, ...(confirm ? { confirm } : {}) }, 'test');
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const built = buildApp(app, config);
  return { built, data: Template.fromStack(built.data), service: Template.fromStack(built.service) };
}

const RULE_ARN = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':ses:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':receipt-rule-set/relaywatch-test-inbound:receipt-rule/relaywatch-test-probes',
    ],
  ],
};

function functionId(t: Template, name: string): string {
  const ids = Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

describe('round-trip confirmation in the service stack', { timeout: 180_000 }, () => {
  it('deploys nothing of it by default', () => {
    const { service, data } = synth();
    service.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: 'relaywatch-test-confirm' }, 0);
    service.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
    service.resourceCountIs('AWS::SES::ReceiptRule', 0);
    expect(JSON.stringify(data.toJSON())).not.toContain('ses.amazonaws.com');
  });

  it('schedules the poller every confirm.pollMinutes with the scheduled time as its input', () => {
    const { service } = synth({ enabled: true, pollMinutes: 10, secrets: ['relaywatch/test/mailbox'] });
    const fn = functionId(service, 'relaywatch-test-confirm');
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-confirm',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: CONFIRM_FUNCTIONS.confirm }),
      },
    });
    service.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'relaywatch-test-confirm',
      ScheduleExpression: 'rate(10 minutes)',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    const env = (service.toJSON().Resources[fn] as { Properties: { Environment: { Variables: object } } }).Properties
      .Environment.Variables;
    expect(env).not.toHaveProperty(CONFIRM_ENV.sesInboundDomain);
    // The named secret is readable by the poller; SES receiving is not deployed.
    const policies = JSON.stringify(service.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    service.resourceCountIs('AWS::SES::ReceiptRule', 0);
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'relaywatch-test-confirm-errors',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
    });
  });

  it('adds SES receiving: the rule stores in the data bucket prefix, then invokes ses-inbound asynchronously', () => {
    const { service, data } = synth({
      enabled: true,
      sesInbound: { domain: 'Probes.MSP.example', bucketPrefix: 'inbound/' },
    });
    const inbound = functionId(service, 'relaywatch-test-ses-inbound');
    service.hasResourceProperties('AWS::SES::ReceiptRuleSet', { RuleSetName: 'relaywatch-test-inbound' });
    service.hasResourceProperties('AWS::SES::ReceiptRule', {
      RuleSetName: { Ref: Match.anyValue() },
      Rule: {
        Name: 'relaywatch-test-probes',
        Enabled: true,
        Recipients: ['probes.msp.example'],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        Actions: [
          { S3Action: { BucketName: Match.anyValue(), ObjectKeyPrefix: 'inbound/' } },
          { LambdaAction: { FunctionArn: { 'Fn::GetAtt': [inbound, 'Arn'] }, InvocationType: 'Event' } },
        ],
      },
    });
    service.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [inbound, 'Arn'] },
      Principal: 'ses.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: RULE_ARN,
    });
    data.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowSesPutProbeMessages',
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [Match.anyValue(), '/inbound/*']] },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': RULE_ARN } },
          }),
        ]),
      },
    });
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-ses-inbound',
      Environment: {
        Variables: Match.objectLike({
          [CONFIRM_ENV.sesInboundPrefix]: 'inbound/',
          [CONFIRM_ENV.sesInboundBucket]: Match.anyValue(),
        }),
      },
    });
    // It opens no mailbox: no mailbox settings in its environment.
    const inboundFn = Object.values(service.findResources('AWS::Lambda::Function')).find(
      (f) => (f as { Properties: { FunctionName?: string } }).Properties.FunctionName === 'relaywatch-test-ses-inbound',
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } } | undefined;
    expect(inboundFn?.Properties.Environment.Variables).not.toHaveProperty(CONFIRM_ENV.sesInboundDomain);
    // The poller leaves probes to the receiving domain to ses-inbound until their deadline.
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-confirm',
      Environment: { Variables: Match.objectLike({ [CONFIRM_ENV.sesInboundDomain]: 'probes.msp.example' }) },
    });
    // ses-inbound reads only under the prefix.
    const reads = Object.values(service.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties
            .PolicyDocument.Statement,
      )
      .filter((st) => st.Action === 's3:GetObject')
      .map((st) => JSON.stringify(st.Resource));
    expect(reads.some((r) => r.includes('/inbound/*'))).toBe(true);
  });

  it('expires the stored probe messages under the prefix (14 days by default, or confirm.sesInbound.retainDays)', () => {
    const rulesOf = (t: Template) =>
      Object.values(t.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: Match.anyValue() } }))
        .map((b) => (b as { Properties: { LifecycleConfiguration?: { Rules: unknown[] } } }).Properties)
        .flatMap((p) => p.LifecycleConfiguration?.Rules ?? []);
    expect(rulesOf(synth({ enabled: true }).data)).toEqual([]);
    expect(rulesOf(synth({ enabled: true, sesInbound: { domain: 'probes.msp.example' } }).data)).toEqual([
      {
        Id: 'ExpireSesProbeMessages',
        Prefix: 'inbound/',
        ExpirationInDays: 14,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Status: 'Enabled',
      },
      { Id: 'RemoveSesProbeDeleteMarkers', Prefix: 'inbound/', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
    ]);
    const custom = synth({
      enabled: true,
      sesInbound: { domain: 'probes.msp.example', bucketPrefix: 'mail/probes/', retainDays: 3 },
    }).data;
    custom.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'mail/probes/', ExpirationInDays: 3 })]),
      },
    });
  });

  it('grants an SSM parameter named in confirm.secrets to the poller, and the scheduler DLQ its failed ticks', () => {
    const config = parseStageConfig(
      {
        ...base,
        parameters: [{ name: '/relaywatch/test/graph-reader', readers: ['worker'] }],
        confirm: { enabled: true, secrets: ['/relaywatch/test/graph-reader'] },
      },
      'test',
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const service = Template.fromStack(buildApp(app, config).service);
    const fn = functionId(service, 'relaywatch-test-confirm');
    const role = (service.toJSON().Resources[fn] as { Properties: { Role: { 'Fn::GetAtt': [string] } } }).Properties
      .Role['Fn::GetAtt'][0];
    const statements = Object.values(service.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(role))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }).Properties.PolicyDocument
            .Statement,
      );
    expect(statements.some((st) => st.Action === 'ssm:GetParameter')).toBe(true);
    service.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'relaywatch-test-confirm',
      Target: Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } }),
    });
  });

  it('refuses a confirm.secrets name that is not a stage secret, and a bad receiving domain or prefix', () => {
    expect(() => synth({ enabled: true, secrets: ['relaywatch/test/nope'] })).toThrow(
      /confirm\.secrets.*nope.*neither/,
    );
    expect(() =>
      parseStageConfig({ ...base, confirm: { sesInbound: { domain: 'not a domain', bucketPrefix: 'x' } } }, 's.json'),
    ).toThrow(StageConfigError);
    try {
      parseStageConfig({ ...base, confirm: { sesInbound: { domain: 'not a domain', bucketPrefix: 'x' } } }, 's.json');
    } catch (err) {
      expect((err as Error).message).toContain('confirm.sesInbound.domain');
      expect((err as Error).message).toContain('confirm.sesInbound.bucketPrefix');
    }
  });

  it('leaves no cdk-nag finding unacknowledged with SES receiving enabled', () => {
    const { built } = synth({
      enabled: true,
      secrets: ['relaywatch/test/mailbox'],
      sesInbound: { domain: 'probes.msp.example' },
    });
    for (const stack of [built.data, built.service]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(
        report.violations.map(
          (x) => `${x.ruleName}: ${x.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
        ),
        stack.stackName,
      ).toEqual([]);
    }
  });
});
