import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import type { CheckContext } from '../../../shared/checks/types.ts';
import type { Finding } from '../../../shared/domain/outcome.ts';
import { type FakeZone, ZoneFake } from '../../support/zone-fake.ts';

/** Microsoft's include, as published (trimmed to two ranges). */
export const M365: FakeZone = {
  'spf.protection.outlook.com': [{ TXT: 'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all' }],
};

export function ctxFor(zone: FakeZone): CheckContext & { fake: ZoneFake } {
  const fake = new ZoneFake({ ...M365, ...zone });
  return { resolver: fake, evaluateSpf: makeSpfEvaluator(fake), now: () => 0, fake };
}

export function codes(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.code);
}

export function findingOf(findings: readonly Finding[], code: string): Finding {
  const f = findings.find((x) => x.code === code);
  if (!f) throw new Error(`no finding ${code} among ${codes(findings).join(', ')}`);
  return f;
}
