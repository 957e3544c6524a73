/**
 * cdk-nag acknowledgements. Every finding we accept is acknowledged on the construct it concerns, with a reason a
 * reviewer would accept; nothing is acknowledged for a whole stack. cdk-nag 3 uses CDK's own `Validations` API: a
 * finding of a rule with several findings per resource (IAM5) is acknowledged one by one as `RuleId[FindingId]`.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

export function acknowledge(construct: IConstruct, acks: readonly Acknowledgement[]): void {
  for (const a of acks) Validations.of(construct).acknowledge({ id: a.id, reason: a.reason });
}
