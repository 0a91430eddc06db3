#!/usr/bin/env node
// Runs the bundled CLI (dist/cli/main.js, built by `npm run build`, which `npm install` runs through the prepare
// script). Falls back to the TypeScript sources through tsx in a checkout that has not been built, when src/ changed
// after the last build (say, after a `git pull`), or when PLANET_DIGEST_SOURCE=1 (tests, development).
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { applyCliV8Flags } from './v8-flags.js';

// Before anything else is loaded (see bin/v8-flags.js for each flag and why).
applyCliV8Flags();

// Node 22.1+ (the Docker image runs 24): V8 keeps the compiled code of the bundle in a cache folder (default under the
// OS temp dir; NODE_COMPILE_CACHE names another, NODE_DISABLE_COMPILE_CACHE=1 turns it off), so later starts skip
// compiling 3 MB of JavaScript. Node 20 has no compile cache; there this does nothing. TypeScript's tsc does the same.
module.enableCompileCache?.();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');
const sources = path.join(root, 'src');

/** Newest modification time under a folder (a few hundred files: a millisecond or two). */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

let useSource = process.env.PLANET_DIGEST_SOURCE === '1' || !existsSync(compiled);
if (!useSource && existsSync(sources) && newestMtime(sources) > statSync(compiled).mtimeMs) {
  process.stderr.write('planet-digest: src/ is newer than dist/; running from source (run `npm run build` to compile).\n');
  useSource = true;
}
let entry;
if (useSource) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = await import(pathToFileURL(path.join(sources, 'cli', 'main.ts')).href);
} else {
  entry = await import(pathToFileURL(compiled).href);
}
await entry.main();
