/**
 * The peer benchmark runs the real CLI from the bundled dist/ (what users run); this builds it first when dist/ is
 * missing or older than src/, and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** What ensureBuild did. */
export interface BuildStatus {
  built: boolean;
  reason?: string;
  ms?: number;
}

/**
 * Why dist/ needs a build, or undefined when it is fresh. Same test as bin/planet-digest.js, which runs the TypeScript
 * sources through tsx (slower, bigger) when any file under src/ is newer than dist/cli/main.js.
 */
export function staleBuildReason(root: string): string | undefined {
  const main = path.join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) return 'dist/ is missing';
  const srcNewest = newestMtimeMs(path.join(root, 'src'));
  if (srcNewest > statSync(main).mtimeMs) return `dist/ is older than src/ (src changed ${new Date(srcNewest).toISOString()})`;
  return undefined;
}

/** What bin/planet-digest.js prints on stderr when it falls back to the sources. */
export const SOURCE_FALLBACK_NOTICE = 'running from source';

/** Build dist/ with `npm run build` when dist/cli/main.js is missing or older than the newest file under src/. */
export function ensureBuild(root: string, log: (line: string) => void): BuildStatus {
  const main = path.join(root, 'dist', 'cli', 'main.js');
  const reason = staleBuildReason(root);
  if (!reason) return { built: false };
  log(`${reason}: running npm run build…`);
  const started = Date.now();
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  const ms = Date.now() - started;
  // esbuild (scripts/build-bundle.mjs) ignores type errors; it fails on syntax or import errors, and then leaves the
  // old dist/ in place, which bin/ would not run (older than src/): nothing to benchmark.
  if (result.status !== 0 || !existsSync(main)) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  log(`built dist/ in ${(ms / 1000).toFixed(1)} s`);
  return { built: true, reason, ms };
}
