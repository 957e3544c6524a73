import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig } from '../../cdk/config.ts';
import { DEFAULTS, monthlyCost, storeVolume, total } from '../../cdk/cost-model.ts';

describe('the cost model of docs/deploy.md', () => {
  it('prices 1,000 tenants at the default schedules at about half of what the store cost before', () => {
    const now = total(monthlyCost(DEFAULTS));
    const before = total(monthlyCost({ ...DEFAULTS, store: 'before' }));
    expect(now).toBeLessThan(before * 0.55);
    // docs/deploy.md states this total; the $25 target is not met with agents posting every 15 minutes.
    expect(now).toBeGreaterThan(25);
    expect(now).toBeLessThan(35);
    // With site agents posting hourly the same MSP is close to the target.
    expect(total(monthlyCost({ ...DEFAULTS, agentMinutes: 60 }))).toBeLessThan(27);
  });

  it('shows that the store as it wrote before (every result and state every cycle, GSI2 ALL, 400 days) breaks the target', () => {
    const before = monthlyCost({ ...DEFAULTS, store: 'before' });
    expect(total(before)).toBeGreaterThan(25);
    const storage = before.find((l) => l.item.startsWith('DynamoDB storage'))!;
    expect(storage.usd).toBeGreaterThan(
      monthlyCost(DEFAULTS).find((l) => l.item.startsWith('DynamoDB storage'))!.usd * 5,
    );
  });

  it('counts fewer requests and write units now: batched results, no steady state writes, keys-only GSI2', () => {
    const now = storeVolume(DEFAULTS);
    const before = storeVolume({ ...DEFAULTS, store: 'before' });
    expect(now.requests).toBeLessThan(before.requests * 0.55);
    expect(now.wru).toBeLessThan(before.wru);
    expect(now.storedBytes).toBeLessThan(before.storedBytes / 4);
  });

  it('grows with tenants except for the fixed part', () => {
    const at = (tenants: number) => total(monthlyCost({ ...DEFAULTS, tenants }));
    expect(at(100)).toBeGreaterThan(at(10));
    expect(at(1000)).toBeGreaterThan(at(100));
    const fixed = monthlyCost({ ...DEFAULTS, tenants: 1 }).at(-1)!.usd;
    expect(monthlyCost({ ...DEFAULTS, tenants: 1000 }).at(-1)!.usd).toBe(fixed);
  });
});

describe('the cost model against the example stage', () => {
  it('counts the alarms and secrets the example stage really synthesizes', () => {
    const config = parseStageConfig(
      JSON.parse(readFileSync(new URL('../../cdk/stages/example.json', import.meta.url), 'utf8')),
      'example',
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const service = Template.fromStack(buildApp(app, config).service);
    expect(Object.keys(service.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(DEFAULTS.alarms);
    expect(Object.keys(service.findResources('AWS::SecretsManager::Secret'))).toHaveLength(DEFAULTS.secrets);
  });
});
