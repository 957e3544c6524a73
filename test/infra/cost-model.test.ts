import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig } from '../../cdk/config.ts';
import {
  ALWAYS_FREE,
  BEFORE_INPUTS,
  DEFAULTS,
  monthlyCost,
  PRICES_CHECKED,
  STAGE,
  storeVolume,
  table,
  total,
} from '../../cdk/cost-model.ts';

const at1000 = (over: Partial<typeof DEFAULTS> = {}) => monthlyCost({ ...DEFAULTS, ...over });
const line = (lines: ReturnType<typeof monthlyCost>, prefix: string) => lines.find((l) => l.item.startsWith(prefix))!;

describe('the cost model of docs/deploy.md', () => {
  it('halves the write units of results and tenant runs now that they carry no GSI2 entry', () => {
    const now = storeVolume(DEFAULTS);
    const before = storeVolume({ ...DEFAULTS, store: 'before' });
    expect(now.wru).toBeLessThan(before.wru * 0.55);
    expect(now.storedBytes).toBeLessThan(before.storedBytes * 0.6);
    // Without index entries (only the sweeps' runs keep one), nearly all that is stored is the table itself.
    expect(now.tableBytes / now.storedBytes).toBeGreaterThan(0.99);
    expect(total(at1000())).toBeLessThan(total(at1000(BEFORE_INPUTS)) - 7);
  });

  it('prices point-in-time recovery on the table and the logs, which the first model left out', () => {
    const lines = at1000();
    expect(line(lines, 'DynamoDB point-in-time recovery').usd).toBeGreaterThan(1);
    expect(line(lines, 'CloudWatch Logs').usd).toBeGreaterThan(0.5);
    expect(line(at1000({ pointInTimeRecovery: false }), 'DynamoDB point-in-time recovery').usd).toBe(0);
  });

  it('counts an agent report per heartbeat and per failure or change, not per probe, and meets the $25 target', () => {
    const every = storeVolume({ ...DEFAULTS, agentHeartbeatMinutes: 0 });
    const heartbeat = storeVolume(DEFAULTS);
    // 500 agents × (720 heartbeats + 2 % of 2,880 probes) = 388,800 reports instead of 1,440,000
    expect(heartbeat.wru).toBeLessThan(every.wru);
    const api = (over: Partial<typeof DEFAULTS>) => line(at1000(over), 'Scheduler, HTTP API').usd;
    expect(api({}) - api({ agentShare: 0 })).toBeCloseTo(388_800 / 1e6, 6);
    expect(api({ agentHeartbeatMinutes: 0 }) - api({ agentShare: 0 })).toBeCloseTo(1.44, 6);
    // a heartbeat not above the probe interval posts every probe, as before
    expect(total(at1000({ agentHeartbeatMinutes: 15 }))).toBe(total(at1000({ agentHeartbeatMinutes: 0 })));
    expect(total(at1000())).toBeLessThan(25);
    expect(total(at1000({ agentHeartbeatMinutes: 0 }))).toBeGreaterThan(25);
  });

  it('applies the always-free tier only to the services that have one, never below zero', () => {
    const lines = at1000();
    for (const l of lines) {
      expect(l.usdFreeTier).toBeGreaterThanOrEqual(0);
      expect(l.usdFreeTier).toBeLessThanOrEqual(l.usd);
    }
    // On-demand requests, point-in-time recovery, HTTP API calls and secrets have no always-free tier.
    for (const prefix of ['DynamoDB requests', 'DynamoDB point-in-time', 'Secrets Manager']) {
      expect(line(lines, prefix).usdFreeTier).toBe(line(lines, prefix).usd);
    }
    // 10 alarm metrics, 10 custom metrics and 3 dashboards free: $0.90 + $3.00 + $1.20 less.
    const cw = line(lines, 'CloudWatch alarms');
    expect(cw.usd - cw.usdFreeTier).toBeCloseTo(
      ALWAYS_FREE.alarmMetrics * 0.1 + DEFAULTS.dashboards * 3 + ALWAYS_FREE.customMetrics * 0.3,
      6,
    );
    expect(total(lines, true)).toBeLessThan(total(lines));
  });

  it('grows with tenants except for the fixed part', () => {
    const at = (tenants: number) => total(monthlyCost({ ...DEFAULTS, tenants }));
    expect(at(100)).toBeGreaterThan(at(10));
    expect(at(1000)).toBeGreaterThan(at(100));
    for (const prefix of ['CloudWatch alarms', 'Secrets Manager']) {
      expect(line(monthlyCost({ ...DEFAULTS, tenants: 1 }), prefix).usd).toBe(line(at1000(), prefix).usd);
    }
  });

  it('is what docs/deploy.md shows: the tables, the price date and the total at 1,000 tenants', () => {
    const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    expect(doc).toContain(table({}));
    expect(doc).toContain(table({}, true));
    expect(doc).toContain(table(BEFORE_INPUTS));
    expect(doc).toContain(PRICES_CHECKED);
    expect(doc).toContain(`$${total(at1000()).toFixed(1)}`);
  });
});

describe('the cost model against the example stage', () => {
  const config = parseStageConfig(
    JSON.parse(readFileSync(new URL('../../cdk/stages/example.json', import.meta.url), 'utf8')),
    'example',
  );
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const service = Template.fromStack(buildApp(app, config).service);

  it('counts the alarms, the metrics they watch, the secrets and the dashboard the example stage synthesizes', () => {
    const alarms = Object.values(service.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { MetricName?: string; Metrics?: { MetricStat?: unknown }[] };
    }[];
    expect(alarms).toHaveLength(STAGE.alarms);
    // An alarm on one metric pays for one; an alarm on a math expression for each metric in it.
    const metrics = alarms.reduce(
      (n, a) =>
        n +
        (a.Properties.MetricName !== undefined ? 1 : (a.Properties.Metrics ?? []).filter((m) => m.MetricStat).length),
      0,
    );
    expect(metrics).toBe(STAGE.alarmMetrics);
    expect(DEFAULTS.alarmMetrics).toBe(metrics);
    expect(Object.keys(service.findResources('AWS::SecretsManager::Secret'))).toHaveLength(DEFAULTS.secrets);
    expect(Object.keys(service.findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(DEFAULTS.dashboards);
  });
});
