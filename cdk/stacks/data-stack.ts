/**
 * The stateful half of a deployment, kept apart so the service stack can be replaced, rolled back or destroyed without
 * touching a single stored result: the DynamoDB table (results, state, incidents) and the config bucket. Both are
 * retained when the stack is deleted.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from '../../shared/deploy/constants.ts';
import type { StageConfig } from '../config.ts';
import { acknowledge } from '../constructs/nag.ts';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly configBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { stage } = props.config;

    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: `relaywatch-${stage}`,
      // Key and index names come from the constants the adapter uses (shared/deploy/constants.ts).
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
      // On demand: the load is a burst every few minutes and nothing in between; provisioned capacity would idle.
      billing: dynamodb.Billing.onDemand(),
      globalSecondaryIndexes: TABLE_INDEXES.map((ix) => ({
        indexName: ix.indexName,
        partitionKey: { name: ix.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: ix.sortKey, type: dynamodb.AttributeType.STRING },
        // GSI1 (open incidents, few) projects ALL; GSI2 (history, runs, active incidents) only keys and `check`: the
        // store reads the items from the table, so each result is stored and written once (docs/deploy.md, Cost).
        ...(ix.projection === 'ALL'
          ? { projectionType: dynamodb.ProjectionType.ALL }
          : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...ix.projection] }),
      })),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const accessLogs = new s3.Bucket(this, 'ConfigAccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      // Access logs are for audits of recent pushes; a year is plenty.
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the access-log bucket of the config bucket; logging it would recurse.',
      },
    ]);

    this.configBucket = new s3.Bucket(this, 'ConfigBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Every pushed config is kept: `relaywatch config push` shows the diff, and a bad push is rolled back by version.
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'config/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The probe messages SES receiving stores (optional round-trip confirmation) expire: spam to the probe domain lands
    // there too, and nothing reads a message after ses-inbound has recorded it. The bucket is versioned, so the
    // expired current version leaves a noncurrent one (gone a day later) and a delete marker (removed once alone).
    const inbound = props.config.confirm.sesInbound;
    if (inbound) {
      this.configBucket.addLifecycleRule({
        id: 'ExpireSesProbeMessages',
        prefix: inbound.bucketPrefix,
        expiration: Duration.days(inbound.retainDays),
        noncurrentVersionExpiration: Duration.days(1),
      });
      this.configBucket.addLifecycleRule({
        id: 'RemoveSesProbeDeleteMarkers',
        prefix: inbound.bucketPrefix,
        expiredObjectDeleteMarker: true,
      });
    }
  }
}
