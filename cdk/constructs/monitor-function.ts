/**
 * One construct holds every Lambda default, so no function can drift from them: Node.js 24 on arm64, an esbuild ESM
 * bundle (minified, code-split, source maps, tree-shaken), its own log group with retention, the Powertools environment, and a role
 * that has nothing but what the function is granted through the small `grant…` helpers of the stacks.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type BuildOptions, buildSync } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import {
  CONFIRM_FUNCTIONS,
  type ConfirmFunctionName,
  FUNCTIONS,
  type FunctionName,
  METRICS_NAMESPACE,
} from '../../shared/deploy/constants.ts';
import { acknowledge } from './nag.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The esbuild settings shared by every function bundle. Exported so the bundle test, the conformance test and the size
 * benchmark build exactly what `cdk synth` builds (`bundleOptions` adds the entry and the function's aliases).
 */
export const BUNDLING: BuildOptions = {
  format: 'esm',
  platform: 'node',
  // Node 24 is the runtime; no down-levelling.
  target: 'node24',
  minify: true,
  // Linked source maps beside the bundle (inline maps would double the code that V8 must read at cold start), without
  // the sources' text (stack traces need only the mappings: cdk/symbolicate.ts, or NODE_OPTIONS=--enable-source-maps
  // with the stage's `sourceMapsAtRuntime`).
  sourcemap: 'linked',
  sourcesContent: false,
  // ESM entry points of dual packages first, so tree shaking works.
  mainFields: ['module', 'main'],
  // CommonJS dependencies bundled into an ESM file still call require() and use __dirname: give them both (every
  // chunk is its own module and gets its own copy; chunks sit beside index.mjs, so __dirname is the bundle folder).
  // Node 24's import.meta.filename/dirname are those paths; the banner is short because every chunk carries it.
  banner: {
    js: "import{createRequire as __rwRequire}from'node:module';const require=__rwRequire(import.meta.url),__filename=import.meta.filename,__dirname=import.meta.dirname;",
  },
  // The runtime's SDK v3 would save bundle size, but its version is not ours to pin; bundle what package-lock says.
  // (Nothing is external.)
  logLevel: 'warning',
};

/**
 * The esbuild build of one function: `functions/<name>/handler.ts` → `index.mjs`, with code splitting, so every module
 * reached only through a dynamic `import()` (nodemailer for e-mail alerts and SMTP probes, the SES, SSM and STS
 * clients, msal, Slack, the AWS SDK's unused credential providers) is a chunk of its own beside `index.mjs` that Node
 * reads and compiles only when that path runs. The CDK's own `NodejsFunction` bundling always writes one file
 * (`--outfile`), where a lazy `import()` defers evaluation but not V8's parse of the whole file at cold start.
 * Chunks sit in the bundle folder itself: modules that find data files by `import.meta.url` (the blocklist registry's
 * zones.json) resolve them there from any chunk.
 */
export function bundleOptions(name: FunctionName | ConfirmFunctionName): BuildOptions {
  return {
    ...BUNDLING,
    absWorkingDir: repoRoot,
    entryPoints: { index: `${repoRoot}functions/${name}/handler.ts` },
    bundle: true,
    splitting: true,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    alias: bundleAliases(name),
  };
}

/**
 * Node's options of a function whose stage sets `sourceMapsAtRuntime` (off by default, cdk/config.ts): stack traces in
 * the logs mapped to the sources. It costs cold-start time (Node reads and parses the source maps of the files it
 * loads, about 80–100 ms of CPU for the worker on this machine, docs/dependencies.md "The Lambda bundles"), so by
 * default a function has no NODE_OPTIONS and `cdk/symbolicate.ts` maps a logged stack trace with the `.map` files
 * beside the bundle instead; the bundle benchmark measures the default.
 */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/**
 * Packages a function's bundle leaves out, each replaced by a stand-in (cdk/bundle-stubs/<package>.cjs) that holds
 * only what that function's code path provably calls, if anything, and throws "not bundled" on any other use:
 *
 * - worker, `joi`: mailauth's SPF entry (`mailauth/lib/spf`) validates the sender domain with
 *   `Joi.string().domain({ allowUnicode: false, tlds: false })` and mailauth's tools build a base64 schema at load
 *   time for DKIM keys. The stand-in is that one domain schema on the check joi runs for it (@hapi/address
 *   `isDomainValid`, 4 KB instead of joi and @hapi/* ≈ 180 KB); the base64 schema's `validate` and the rest of joi throw.
 * - worker, `libmime`: the SPF entry calls only `foldLines` (the Received-SPF header); the stand-in is that function
 *   copied from libmime (with its licence), the rest throws. libmime's charset module, with iconv-lite and
 *   encoding-japanese, goes with it.
 * - worker, `tldts`: mailauth's tools call it only for DMARC alignment, never on the SPF path.
 *
 *   The proof for these three is test/conformance/rfc7208-bundle.test.ts: the whole RFC 7208 suite through the SPF
 *   adapter and mailauth's SPF entry bundled with these stand-ins gives the same results, test by test (adapter result
 *   and mailauth's raw result with its Received-SPF header), as the unbundled code; the joi stand-in judges invalid and
 *   odd domains as joi does, the libmime one folds long headers as libmime does.
 * - worker, `jsonwebtoken` (with jws, jwa, semver and lodash.*, ≈ 55 KB of the OAuth chunk): msal-node signs with it
 *   only the client assertion of a certificate credential (`ClientAssertion.getJwt`, reached when the application is
 *   built with `clientCertificate`); the worker's msal provider (shared/adapters/oauth/msal-token-provider.ts) builds
 *   it with `clientSecret` only. The proof is test/infra/msal-bundle.test.ts: the provider bundled with these
 *   aliases gets a token from a local Entra-like token endpoint.
 *
 * A function that parses messages (confirm, ses-inbound: MIME words in any charset) must not take this list.
 */
