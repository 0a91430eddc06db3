/**
 * In-process V8 CPU profiling of a section (the same sampling profiler as `node --cpu-prof`, started and stopped
 * around the measured cycles only, so start-up and fixture generation stay out of the profile).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { fixed, textTable } from '../lib/text-table.js';

/** A running profiler; stop() returns the profile. */
export interface SectionProfiler {
  stop(): Promise<CpuProfile>;
}

/** Start the V8 sampling profiler in this process (sampling every `intervalUs`, default 500 µs). */
export async function startSectionProfiler(intervalUs = 500): Promise<SectionProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      await session.post('Profiler.disable');
      session.disconnect();
      return profile;
    },
  };
}

/** Write the profile as `<dir>/<name>.cpuprofile` (open it in Chrome DevTools or VS Code); returns the path. */
export function writeCpuProfile(profile: CpuProfile, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/**
 * The profile with dist/ scripts shown as their src/ counterpart (dist/fetch/poll-feeds.js → src/fetch/poll-feeds.ts),
 * so a profile of the compiled CLI is grouped by the same areas as one taken under tsx. Line numbers stay dist's.
 */
export function distAsSrc(profile: CpuProfile, root: string): CpuProfile {
  const base = `file://${root.endsWith('/') ? root : root + '/'}`;
  return {
    ...profile,
    nodes: profile.nodes.map((n) =>
      n.callFrame.url.startsWith(`${base}dist/`)
        ? { ...n, callFrame: { ...n.callFrame, url: `${base}src/${n.callFrame.url.slice(base.length + 5).replace(/\.js$/, '.ts')}` } }
        : n,
    ),
  };
}

/** Top functions by self time and time per category, as text tables. */
export function formatProfileSummary(profile: CpuProfile, root: string, top = 25): { text: string; summary: ProfileSummary } {
  const summary = summarizeCpuProfile(distAsSrc(profile, root), { root });
  const categories = textTable(
    ['category', 'self ms', 'share'],
    summary.categories.slice(0, 15).map((c) => [c.category, fixed(c.selfMs), `${fixed(c.share * 100, 1)}%`]),
    new Set([1, 2]),
  );
  const functions = textTable(
    ['function', 'where', 'self ms', 'total ms'],
    summary.functions.slice(0, top).map((f) => [f.name.slice(0, 44), f.location.slice(0, 72), fixed(f.selfMs), fixed(f.totalMs)]),
    new Set([2, 3]),
  );
  return { text: `${fixed(summary.analysedMs)} ms profiled\n\n${categories}\n\n${functions}`, summary };
}
