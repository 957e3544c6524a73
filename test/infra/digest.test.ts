/**
 * The weekly digest's infrastructure (cdk/constructs/digest.ts), asserted on the synthesized service stack: the
 * function, its schedule at the stage's day and time in its time zone, exactly the grants it needs, its alarms, and
 * no unacknowledged cdk-nag finding. Bundling is skipped (test/infra/bundles.int.test.ts builds the real bundles).
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig } from '../../cdk/config.ts';
import { DIGEST_RUN, ENV } from '../../shared/deploy/constants.ts';
import { DEFAULT_TIMEOUT_MS } from '../../shared/notify/alert.ts';
import { MAX_PRESIGN_SECONDS } from '../../shared/ports/report-bucket.ts';

function synth(schedules: Record<string, unknown> = {}) {
  const config = parseStageConfig(
    { stage: 'test', alertSender: 'relaywatch@msp.example', schedules: { digest: schedules } },
    'test',
  );
  const stacks = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config);
  return { stacks, service: Template.fromStack(stacks.service) };
}

const s = synth({ day: 'MON', hour: 7, minute: 0, timeZone: 'Europe/Berlin' });

function digestFunctionId(t: Template, name = 'relaywatch-test-digest'): string {
  const ids = Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function digestStatements(t: Template, name = 'relaywatch-test-digest'): Statement[] {
  const fn = t.toJSON().Resources[digestFunctionId(t, name)] as { Properties: { Role: { 'Fn::GetAtt': [string] } } };
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((r) => r.Ref === role))
    .flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
}

const actions = (st: Statement) => ([] as string[]).concat(st.Action);

describe('the weekly digest', () => {
  it('deploys the digest function with the report prefix and a link lifetime of at most seven days', () => {
    s.service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-digest',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: DIGEST_RUN.timeoutSeconds,
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          [ENV.reportPrefix]: 'reports/',
          [ENV.reportUrlSeconds]: String(DIGEST_RUN.reportUrlSeconds),
          [ENV.table]: Match.anyValue(),
          [ENV.configBucket]: Match.anyValue(),
        }),
      },
    });
    expect(DIGEST_RUN.reportUrlSeconds).toBeLessThanOrEqual(MAX_PRESIGN_SECONDS);
    // The claim lease outlives one e-mail's send (the notifiers time out after 10 s) and ends before Lambda's first
    // async retry (about a minute), so a retry finds a dead run's claim expired.
    expect(DIGEST_RUN.leaseSeconds * 1000).toBeGreaterThan(3 * DEFAULT_TIMEOUT_MS);
    expect(DIGEST_RUN.leaseSeconds).toBeLessThan(60);
  });

  it('schedules it weekly at the stage day and time in its IANA time zone, with the scheduled time as input', () => {
    s.service.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'relaywatch-test-digest',
      GroupName: 'relaywatch-test',
      ScheduleExpression: 'cron(0 7 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [digestFunctionId(s.service), 'Arn'] },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    const friday = synth({ day: 'FRI', hour: 17, minute: 30, timeZone: 'America/New_York' }).service;
    friday.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'relaywatch-test-digest',
      ScheduleExpression: 'cron(30 17 ? * FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
    });
    synth({ enabled: false }).service.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'relaywatch-test-digest',
      State: 'DISABLED',
    });
  });

  it('grants the table read and claim updates, the report prefix, the config object and SES sending: nothing else', () => {
    const st = digestStatements(s.service);
    const all = st.flatMap(actions);
    expect(all).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem']));
    for (const forbidden of [
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      's3:PutObjectAcl',
      's3:DeleteObject',
      'sqs:SendMessage',
    ]) {
      expect(all).not.toContain(forbidden);
    }
    const put = st.filter((x) => actions(x).includes('s3:PutObject'));
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0]!.Resource)).toContain(`/${DIGEST_RUN.reportPrefix}*`);
    // Put only: the e-mail's link is the report route's, so nothing is pre-signed with this role.
    expect(actions(put[0]!)).toEqual(['s3:PutObject']);
    // Its one GetObject is the config document's, never the report pages'.
    for (const x of st.filter((y) => actions(y).includes('s3:GetObject'))) {
      expect(JSON.stringify(x.Resource)).not.toContain(`/${DIGEST_RUN.reportPrefix}`);
    }
    const ses = st.filter((x) => actions(x).includes('ses:SendRawEmail'));
    expect(ses).toHaveLength(1);
    expect(JSON.stringify(ses[0]!.Resource)).toContain(':identity/');
    expect(JSON.stringify(ses[0]!.Resource)).toContain(':configuration-set/');
    for (const x of st) expect(x.Resource, JSON.stringify(x)).not.toBe('*');
  });

  it('reads a stage secret or SSM parameter only when secrets[].readers or parameters[].readers names the digest', () => {
    const config = parseStageConfig(
      {
        stage: 'test',
        alertSender: 'relaywatch@msp.example',
        secrets: [
          { name: 'relaywatch/test/smtp', readers: ['digest'] },
          { name: 'relaywatch/test/webhooks', readers: ['worker'] },
        ],
        parameters: [{ name: '/relaywatch/test/smtp-password', readers: ['digest', 'worker'] }],
      },
      'test',
    );
    const t = Template.fromStack(buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config).service);
    const reads = digestStatements(t).filter((x) => actions(x).includes('secretsmanager:GetSecretValue'));
    const text = JSON.stringify(reads.map((x) => x.Resource));
    const secretIds = Object.entries(t.findResources('AWS::SecretsManager::Secret')).map(([id, r]) => ({
      id,
      name: (r as { Properties: { Name?: string } }).Properties.Name,
    }));
    const smtp = secretIds.find((x) => x.name === 'relaywatch/test/smtp');
    const webhooks = secretIds.find((x) => x.name === 'relaywatch/test/webhooks');
    expect(smtp && webhooks).toBeTruthy();
    expect(text).toContain(smtp!.id);
    expect(text).not.toContain(webhooks!.id);
    const ssm = digestStatements(t).filter((x) => actions(x).includes('ssm:GetParameter'));
    expect(JSON.stringify(ssm.map((x) => x.Resource))).toContain(':parameter/relaywatch/test/smtp-password');
    // Without a digest reader, the digest reads no stage secret but its own link key.
    const plain = digestStatements(s.service).filter((x) => actions(x).includes('secretsmanager:GetSecretValue'));
    expect(plain).toHaveLength(1);
  });

  it('generates the report link key (64 characters, no punctuation) that only the digest and report-link functions read', () => {
    s.service.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'relaywatch/test/report-link-key',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    const keyId = Object.keys(
      s.service.findResources('AWS::SecretsManager::Secret', {
        Properties: { Name: 'relaywatch/test/report-link-key' },
      }),
    )[0]!;
    const readersOfKey = Object.values(s.service.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes(`"Ref":"${keyId}"`))
      .flatMap((p) => (p as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.map((r) => r.Ref));
    const roleOf = (name: string) =>
      (
        s.service.toJSON().Resources[digestFunctionId(s.service, name)] as {
          Properties: { Role: { 'Fn::GetAtt': [string] } };
        }
      ).Properties.Role['Fn::GetAtt'][0];
    expect(readersOfKey.sort()).toEqual(
      [roleOf('relaywatch-test-digest'), roleOf('relaywatch-test-report-link')].sort(),
    );
    s.service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-digest',
      Environment: {
        Variables: Match.objectLike({
          [ENV.reportLinkSecret]: 'relaywatch/test/report-link-key',
          // The service's HTTP API ($default stage), where the report route is.
          [ENV.reportLinkBaseUrl]: {
            'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestApi'), 'ApiEndpoint'] }, '/']],
          },
        }),
      },
    });
  });

  it('routes GET /v1/reports/{week} on the HTTP API to the report-link function, which may only get report pages', () => {
    s.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /v1/reports/{week}',
      Target: Match.anyValue(),
    });
    s.service.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [digestFunctionId(s.service, 'relaywatch-test-report-link'), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    // The route shares the API stage's default throttling (one stage, with a rate and burst limit).
    s.service.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({
        ThrottlingRateLimit: Match.anyValue(),
        ThrottlingBurstLimit: Match.anyValue(),
      }),
    });
    s.service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'relaywatch-test-report-link',
      Environment: {
        Variables: Match.objectLike({ [ENV.reportLinkSecret]: 'relaywatch/test/report-link-key' }),
      },
    });
    const st = digestStatements(s.service, 'relaywatch-test-report-link');
    const all = st.flatMap(actions);
    const s3 = all.filter((a) => a.startsWith('s3:'));
    expect(s3).toEqual(['s3:GetObject']);
    const get = st.filter((x) => actions(x).includes('s3:GetObject'));
    expect(JSON.stringify(get[0]!.Resource)).toContain(`/${DIGEST_RUN.reportPrefix}*`);
    for (const forbidden of ['dynamodb:GetItem', 'dynamodb:Query', 'ses:SendRawEmail', 's3:PutObject']) {
      expect(all).not.toContain(forbidden);
    }
    for (const x of st) expect(x.Resource, JSON.stringify(x)).not.toBe('*');
  });

  it('alarms on its errors and throttles through the alarm topic', () => {
    for (const fn of ['digest', 'report-link']) {
      for (const name of [`relaywatch-test-${fn}-errors`, `relaywatch-test-${fn}-throttles`]) {
        s.service.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: name,
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: digestFunctionId(s.service, `relaywatch-test-${fn}`) } }],
          AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
        });
      }
    }
  });

  it('leaves no cdk-nag finding unacknowledged', () => {
    for (const stack of [s.stacks.service, s.stacks.data]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    }
  });
});
