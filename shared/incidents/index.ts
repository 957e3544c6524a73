/** The incident policy: thresholds, ids, suppression and deliveries, all pure (see each module). */
export * from './config.ts';
export * from './deliveries.ts';
export * from './id.ts';
export * from './policy.ts';
export * from './suppression.ts';
