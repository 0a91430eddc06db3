/**
 * Child process: compile the email template into a cache folder (what the first start of planet-digest does), so
 * the measured process finds a warm cache and never loads MJML (~0.5 s and ~200 MB that would otherwise count in its
 * peak RSS). Prints {"fromCache":bool,"ms":n} on stdout.
 *
 *   node --import tsx bench/planet/warm-template-cache-main.ts CACHE_DIR
 */
import { loadTemplates } from '../../src/template/load-template.js';

const cacheDir = process.argv[2];
if (!cacheDir) {
  process.stderr.write('usage: warm-template-cache-main.ts CACHE_DIR (the folder createRuntime uses: DIGEST_CACHE_DIR/templates)\n');
  process.exit(2);
}
const started = performance.now();
const templates = await loadTemplates({ cacheDir });
process.stdout.write(JSON.stringify({ fromCache: templates.info.fromCache === true, ms: Math.round(performance.now() - started) }) + '\n');
