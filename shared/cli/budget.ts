/**
 * The DNSBL daily budget for the CLI: reserved in the store (`--store`, else `state.store`, else the embedded
 * default), the same counter per (zone, UTC day) the Lambda workers use, so a CLI run and a deployment at once never
 * exceed a zone's budget. With `--no-store` the limits hold for the run alone (said in a warning). A store that
 * cannot be reached grants nothing: the zones with a limit are reported unknown for the run (the operator's limit
 * is never risked), with a warning.
 */
import { memoryBudget, type QueryBudget } from '../blocklist/engine.ts';
import { reserveBudget } from '../use-cases/reserve-budget.ts';
import type { CliConfig } from './config-bridge.ts';
import { clean } from './render.ts';
import { openCliStore, type StoreCliOptions, storeSpec } from './state-stage.ts';

export function cliBudgetReservation(
  loaded: CliConfig | undefined,
  opts: StoreCliOptions,
  env: NodeJS.ProcessEnv,
  now: () => Date,
  warn: (text: string) => void,
): ((ips: number, zoneIds: readonly string[]) => Promise<QueryBudget>) | undefined {
  const limits = loaded?.blocklists?.dailyBudget;
  if (!limits || Object.keys(limits).length === 0) return undefined;
  if (opts.store === false) {
    return async () => {
      warn(
        'warning: --no-store: blocklists.dailyBudget is applied to this run alone (the daily counter is in the store)\n',
      );
      return memoryBudget(limits);
    };
  }
  return async (ips, zoneIds) => {
    try {
      const store = await openCliStore(storeSpec(opts, loaded), opts, env, loaded?.config.state.retentionDays);
      try {
        return await reserveBudget(store.budget, limits, zoneIds, ips, now());
      } finally {
        await store.close();
      }
    } catch (err) {
      warn(
        `warning: cannot reserve the blocklist budget in the store (${clean(err instanceof Error ? err.message : String(err))}); zones with a daily budget are not asked in this run\n`,
      );
      return memoryBudget(Object.fromEntries(Object.keys(limits).map((z) => [z, 0])));
    }
  };
}
