/**
 * Bounds on a parsed configuration document, for YAML and JSON alike: nesting depth (a relaywatch config needs 6) and
 * values (scalars and collections, after YAML alias expansion; a 10 000-tenant configuration has about 150 000).
 * A module of its own, imported by the YAML reader and the JSON one without the rest of either.
 */
export const DOCUMENT_LIMITS = { maxDepth: 32, maxValues: 250_000 } as const;
