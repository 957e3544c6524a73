/**
 * The DNSBL daily query budget in the store, shared by every process (CLI runs, Lambda workers): before a sweep, each
 * limited zone's queries are reserved from the store's atomic counter for (zone, UTC day); the engine then spends
 * only what was granted (its `take()` is synchronous and counts down the grant). Two processes at once never exceed
 * a zone's budget, because the counter never grants past the limit.
 *
 * What is reserved per zone: the health checks (a few test points, {@link HEALTH_ALLOWANCE}), one query per IP, and a
 * TXT query per listing: listings are not known in advance, so {@link LISTING_SHARE} of the IPs (at least
 * {@link MIN_LISTING_ALLOWANCE}) are reserved for them. A reservation not spent stays counted for the day: a run can
 * under-use the budget, never overrun it. A zone granted less than it wanted answers `unknown` (budget exhausted)
 * for the IPs beyond the grant, as the in-memory budget does.
 */
import { memoryBudget, type QueryBudget } from '../blocklist/engine.ts';
import type { BudgetStore } from '../ports/stores.ts';

export const HEALTH_ALLOWANCE = 4;
export const LISTING_SHARE = 0.1;
export const MIN_LISTING_ALLOWANCE = 4;

/** `2026-11-27`: the UTC day of a date. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface Reservation extends QueryBudget {
  /** Queries granted per limited zone for this sweep. */
  readonly granted: Readonly<Record<string, number>>;
  readonly day: string;
}

/** Queries a sweep of `ips` addresses may send to one zone. */
export function queriesWanted(ips: number): number {
  return ips === 0 ? 0 : HEALTH_ALLOWANCE + ips + Math.max(MIN_LISTING_ALLOWANCE, Math.ceil(ips * LISTING_SHARE));
}

/**
 * Reserve the sweep's queries for every zone that has a daily limit (zones without one are not counted). Rejects
 * with the store's error when the store cannot be reached: the caller decides (the worker fails the job; nothing is
 * sent without a reservation).
 */
export async function reserveBudget(
  store: BudgetStore,
  limits: Readonly<Record<string, number>>,
  zoneIds: readonly string[],
  ips: number,
  now: Date,
): Promise<Reservation> {
  const day = utcDay(now);
  const wanted = queriesWanted(ips);
  const granted: Record<string, number> = {};
  await Promise.all(
    zoneIds.map(async (zoneId) => {
      const limit = limits[zoneId];
      if (limit === undefined) return;
      granted[zoneId] = await store.reserve(zoneId, day, wanted, limit);
    }),
  );
  const budget = memoryBudget(granted);
  return { granted, day, take: (zoneId) => budget.take(zoneId) };
}
