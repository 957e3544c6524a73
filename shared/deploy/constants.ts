/**
 * Names that the code and the infrastructure must agree on: the DynamoDB table's key and index attributes, the
 * environment variables the Lambda handlers read, and the functions the CDK app deploys. The CDK app (`cdk/`) may import
 * from `shared/` only constants like these and config types, so a renamed attribute or variable breaks the build
 * instead of a deployment.
 */

/** The single table's primary key attributes (both strings). */
export const TABLE_PARTITION_KEY = 'PK';
export const TABLE_SORT_KEY = 'SK';

/** Sparse index of open incidents (`GSI1PK = 'OPEN'`), projection ALL. */
export const GSI1 = 'GSI1';
export const GSI1_PARTITION_KEY = 'GSI1PK';
export const GSI1_SORT_KEY = 'GSI1SK';

/** Time-ordered history of checks, events and runs, projection ALL. */
export const GSI2 = 'GSI2';
export const GSI2_PARTITION_KEY = 'GSI2PK';
export const GSI2_SORT_KEY = 'GSI2SK';

/** DynamoDB TTL attribute (epoch seconds) on items that expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Every (index name, partition key, sort key) the store queries; the data stack defines exactly these. */
export const TABLE_INDEXES = [
  { indexName: GSI1, partitionKey: GSI1_PARTITION_KEY, sortKey: GSI1_SORT_KEY },
  { indexName: GSI2, partitionKey: GSI2_PARTITION_KEY, sortKey: GSI2_SORT_KEY },
] as const;