export const NOT_BUNDLED: Partial<Record<FunctionName | ConfirmFunctionName, readonly string[]>> = {
  worker: ['joi', 'libmime', 'tldts', 'jsonwebtoken'],
};

/**
 * Packages a confirmation bundle (confirm, ses-inbound) replaces by a smaller stand-in that does the same work
 * (cdk/bundle-stubs/<stand-in>.cjs), where NOT_BUNDLED's stand-ins throw. Only the confirm function's lazy IMAP chunk
 * reaches them (imapflow and its libmime; the header split is shared/confirm/header-rows.ts, without charsets); in
 * ses-inbound nothing does, and the entry is there so that a path that brings one in gets the stand-in, not the tables.
 *
 * | package           | stand-in                             | what it keeps                                       |
 * | ----------------- | ------------------------------------ | --------------------------------------------------- |
 * | iconv-lite        | iconv-lite-textdecoder.cjs           | iconv-lite's API and own Unicode/UTF-7-IMAP codecs; |
 * |                   |                                      | legacy charsets through TextDecoder (ICU), decode   |
 * |                   |                                      | only for the double-byte ones                       |
 * | encoding-japanese | encoding-japanese-textdecoder.cjs    | `convert(…, { to: 'UNICODE', type: 'string' })` for |
 * |                   |                                      | ISO-2022-JP, EUC-JP, Shift_JIS via TextDecoder      |
 *
 * About 630 KB less in the confirm bundle's files. test/unit/confirm/charset-stand-ins.test.ts compares them with the
 * real packages and pins every difference (docs/dependencies.md, "The Lambda bundles", says why none matters here).
 */
export const CHARSET_STAND_INS: Partial<Record<FunctionName | ConfirmFunctionName, Readonly<Record<string, string>>>> =
  Object.fromEntries(
    (['confirm', 'ses-inbound'] as const).map((name) => [
      name,
      { 'iconv-lite': 'iconv-lite-textdecoder', 'encoding-japanese': 'encoding-japanese-textdecoder' },
    ]),
  );

/**
 * Built-in modules every bundle takes as CommonJS (cdk/bundle-stubs/node-http.cjs): an ESM import of `node:http`
 * builds its ESM facade, which reads the lazy `WebSocket` getters and so loads Node's internal undici at cold start.
 */
const BUILTIN_AS_COMMONJS = { http: 'node-http', 'node:http': 'node-http' } as const;

/**
 * Packages every function's bundle replaces by a stand-in (the file in cdk/bundle-stubs/), because no code path of a
 * Lambda function needs them:
 *
 * - `@aws-sdk/credential-provider-node`: the SDK's default credential chain, which the clients import for
 *   `defaultProvider` only. In Lambda the role's credentials are always in the environment (the chain's first link);
 *   the stand-in is the SDK's `fromEnv` with an error naming the missing variables, and leaves out the other links
 *   (SSO, ini, process, web identity, container/instance metadata) with @aws-sdk/nested-clients (≈ 80 KB of lazy
 *   chunks). The CLI, unbundled, keeps the whole chain. The proof is test/infra/bundles.int.test.ts (every bundle
 *   invoked against DynamoDB Local and the S3/SQS/Secrets Manager stand-ins with credentials in the environment) and
 *   test/infra/bundle-contents.test.ts (the stand-in's errors, and no nested-clients in any bundle).
 * - `bowser`: a browser user-agent parser, imported only by @aws-sdk/core's browser user-agent provider
 *   (`createUserAgentStringParsingProvider`), which no Node.js code calls (the Node clients use
 *   util-user-agent-node); esbuild keeps a chunk for every dynamic import() in a bundled file, even in dead code.
 */
export const STAND_INS: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': 'aws-credential-provider-node.mjs',
  bowser: 'bowser.cjs',
};

