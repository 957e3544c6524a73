/**
 * The ingest: the site agents' signed reports (API Gateway HTTP API, payload v2). In order:
 * 413 for a body over {@link AGENT_REPORT_MAX_BYTES} (before anything is parsed or verified);
 * 401 for a request that is not signed by a known agent with its own secret (missing or malformed headers, unknown
 * agent, bad signature, a timestamp outside the tolerance); 409 for a replay (the signature nonce is already in the
 * store: a conditional put with a TTL, shared by every instance); 400 with the zod path for a body that is not a
 * report; 403 for a report about another tenant than the agent's (a compromised site's secret cannot post for
 * another tenant); 202 when the report was recorded, decided and its alerts sent. Infrastructure failures are 5xx
 * (thrown, so API Gateway answers 500 and the agent retries with backoff).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import { resolveSecret, type SecretSources } from '../../shared/config/secrets.ts';
import { METRICS } from '../../shared/deploy/constants.ts';
import { AGENT_REPORT_MAX_BYTES, parseAgentReport } from '../../shared/domain/agent-report.ts';
import { verifyRequest } from '../../shared/ingest/signature.ts';
import type { Notifier } from '../../shared/notify/alert.ts';
import { tenantAlerting } from '../../shared/notify/routing.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { alertBuilder } from '../../shared/use-cases/alert-builder.ts';
import { agentRunId, agentTenantReport } from '../../shared/use-cases/ingest-report.ts';
import { recordCycle } from '../../shared/use-cases/record-cycle.ts';
import type { JobMetrics } from '../worker/worker.ts';

export interface IngestDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: (config: RelaywatchConfig) => Promise<SecretSources>;
  readonly notifiers: (
    config: RelaywatchConfig,
    secrets: SecretSources,
  ) => Promise<(routeId: string) => Notifier | { readonly error: string }>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'appendKeys' | 'removeKeys'>;
  readonly metrics: JobMetrics;
  /** ms since the epoch. */
  readonly now: () => number;
}

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: Record<string, unknown>): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export function makeIngest(deps: IngestDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const rejected = (status: number, reason: string, extra: Record<string, unknown> = {}): Result => {
      deps.metrics.addMetric(METRICS.ingest.rejected, 'Count', 1);
      deps.logger.warn('report rejected', { status, reason });
      return json(status, { error: reason, ...extra });
    };
    const raw = event.body ?? '';
    // Size first, on the encoded length too: a base64 body over 4/3 of the limit cannot decode under it.
    if (raw.length > Math.ceil((AGENT_REPORT_MAX_BYTES * 4) / 3) + 4) return rejected(413, 'the report is too large');
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (body.byteLength > AGENT_REPORT_MAX_BYTES) return rejected(413, 'the report is too large');

    const snapshot = await deps.config.load();
    const config = snapshot.loaded.config;
    const agents = new Map((config.ingest?.agents ?? []).map((a) => [a.id, a]));
    let secrets: SecretSources | undefined;
    const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
    const verified = await verifyRequest({
      headers: event.headers ?? {},
      body,
      request: {
        method: event.requestContext?.http?.method ?? 'POST',
        host: event.headers?.host ?? event.requestContext?.domainName ?? '',
        path: `${event.rawPath ?? '/'}${query}`,
      },
      sourceIp: event.requestContext?.http?.sourceIp ?? null,
      now: deps.now(),
      // The store's conditional put, on the verifier's clock.
      replay: { firstSeen: (key, expiresAtMs) => deps.store.nonces.firstSeen(key, expiresAtMs, deps.now()) },
      agentFor: async (agentId) => {
        const agent = agents.get(agentId);
        if (!agent) return null;
        secrets ??= await deps.secrets(config);
        const src = secrets;
        const values = [agent.secret, agent.previousSecret].flatMap((ref) => {
          if (!ref) return [];
          const r = resolveSecret(ref, src);
          if (!r.ok) deps.logger.warn('agent secret unavailable', { agent: agentId, reason: r.reason });
          return r.ok ? [r.value] : [];
        });
        return { tenantId: agent.tenant, secrets: values };
      },
    });
    if (!verified.ok) {
      return rejected(
        verified.status,
        verified.message,
        verified.reason === 'malformed-body' ? { path: '(body)' } : {},
      );
    }
    const value: unknown = verified.report;
    const parsed = parseAgentReport(value);
    if (!parsed.ok) return rejected(400, `invalid report at ${parsed.path}: ${parsed.message}`, { path: parsed.path });
    const report = parsed.report;
    const agent = agents.get(verified.agentId);
    if (!agent || report.agentId !== verified.agentId || report.tenant.id !== verified.tenantId) {
      return rejected(403, `agent ${verified.agentId} may only report for its own tenant`);
    }
    const tenant = config.tenants.find((t) => t.id === agent.tenant);
    if (!tenant) return rejected(403, `agent ${verified.agentId} belongs to no configured tenant`);

    deps.logger.appendKeys({ tenant: tenant.id, check: 'probe-relay', agent: agent.id });
    try {
      secrets ??= await deps.secrets(config);
      const notifierFor = await deps.notifiers(config, secrets);
      const runId = agentRunId(agent.id, report.at);
      const cycle = await recordCycle({
        reports: [agentTenantReport(report, tenant.name)],
        tenants: tenantAlerting(config).filter((t) => t.id === tenant.id),
        incidents: config.incidents,
        store: deps.store,
        runId,
        source: 'agent',
        startedAt: new Date(report.at),
        now: () => new Date(deps.now()),
        notifierFor,
        alertFor: alertBuilder(config),
        runTenant: tenant.id,
        // The report's one result is its record: no run item besides (docs/deploy.md, "Cost").
        recordRun: false,
        // One owner per request: two posts of the same report at once never both hold a delivery claim.
        owner: `${runId}/${randomUUID()}`,
      });
      deps.metrics.addMetric(METRICS.ingest.accepted, 'Count', 1);
      deps.logger.info('report accepted', { runId, opened: cycle.opened.length, resolved: cycle.resolved.length });
      return json(202, { accepted: true, runId });
    } finally {
      deps.logger.removeKeys(['tenant', 'check', 'agent']);
    }
  };
}
