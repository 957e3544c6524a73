/**
 * How long something lasted, in the words every surface uses (alerts in Slack, Teams, e-mail and webhooks, the weekly
 * digest and the report page), so one incident never reads "3h 12m" in its RESOLVED alert and "3 h 12 min" in the
 * digest: `under a minute`, `45 min`, `3 h 05 min` (below two days), `2 d 4 h`.
 */
export function formatDuration(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The duration between two ISO times; null when either is invalid or `to` is before `from`. */
export function formatSpan(fromIso: string, toIso: string): string | null {
  const from = Date.parse(fromIso);
  const to = Date.parse(toIso);
  if (Number.isNaN(from) || Number.isNaN(to) || to < from) return null;
  return formatDuration(to - from);
}
