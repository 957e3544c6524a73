/**
 * Rules across values for `alerts`, `incidents` and the tenants' `alerts`/`maintenance`: route ids unique, every
 * route named by `alerts.default` or a tenant exists, a one-off window ends after it starts.
 */
import { formatPath, type PathSegment, quote } from './problems.ts';
import type { LineOf, RuleProblem } from './rules.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function where(path: readonly PathSegment[], lineOf: LineOf): string {
  const line = lineOf(path);
  return `${formatPath(path)}${line === undefined ? '' : ` on line ${line}`}`;
}

export function checkAlertRules(doc: unknown, lineOf: LineOf): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (!isRecord(doc)) return out;
  const alerts = own(doc, 'alerts');
  const ids = new Map<string, number>();
  const routes = isRecord(alerts) ? own(alerts, 'routes') : undefined;
  if (Array.isArray(routes)) {
    routes.slice(0, 50).forEach((r, i) => {
      const id = isRecord(r) ? own(r, 'id') : undefined;
      if (typeof id !== 'string') return;
      const first = ids.get(id);
      if (first !== undefined) {
        out.push({
          path: ['alerts', 'routes', i, 'id'],
          message: `${quote(id)} is already the id of ${where(['alerts', 'routes', first, 'id'], lineOf)}; route ids must be unique`,
          severity: 'error',
        });
      } else ids.set(id, i);
    });
  }
  const known = () => (ids.size > 0 ? [...ids.keys()].join(', ') : 'none: define them under alerts.routes');
  const checkRefs = (list: unknown, path: PathSegment[]) => {
    if (!Array.isArray(list)) return;
    list.slice(0, 50).forEach((ref, i) => {
      if (typeof ref === 'string' && !ids.has(ref)) {
        out.push({
          path: [...path, i],
          message: `names no route ${quote(ref)} (routes: ${known()})`,
          severity: 'error',
        });
      }
    });
  };
  if (isRecord(alerts)) checkRefs(own(alerts, 'default'), ['alerts', 'default']);
  const tenants = own(doc, 'tenants');
  if (Array.isArray(tenants)) {
    tenants.slice(0, 5000).forEach((t, ti) => {
      if (!isRecord(t)) return;
      const ta = own(t, 'alerts');
      if (isRecord(ta)) checkRefs(own(ta, 'routes'), ['tenants', ti, 'alerts', 'routes']);
      const windows = own(t, 'maintenance');
      if (Array.isArray(windows)) {
        windows.slice(0, 20).forEach((w, wi) => {
          if (!isRecord(w)) return;
          const from = own(w, 'from');
          const until = own(w, 'until');
          if (typeof from === 'string' && typeof until === 'string' && Date.parse(until) <= Date.parse(from)) {
            out.push({
              path: ['tenants', ti, 'maintenance', wi, 'until'],
              message: 'must be after from',
              severity: 'error',
            });
          }
        });
      }
    });
  }
  return out;
}
