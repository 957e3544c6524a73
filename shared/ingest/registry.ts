/**
 * The agent registry: which tenant each site agent reports for, and its secrets. Each agent belongs to exactly one
 * tenant; `verifyRequest` takes the tenant from here, never from the report.
 *
 * `staticAgentRegistry` holds a list given at start (the CLI, tests, a small deployment); a store-backed registry
 * implements the same `agentFor`.
 */
import { type AgentRecord, agentSecretProblem } from './signature.ts';

export interface AgentRegistry {
  /** The agent's tenant and secrets, or null when the agent is not registered. Rejects only on infrastructure failure. */
  agentFor(agentId: string): Promise<AgentRecord | null>;
}

export interface AgentEntry {
  readonly agentId: string;
  readonly tenantId: string;
  /** Current first, then the previous one during a rotation. */
  readonly secrets: readonly string[];
}

/**
 * A registry over a fixed list.
 * @throws TypeError when an agent is listed twice (it would belong to two tenants), has no secret, or has a secret
 *   below the floor (the message names the agent, never the secret).
 */
export function staticAgentRegistry(entries: readonly AgentEntry[]): AgentRegistry {
  const byId = new Map<string, AgentRecord>();
  for (const e of entries) {
    if (byId.has(e.agentId)) {
      throw new TypeError(`agent ${e.agentId} is registered more than once: an agent reports for exactly one tenant`);
    }
    if (e.secrets.length === 0) throw new TypeError(`agent ${e.agentId} has no secret`);
    for (const s of e.secrets) {
      const problem = agentSecretProblem(s);
      if (problem !== null) throw new TypeError(`agent ${e.agentId}: ${problem}`);
    }
    byId.set(e.agentId, { tenantId: e.tenantId, secrets: [...e.secrets] });
  }
  return { agentFor: async (agentId) => byId.get(agentId) ?? null };
}
