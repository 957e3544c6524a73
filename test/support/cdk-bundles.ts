/** The function bundles exactly as `cdk synth` builds them, for the bundle smoke test and the bundle benchmark. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../cdk/build.ts';
import { parseStageConfig } from '../../cdk/config.ts';
import type { CONFIRM_FUNCTIONS, FUNCTIONS } from '../../shared/deploy/constants.ts';

/** Every function folder: the monitoring functions and the optional confirmation ones (enabled in the smoke stage). */
export type BundleName = keyof typeof FUNCTIONS | keyof typeof CONFIRM_FUNCTIONS;

/** Synthesise the example app with real bundling and return each function's bundle folder. */
export function synthBundles(outdir: string): Record<BundleName, string> {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const { service } = buildApp(
    app,
    parseStageConfig(
      {
        stage: 'smoke',
        alertSender: 'relaywatch@msp.example',
        confirm: { enabled: true, sesInbound: { domain: 'probes.msp.example' } },
      },
      'test',
    ),
  );
  app.synth();
  const template = JSON.parse(readFileSync(join(outdir, `${service.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: { FunctionName?: string }; Metadata?: Record<string, string> }
    >;
  };
  const out: Partial<Record<BundleName, string>> = {};
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = String(r.Properties.FunctionName).replace('relaywatch-smoke-', '') as BundleName;
    const asset = r.Metadata?.['aws:asset:path'];
    if (asset !== undefined) out[name] = join(outdir, asset);
  }
  return out as Record<BundleName, string>;
}
