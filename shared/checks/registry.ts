/** The typed registry of domain checks. A new check is one file plus one line here. */
import type { CheckKind } from '../domain/outcome.ts';
import { mxCheck } from './mx.ts';
import { spfCheck } from './spf.ts';
import type { DomainCheck } from './types.ts';

/** Checks that run per domain. (The blocklist check runs per IP: checks/blocklist.ts.) */
export const DOMAIN_CHECKS: Readonly<Partial<Record<CheckKind, DomainCheck>>> = {
  spf: spfCheck,
  mx: mxCheck,
};

export const ALL_DOMAIN_CHECKS: readonly DomainCheck[] = [spfCheck, mxCheck];