/** esbuild `alias` entries of a function: each left-out or replaced package to its stand-in, and the CommonJS built-ins. */
export function bundleAliases(name: FunctionName | ConfirmFunctionName): Record<string, string> {
  return Object.fromEntries([
    ...(NOT_BUNDLED[name] ?? []).map((pkg) => [pkg, `${repoRoot}cdk/bundle-stubs/${pkg}.cjs`] as const),
    ...Object.entries(STAND_INS).map(([pkg, stub]) => [pkg, `${repoRoot}cdk/bundle-stubs/${stub}`] as const),
    ...Object.entries(CHARSET_STAND_INS[name] ?? {}).map(
      ([pkg, stub]) => [pkg, `${repoRoot}cdk/bundle-stubs/${stub}.cjs`] as const,
    ),
    ...Object.entries(BUILTIN_AS_COMMONJS).map(
      ([mod, stub]) => [mod, `${repoRoot}cdk/bundle-stubs/${stub}.cjs`] as const,
    ),
  ]);
}

/**
 * Data files a bundle reads at run time, copied beside `index.mjs`: the blocklist registry is read with
 * `new URL('./zones.yaml', import.meta.url)`, which in the bundle resolves to the bundle's own folder.
 */
export const DATA_FILES = ['shared/blocklist/zones.yaml'] as const;

/**
 * A function's asset: the esbuild build of `bundleOptions` into the asset folder, the data files beside it, and the
 * registry also as JSON (shared/blocklist/registry.ts reads zones.json when it is beside the bundle: the YAML parse at
 * every cold start is what it saves). Built locally with the repository's pinned esbuild, never in Docker: a failure
 * fails the synth.
 */
function bundleCode(name: FunctionName | ConfirmFunctionName): lambda.Code {
  // The function's own folder as the asset source: the CDK caches bundling by source path and options (a function
  // `local` is not part of the key), so one shared path would hand every function the first function's bundle.
  return lambda.Code.fromAsset(`${repoRoot}functions/${name}`, {
    // The hash of what was built, not of the whole repository (node_modules included).
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the API; never pulled, because local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({ ...bundleOptions(name), outdir: outputDir });
          for (const f of DATA_FILES)
            copyFileSync(`${repoRoot}${f}`, `${outputDir}/${f.slice(f.lastIndexOf('/') + 1)}`);
          const zones = parseYaml(readFileSync(`${repoRoot}shared/blocklist/zones.yaml`, 'utf8')) as unknown;
          writeFileSync(`${outputDir}/zones.json`, JSON.stringify(zones));
          return true;
        },
      },
    },
  });
}

export interface MonitorFunctionProps {
  /** The folder under `functions/`; the entry is `functions/<name>/handler.ts`, export `handler`. */
  readonly name: FunctionName | ConfirmFunctionName;
  readonly stage: string;
  /** Megabytes; more memory is also more CPU (1,769 MB is one full vCPU). */
  readonly memoryMb: number;
  readonly timeout: Duration;
  /** One line: why this memory and timeout. */
  readonly sizingReason: string;
  readonly logRetentionDays: logs.RetentionDays;
  /** The stage's `sourceMapsAtRuntime`: NODE_OPTIONS=--enable-source-maps (see FUNCTION_NODE_OPTIONS). */
  readonly sourceMapsAtRuntime: boolean;
  readonly environment?: Record<string, string>;
  readonly vpc?: import('aws-cdk-lib/aws-ec2').IVpc;
  /** Reserved concurrency cap (undefined: none). */
  readonly reservedConcurrency?: number;
}

export class MonitorFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MonitorFunctionProps) {
    super(scope, id);
    const functionName = `relaywatch-${props.stage}-${props.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetentionDays,
      // Logs are operational, not records: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of the default one: the default attaches the AWS managed AWSLambdaBasicExecutionRole
    // (logs:CreateLogGroup on "*"); this one may write to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `relaywatch ${props.name} function (${props.stage})`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpc !== undefined) {
      // ENI management for a function in a VPC; AWS documents no resource-level scoping for these actions.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
      acknowledge(this.role, [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'Lambda needs these EC2 network-interface actions to attach to the VPC; AWS supports no resource-level scoping for them.',
        },
      ]);
    }
    this.fn = new NodejsFunction(this, 'Function', {
      functionName,
      // Our own build (bundleCode: code splitting); NodejsFunction then takes the code as given.
      code: bundleCode(props.name),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      description: `relaywatch ${props.name}: ${props.sizingReason}`.slice(0, 256),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        // The same names the handlers give Powertools in code (shared/deploy/constants.ts), so logs and metrics agree.
        POWERTOOLS_SERVICE_NAME: { ...FUNCTIONS, ...CONFIRM_FUNCTIONS }[props.name],
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...(props.sourceMapsAtRuntime ? { NODE_OPTIONS: FUNCTION_NODE_OPTIONS } : {}),
        ...props.environment,
      },
      ...(props.vpc !== undefined ? { vpc: props.vpc } : {}),
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
  }
}
