/**
 * Prints where the time went in a V8 CPU profile (from `node --cpu-prof`, `npm run bench -- --profile` or
 * `npm run bench:peer -- --profile`): self time per package / src stage and the top functions.
 *
 *   npx tsx bench/summarize-profile.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distAsSrc, formatProfileSummary } from './planet/cpu-profiler.js';

const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/summarize-profile.ts FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const root = fileURLToPath(new URL('../', import.meta.url));
const profile = JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof distAsSrc>[0];
process.stdout.write(`${formatProfileSummary(distAsSrc(profile, root), root, Number(top ?? 25)).text}\n`);
