/**
 * The small `grant…` helpers: each grants the exact actions a function uses on the exact resources it uses, so no
 * policy needs a wildcard. (The library grants, `table.grantReadWriteData()` and `bucket.grantRead()`, add `index/*`,
 * `s3:GetObject*` and `s3:List*`: more than the code needs, and each one a cdk-nag finding to explain.)
 */

import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { TABLE_INDEXES } from '../../shared/deploy/constants.ts';

/** The table and each index the store queries, by name. */
function tableResources(table: dynamodb.ITableV2): string[] {
  return [table.tableArn, ...TABLE_INDEXES.map((ix) => `${table.tableArn}/index/${ix.indexName}`)];
}

/** Reads: items, queries on the table and its indexes. */
export function grantTableRead(role: iam.IRole, table: dynamodb.ITableV2): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
      resources: tableResources(table),
    }),
  );
}

/**
 * Reads and the writes the store makes: conditional puts, updates (counters, claims), deletes, batched writes and
 * transactions (TransactWriteItems is authorised per contained action, so it needs no action of its own).
 */
export function grantTableReadWrite(role: iam.IRole, table: dynamodb.ITableV2): void {
  grantTableRead(role, table);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
      ],
      resources: [table.tableArn],
    }),
  );
}

/** The one config object: GetObject also answers HeadObject (the ETag check). */
export function grantConfigRead(role: iam.IRole, bucket: s3.IBucket, key: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(key)] }),
  );
}
