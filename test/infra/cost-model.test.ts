import { describe, expect, it } from 'vitest';
import { DEFAULTS, monthlyCost, total } from '../../cdk/cost-model.ts';

describe('the cost model of docs/deploy.md', () => {
  it('keeps 1,000 tenants under $25 a month with results written on change, 90-day retention and 4-hourly probes', () => {
    expect(
      total(monthlyCost({ ...DEFAULTS, writes: 'on-change', retentionDays: 90, probesMinutes: 240 })),
    ).toBeLessThan(25);
    // As dispatch runs today (a probe every cycle) the same MSP is just over.
    expect(total(monthlyCost({ ...DEFAULTS, writes: 'on-change', retentionDays: 90 }))).toBeGreaterThan(25);
  });

  it('shows that writing every result every cycle for 400 days is what breaks the target', () => {
    const today = monthlyCost(DEFAULTS);
    expect(total(today)).toBeGreaterThan(25);
    const storage = today.find((l) => l.item.startsWith('DynamoDB storage'))!;
    expect(storage.usd).toBeGreaterThan(today.find((l) => l.item.startsWith('Lambda'))!.usd);
  });

  it('grows with tenants except for the fixed part', () => {
    const at = (tenants: number) => total(monthlyCost({ ...DEFAULTS, tenants }));
    expect(at(100)).toBeGreaterThan(at(10));
    expect(at(1000)).toBeGreaterThan(at(100));
    const fixed = monthlyCost({ ...DEFAULTS, tenants: 1 }).at(-1)!.usd;
    expect(monthlyCost({ ...DEFAULTS, tenants: 1000 }).at(-1)!.usd).toBe(fixed);
  });
});
