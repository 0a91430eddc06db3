// V8 flags planet-digest sets for its own process at run time: they work however node was started, which NODE_OPTIONS
// cannot do for these flags (it refuses them). Used by bin/planet-digest.js before anything else is loaded, and by
// the Planet benchmark (bench/planet-bench.ts), which drives cycles in its own process and must run under the same
// flags. Only flags V8 reads when it compiles or sizes something take effect at run time: threading flags such as
// --single-threaded-gc crash the process when set this way. Measured for issue 7.
import v8 from 'node:v8';

/** The flags, each with why. A flag given on node's own command line (`node --heap-growing-percent=50 …`) wins. */
export const CLI_V8_FLAGS = [
  // V8 grows the old generation by a factor it picks from GC speed, up to 4x the live size after a full GC; a cycle
  // allocates mostly short-lived strings (feed XML, rendered digests, MIME bodies), so the heap ran far ahead of what was
  // live. Growing by 20% at a time costs more frequent major GCs and no measurable time: 500 feeds to 10,100
  // subscribers, default heap limit, peak RSS 485 -> 319 MB, cycle 32.7 -> 25.1 s (npm run bench).
  '--heap-growing-percent=20',
];

/** Applies CLI_V8_FLAGS to this process, except flags also given in `execArgv`. */
export function applyCliV8Flags(execArgv = process.execArgv) {
  const given = new Set(execArgv.map((a) => a.split('=')[0].replace(/_/g, '-')));
  for (const flag of CLI_V8_FLAGS) {
    if (!given.has(flag.split('=')[0])) v8.setFlagsFromString(flag);
  }
}

/**
 * Flags V8 reads only when the process starts, so they must be on node's command line or in NODE_OPTIONS: `npm start`,
 * the Docker image (NODE_OPTIONS) and the benchmarks run the CLI with them, and the README asks cron jobs and service
 * units to do the same. test/cli/launch-flags.test.ts keeps those places in step with this list.
 */
export const LAUNCH_NODE_FLAGS = [
  // V8's young generation grows to two 16 MB semi-spaces when a cycle allocates fast (feed XML, rendered digests), and
  // keeps them. 8 MB each: first run of 220 feeds 183-187 -> 168-169 MB peak RSS (4 A/B pairs, time 3.2-4.1 against
  // 3.1-3.7 s); 500 feeds to 10,100 subscribers 327 -> 301 MB, cycle 24.1 -> 23.7 s. 4 MB was slower there.
  '--max-semi-space-size=8',
];
