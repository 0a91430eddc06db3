#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the prepare script); falls back to the TypeScript
// sources through tsx in a checkout that has not been built yet, or when PLANET_DIGEST_SOURCE=1 (tests, development).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');
let entry;
if (process.env.PLANET_DIGEST_SOURCE !== '1' && existsSync(compiled)) {
  entry = await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = await import(pathToFileURL(path.join(root, 'src', 'cli', 'main.ts')).href);
}
await entry.main();
