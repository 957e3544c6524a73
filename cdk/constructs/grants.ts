/**
 * The small `grant…` helpers: each grants the exact actions a function uses on the exact resources it uses, so no
 * policy needs a wildcard. (The library grants, `table.grantReadWriteData()` and `bucket.grantRead()`, add `index/*`,
 * `s3:GetObject*` and `s3:List*`: more than the code needs, and each one a cdk-nag finding to explain.)
 */

import type { Stack } from 'aws-cdk-lib';
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

/**
 * One SSM Parameter Store SecureString (`{ ssm: /path }`): `ssm:GetParameter` on exactly its ARN. With the account's
 * default key (`alias/aws/ssm`) nothing more is needed: its key policy lets the account's principals decrypt through
 * SSM. With a customer managed key, `kms:Decrypt` on that key only when SSM asks (kms:ViaService) and only for this
 * parameter (SSM puts the parameter's ARN in the encryption context).
 */
export function grantParameterRead(role: iam.IRole, stack: Stack, name: string, kmsKeyArn?: string): string {
  const arn = parameterArn(stack, name);
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [arn] }));
  if (kmsKeyArn !== undefined) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [kmsKeyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `ssm.${stack.region}.amazonaws.com`,
            'kms:EncryptionContext:PARAMETER_ARN': arn,
          },
        },
      }),
    );
  }
  return arn;
}

/** `arn:aws:ssm:<region>:<account>:parameter/relaywatch/prod/x` for the name `/relaywatch/prod/x`. */
export function parameterArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
}
