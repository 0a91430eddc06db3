/**
 * `npm run build`: bundles the CLI with esbuild into dist/ (what bin/planet-digest.js runs).
 *
 *   dist/cli/main.js    the entry: commander, config, store, fetch and the pipeline a cycle always needs
 *   dist/chunks/*.js    shared code and everything imported lazily (parser, renderer, MJML path, dispatch channels,
 *                       serve, admin, preview…), loaded only by the commands and cycles that need it
 *   dist/template/load-template.js   loadTemplates, for the step below
 *   dist/template-cache/digest-*.json   templates/digest.mjml compiled by MJML now, so a fresh install (or an empty
 *                       DIGEST_CACHE_DIR) never loads MJML at run time for the stock template: a first run 0.4 s and
 *                       20 MB lighter (issue 7). A failure here only warns: the CLI then compiles on first use.
 *
 * Why a bundle: a cycle that finds nothing new is mostly Node.js loading modules; one file per package instead of
 * hundreds (resolution, reads, compilation) cut `planet-digest --help` from about 0.65 s to 0.35 s (issue 7).
 * Both output folders sit two levels below the package root, like src/cli/, so paths resolved from import.meta.url
 * (../../package.json, ../../templates/) stay right. Type errors do not stop the build (`npm run typecheck` does that),
 * as they did not with tsc's emit.
 *
 * External (loaded from node_modules at run time): native addons and their packages (sqlite3, pg and the @keyv
 * adapters around them), packages too big or too dynamic to bundle and only needed on some paths (mjml, playwright-core,
 * pino-pretty).
 *
 *   node scripts/build-bundle.mjs                 # into dist/ (what npm run build does)
 *   node scripts/build-bundle.mjs --outdir DIR    # elsewhere (test/cli/bundle.test.ts); DIR/../package.json must exist
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages left to Node.js's own resolution at run time. */
const EXTERNAL_PACKAGES = ['sqlite3', 'pg', 'pg-native', '@keyv/postgres', '@keyv/redis', 'mjml', 'playwright-core', 'pino-pretty'];

/**
 * Every importer of "luxon" gets its CommonJS build: cron-parser require()s it, src/schedule/pin-cron-defaults.ts imports
 * it, and luxon's package exports give those two different files (two copies, two Settings). One copy means the locale
 * pinned by src/ is the one cron-parser uses (and 100 KB less to compile).
 */
const singleLuxon = {
  name: 'single-luxon',
  setup(b) {
    const cjs = path.join(root, 'node_modules', 'luxon', 'build', 'node', 'luxon.js');
    b.onResolve({ filter: /^luxon$/ }, () => ({ path: cjs }));
  },
};

const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(values.outdir ?? path.join(root, 'dist'));
// Built next to the old output, then swapped in: a CLI started meanwhile finds either the old bundle or the new one,
// not a half-written mix.
const building = `${outdir}.building-${process.pid}`;
const previous = `${outdir}.previous-${process.pid}`;
rmSync(building, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts', 'template/load-template': 'src/template/load-template.ts' },
  outdir: building,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL_PACKAGES,
  // Bundled CommonJS packages call require() for Node built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __pdCreateRequire } from 'node:module'; const require = __pdCreateRequire(import.meta.url);" },
  // Whitespace and syntax minified, names kept (stack traces and profiles stay readable): less for V8 to read and
  // compile on every start (nothing-changed cycle: about 3% less CPU and 4 MB less peak RSS).
  minifyWhitespace: true,
  minifySyntax: true,
  // Linked source maps: Node ignores them unless started with --enable-source-maps; profilers and debuggers use them.
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [singleLuxon],
});
// Compiled from the new output, before the swap: the cache is complete when the bundle appears.
try {
  const { loadTemplates } = await import(pathToFileURL(path.join(building, 'template', 'load-template.js')).href);
  const compiled = await loadTemplates({ cacheDir: path.join(building, 'template-cache'), prebuiltDir: path.join(building, 'template-cache') });
  if (compiled.info.fromCache) throw new Error('unexpected cache hit in a new build');
} catch (error) {
  process.stderr.write(`warning: the stock email template was not compiled ahead (${error instanceof Error ? error.message : String(error)}); it will be compiled on first use\n`);
}
if (existsSync(outdir)) renameSync(outdir, previous);
renameSync(building, outdir);
rmSync(previous, { recursive: true, force: true });

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
process.stdout.write(`${outdir.startsWith(root + path.sep) ? path.relative(root, outdir) : outdir}: ${outputs.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB of JavaScript, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
