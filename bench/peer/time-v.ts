/**
 * Runs a command under GNU time (`/usr/bin/time -v`), the way the peer scripts measure rss2email (bench_lib.timed),
 * and reads wall time, CPU time and peak RSS from its report.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

/** What /usr/bin/time -v reports, in the units the peer scripts use. */
export interface TimeV {
  wallS: number;
  userS: number;
  sysS: number;
  /** user + system. */
  cpuS: number;
  maxRssMb: number;
  exitStatus: number;
}

/** Parse the report of `/usr/bin/time -v` (port of bench_lib.parse_time_v). */
export function parseTimeV(text: string): TimeV {
  const grab = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const wallMatch = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(text);
  const wallS = wallMatch ? wallMatch[1]!.split(':').map(Number).reverse().reduce((sum, part, i) => sum + part * 60 ** i, 0) : NaN;
  const userS = grab(/User time \(seconds\): ([\d.]+)/) ?? NaN;
  const sysS = grab(/System time \(seconds\): ([\d.]+)/) ?? NaN;
  const rssKb = grab(/Maximum resident set size \(kbytes\): (\d+)/) ?? NaN;
  return { wallS, userS, sysS, cpuS: userS + sysS, maxRssMb: rssKb / 1024, exitStatus: grab(/Exit status: (\d+)/) ?? 0 };
}

/** Result of timedRun. */
export interface TimedRun extends TimeV {
  /** Exit code of `time` itself (the command's, unless time failed). */
  code: number | null;
  stdoutFile: string;
  stderrFile: string;
}

/** Run `cmd` under /usr/bin/time -v with stdout/stderr to files (prefix.out / prefix.err, report in prefix.time). */
export async function timedRun(cmd: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logPrefix: string }): Promise<TimedRun> {
  const timeFile = `${options.logPrefix}.time`;
  const stdoutFile = `${options.logPrefix}.out`;
  const stderrFile = `${options.logPrefix}.err`;
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, ...cmd], { cwd: options.cwd, env: options.env, stdio: ['ignore', out, err] });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    return { ...parseTimeV(readFileSync(timeFile, 'utf8')), code, stdoutFile, stderrFile };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}
