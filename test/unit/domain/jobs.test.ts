/** Job identity per check group: deterministic run ids per (slot, scope, group), and bodies that cannot name another run. */
import { describe, expect, it } from 'vitest';
import {
  blocklistJob,
  parseJob,
  probeJob,
  runIdFor,
  scheduleGroupOf,
  scheduleSlot,
  tenantJob,
} from '../../../shared/domain/jobs.ts';

const SLOT = new Date('2026-11-27T16:00:00.000Z');

describe('monitoring jobs per check group', () => {
  it('gives the checks and the probe of one tenant and slot different, stable run ids', () => {
    const checks = tenantJob(SLOT, 'contoso');
    const probe = probeJob(SLOT, 'contoso');
    expect(probe.runId).not.toBe(checks.runId);
    expect(probeJob(new Date(SLOT), 'contoso')).toEqual(probe);
    expect(probe.runId).toBe(runIdFor(SLOT, 'tenant:contoso', 'probes'));
    // The checks keep the run ids they had before the groups were split (`domains`).
    expect(checks.runId).toBe(runIdFor(SLOT, 'tenant:contoso', 'domains'));
    expect(probe.runId.startsWith('20261127T160000Z-')).toBe(true);
  });

  it('maps every job to its schedule group', () => {
    expect(scheduleGroupOf(tenantJob(SLOT, 'a'))).toBe('checks');
    expect(scheduleGroupOf(probeJob(SLOT, 'a'))).toBe('probes');
    expect(scheduleGroupOf(blocklistJob(SLOT, 0, 1))).toBe('blocklists');
  });

  it('parses a probe job back, and refuses one whose run id belongs to another slot or group', () => {
    const probe = probeJob(SLOT, 'contoso');
    expect(parseJob(JSON.stringify(probe))).toEqual(probe);
    const checksId = tenantJob(SLOT, 'contoso').runId;
    expect(() => parseJob(JSON.stringify({ ...probe, runId: checksId }))).toThrow(/does not match its slot and scope/);
    const next = probeJob(new Date(SLOT.getTime() + 240 * 60_000), 'contoso');
    expect(() => parseJob(JSON.stringify({ ...probe, runId: next.runId }))).toThrow(/does not match/);
  });

  it("floors a time to the group's interval: a 240-minute group has six slots a day", () => {
    const slots = new Set(
      Array.from({ length: 24 }, (_, h) => scheduleSlot(new Date(Date.UTC(2026, 10, 27, h, 17)), 240).toISOString()),
    );
    expect(slots.size).toBe(6);
    expect([...slots][0]).toBe('2026-11-27T00:00:00.000Z');
  });
});
