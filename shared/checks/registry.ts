/** The typed registry of domain checks. A new check is one file plus one line here. */
import type { CheckKind } from '../domain/outcome.ts';
import { mxCheck } from './mx.ts';
import { spfCheck } from './spf.ts';
import type { DomainCheck } from './types.ts';

export const DOMAIN_CHECKS: Readonly<Record<CheckKind, DomainCheck>> = {
  spf: spfCheck,
  mx: mxCheck,
};

export const ALL_DOMAIN_CHECKS: readonly DomainCheck[] = Object.values(DOMAIN_CHECKS);
