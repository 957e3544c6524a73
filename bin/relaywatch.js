#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=50
// --max-semi-space-size=16: a 16 MB young generation rather than one sized from the machine's memory keeps the
// DNS/SPF cycle of 1,000 domains under 256 MB peak RSS at no cost in speed, and a 1,000-domain `check --json` on
// SQLite and on DynamoDB (BENCHMARKS.md, "CLI memory with a DynamoDB store").
// --heap-growing-percent=50: after each full collection the old generation may grow to 1.5 times what survived
// (V8 picks up to 4 times by itself), so the state stage's short-lived request garbage cannot pile up: the first
// DynamoDB cycle of 1,000 domains peaked at 231-280 MB without it and 205-218 MB with it, at the same speed; no
// hard cap, so a larger MSP still gets the heap it needs (BENCHMARKS.md, "CLI memory").
// The relaywatch command. In a checkout it runs the TypeScript sources directly (Node.js 24 strips types natively,
// so there is no build step); installed as a package (under node_modules, where Node does not strip types) it runs
// the compiled build from `npm run build`.
import { existsSync } from 'node:fs';
import module from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `relaywatch needs Node.js 24 or later; this is ${process.version}. Run it through npm (npm start / npm run relaywatch -- …), which uses the Node 24 pinned in node_modules, or install Node 24.\n`,
  );
  process.exit(3);
}
// Node's on-disk compile cache (in the OS temp directory; NODE_COMPILE_CACHE=DIR picks another,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): from the second run on, the modules' compiled code, and in a checkout
// their type-stripped sources, come from it, so start-up neither strips types nor compiles them again. That is about
// 15-25 MB less peak RSS and a faster start (BENCHMARKS.md, "CLI memory"). A cache that cannot be written is skipped.
module.enableCompileCache?.();
const compiled = new URL('../dist/shared/cli/main.js', import.meta.url);
const source = new URL('../shared/cli/main.ts', import.meta.url);
const installed = source.pathname.includes('/node_modules/');
const { main } = await import(installed || !existsSync(source) ? compiled.href : source.href);
await main();
