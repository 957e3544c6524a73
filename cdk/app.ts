/**
 * The relaywatch CDK app: a data stack (kept on delete) and a service stack per stage, checked by cdk-nag's AWS
 * Solutions rules on every synth. `npx cdk synth` works offline on a fresh clone; `npx cdk deploy --all` needs an AWS
 * account (docs/deploy.md).
 *
 *   npx cdk synth                                   # the example stage (cdk/stages/example.json)
 *   npx cdk deploy --all -c stageConfig=prod.json   # your stage
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from './build.ts';

const app = new App();
buildApp(app);
// Synthesis stops on any finding that is not acknowledged with a reason (cdk/constructs/nag.ts).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
