/** Builds the stacks of one stage into an app; shared by `cdk/app.ts` and the infrastructure tests. */
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import { loadStageConfigFile, parseStageConfig, type StageConfig } from './config.ts';
import { DataStack } from './stacks/data-stack.ts';
import { ServiceStack } from './stacks/service-stack.ts';

export const EXAMPLE_STAGE_CONFIG = fileURLToPath(new URL('./stages/example.json', import.meta.url));

/** The stage config: `-c stageConfig=FILE`, else the `relaywatch` context object, else the example. */
export function stageConfigFrom(app: App): StageConfig {
  const file = app.node.tryGetContext('stageConfig');
  if (typeof file === 'string' && file !== '') return loadStageConfigFile(file);
  const inline = app.node.tryGetContext('relaywatch');
  if (inline !== undefined) return parseStageConfig(inline, 'the "relaywatch" context of cdk.json');
  return loadStageConfigFile(EXAMPLE_STAGE_CONFIG);
}

export interface BuiltApp {
  readonly data: DataStack;
  readonly service: ServiceStack;
}

export function buildApp(app: App, config: StageConfig = stageConfigFrom(app)): BuiltApp {
  const env = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };
  const data = new DataStack(app, `relaywatch-${config.stage}-data`, {
    config,
    env,
    description: `relaywatch ${config.stage}: table and config bucket (retained on delete)`,
    terminationProtection: true,
  });
  const service = new ServiceStack(app, `relaywatch-${config.stage}-service`, {
    config,
    env,
    table: data.table,
    configBucket: data.configBucket,
    description: `relaywatch ${config.stage}: schedules, queues, functions, ingest API, alarms`,
  });
  return { data, service };
}
