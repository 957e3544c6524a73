/** The alert of a notification from the config: the MSP's name and contact, registry operators for the packet. */
import { zoneById } from '../blocklist/registry.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import type { NotificationKind } from '../incidents/deliveries.ts';
import { alertFor } from '../monitor/alerts.ts';
import type { Alert } from '../notify/alert.ts';
import type { IncidentRecord } from '../ports/stores.ts';

export function alertBuilder(
  config: RelaywatchConfig,
): (incident: IncidentRecord, kind: NotificationKind, tenantName: string, at: Date) => Promise<Alert> {
  return (incident, kind, tenantName, at) =>
    alertFor(incident, kind, tenantName, at, {
      msp: config.msp,
      operatorOf: (zoneId) => zoneById(zoneId)?.operator,
    });
}
