/**
 * V8 flags that only work at process start (bin/v8-flags.js, LAUNCH_NODE_FLAGS) must be where the CLI is started:
 * `npm start` and the Docker image's NODE_OPTIONS. And they must take effect: a CLI started that way runs with a
 * young generation of at most 2 × 8 MB.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAUNCH_NODE_FLAGS } from '../../bin/v8-flags.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(root + file, 'utf8');

describe('launch flags', () => {
  it.each(LAUNCH_NODE_FLAGS)('%s is on `npm start` and in the Docker image', (flag) => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(new RegExp(`^node ${flag} bin/planet-digest\\.js `));
    expect(read('Dockerfile')).toMatch(new RegExp(`^\\s*NODE_OPTIONS=${flag}\\b`, 'm'));
  });

  it('node honours them (young generation capped at 2 × 8 MB under allocation)', () => {
    const probe = `const v8 = require('node:v8'); const keep = []; for (let i = 0; i < 3e6; i++) keep.push({ i });
      process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
    const run = (flags: readonly string[]) => Number(spawnSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' }).stdout);
    expect(run(LAUNCH_NODE_FLAGS)).toBeLessThanOrEqual(16 * 2 ** 20);
    // Without them V8 grows it beyond (the check above could not fail otherwise).
    expect(run([])).toBeGreaterThan(16 * 2 ** 20);
  });
});
