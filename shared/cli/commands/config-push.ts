/**
 * `relaywatch config push`: validate the configuration, show the diff against the document deployed in S3, and
 * upload it (after a yes, or with `--yes`). An invalid document is refused before anything is sent; the upload is
 * conditional on the ETag that was diffed (`If-Match`), so a push never overwrites a change made meanwhile.
 *
 * What is uploaded is the validated document as compact JSON (`configJson`), which the functions read with
 * `JSON.parse` and the same validation, a few times cheaper than YAML and without the YAML parser in their bundles.
 * The diff shows both sides as indented JSON: the deployed object may be YAML (a push from before the JSON form, or a
 * hand copy), read either way.
 */
import { createInterface } from 'node:readline/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import { configJson, looksLikeJson, parseConfigJson } from '../../config/document.ts';
import { decodeConfigBytes, MAX_CONFIG_BYTES, readConfigDocument, readFileBounded } from '../../config/load.ts';
import { formatProblem } from '../../config/problems.ts';
import { readYaml } from '../../config/yaml-source.ts';
import { DEFAULT_CONFIG_KEY } from '../../deploy/constants.ts';
import { type CliIo, write } from '../common.ts';
import { clean } from '../render.ts';
import { UsageError } from '../wiring.ts';

function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** The deployed object for the diff: its document as indented JSON, or its text when it is neither JSON nor YAML. */
function deployedForDiff(text: string): { readonly shown: string; readonly form: 'JSON' | 'YAML' | 'text' } {
  if (text === '') return { shown: '', form: 'JSON' };
  const json = looksLikeJson(text);
  let value: unknown;
  try {
    value = json ? JSON.parse(text.replace(/^\uFEFF/, '')) : undefined;
  } catch {
    value = undefined;
  }
  let form: 'JSON' | 'YAML' = 'JSON';
  if (value === undefined) {
    const read = readYaml(text.replace(/^\uFEFF/, ''));
    if (!read.usable || read.value === undefined) return { shown: text, form: 'text' };
    value = read.value;
    form = 'YAML';
  }
  try {
    return { shown: indented(value), form };
  } catch {
    // Nested too deeply for JSON.stringify: the text as it is.
    return { shown: text, form: 'text' };
  }
}

function indented(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function registerConfigPush(config: Command, io: CliIo, setExit: (code: number) => void): void {
  config
    .command('push')
    .description('validate the configuration, show the diff against the deployed one in S3, and upload it')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .requiredOption('--bucket <name>', 'the config bucket of the deployment')
    .option('--key <key>', 'the object key', DEFAULT_CONFIG_KEY)
    .option('--yes', 'upload without asking (for scripts and CI)')
    .option('--region <region>', 'AWS region (default: the SDK chain: AWS_REGION, the profile)')
    .option('--endpoint <url>', 'S3 endpoint override (a local S3 for tests)')
    .addHelpText(
      'after',
      `
The Lambda functions read the configuration from this object (the bucket and key of their
environment) and use a pushed document from their next invocation on. The document is
validated exactly as every command reads it; one with an error is never uploaded. It is
uploaded as compact JSON (the functions read JSON several times faster than YAML), so the
object is no copy of your file: keep the YAML as the source. The diff shows the deployed and
the new document as indented JSON (a deployed YAML object, from an older push, is read as
YAML); the upload is refused if the object changed since it was read (re-run).
Secrets are references only ({ secretsManager: NAME, key: K } or { ssm: /path } in a
deployment): nothing secret is uploaded.

Exit status: 0 uploaded or already up to date, 3 invalid, refused, or not confirmed.

Examples:
  $ relaywatch config push --config relaywatch.yaml --bucket acme-relaywatch-config
  $ relaywatch config push --bucket acme-relaywatch-config --key prod/relaywatch.yaml --yes`,
    )
    .action(async (opts) => {
      const path = String(opts.config);
      let text: string;
      try {
        text = decodeConfigBytes(await readFileBounded(path, MAX_CONFIG_BYTES), path);
      } catch (err) {
        throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
      }
      // Throws ConfigError (every problem, exit 3): nothing is uploaded.
      const { loaded, document } = readConfigDocument(text, path);
      for (const w of loaded.warnings) write(io.stderr, `${clean(formatProblem(w))}\n`);
      const body = configJson(document);
      // What the functions will read: the same config, or this is a bug (never upload a document that reads otherwise).
      if (!isDeepStrictEqual(parseConfigJson(body, path).config, loaded.config)) {
        throw new Error(`the JSON form of ${path} does not read back to the same configuration (a relaywatch bug)`);
      }
      // The S3 client and the diff are loaded by this command only (not by every command's start-up).
      const [{ GetObjectCommand, PutObjectCommand }, { createTwoFilesPatch }, { s3Client }] = await Promise.all([
        import('@aws-sdk/client-s3'),
        import('diff'),
        import('../../adapters/config/s3-config-source.ts'),
      ]);
      const client = s3Client({
        endpoint: opts.endpoint,
        region: opts.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
        ...(opts.endpoint && !io.env.AWS_ACCESS_KEY_ID
          ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
          : {}),
      });
      const where = `s3://${opts.bucket}/${opts.key}`;
      try {
        let deployed = '';
        let etag: string | undefined;
        try {
          const out = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: opts.key }));
          deployed = (await out.Body?.transformToString('utf8')) ?? '';
          etag = out.ETag;
        } catch (err) {
          if (!(err instanceof Error && (err.name === 'NoSuchKey' || s3Status(err) === 404))) {
            throw new UsageError(
              `cannot read ${where}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
            );
          }
        }
        if (deployed === body) {
          write(io.stdout, `${where} is up to date: nothing to upload.\n`);
          setExit(0);
          return;
        }
        const before = deployedForDiff(deployed);
        const after = indented(document);
        const label = etag
          ? `${where} (deployed${before.form === 'JSON' ? '' : `, ${before.form === 'YAML' ? 'YAML' : 'not a document'}`})`
          : `${where} (none yet)`;
        const patch = createTwoFilesPatch(label, `${path} (to push, as JSON)`, before.shown, after);
        // Each line escaped (the document is the user's, but a terminal must not run what it holds).
        write(
          io.stdout,
          patch
            .split('\n')
            .map((l) => clean(l))
            .join('\n'),
        );
        if (before.shown === after) {
          write(
            io.stdout,
            `The deployed document is ${before.form} with the same content: uploading it as JSON (what the functions read fastest).\n`,
          );
        }
        let go = opts.yes === true;
        if (!go && process.stdin.isTTY) {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          go = /^y(es)?$/i.test((await rl.question(`Upload to ${where}? [y/N] `)).trim());
          rl.close();
        }
        if (!go) {
          write(io.stderr, `relaywatch: not uploaded (confirm on a terminal, or pass --yes)\n`);
          setExit(3);
          return;
        }
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: opts.bucket,
              Key: opts.key,
              Body: Buffer.from(body, 'utf8'),
              ContentType: 'application/json',
              ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
            }),
          );
        } catch (err) {
          if (s3Status(err) === 412) {
            throw new UsageError(
              `${where} changed since it was read (someone pushed meanwhile): nothing uploaded; run again`,
            );
          }
          throw new UsageError(
            `cannot upload to ${where}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
          );
        }
        write(
          io.stdout,
          `Uploaded to ${where} (${loaded.config.tenants.length} tenant(s), ${Buffer.byteLength(body)} bytes of JSON).\n`,
        );
        setExit(0);
      } finally {
        client.destroy();
      }
    });
}
