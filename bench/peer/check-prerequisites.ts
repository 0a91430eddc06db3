/**
 * The peer benchmark needs Debian packages and the peer scripts; this says clearly what is missing and how to get it
 * (the benchmark is not part of CI, so nothing is installed behind the user's back).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** Files of the peer-bench folder the benchmark copies and runs (the workload is the same for both tools). */
export const PEER_SCRIPTS = ['gen_feeds.py', 'http_server.py', 'smtp_sink.py'] as const;

/** Problems found, each with what to do; empty when everything is there. */
export function checkPrerequisites(peerDir: string): string[] {
  const problems: string[] = [];
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const install = 'apt-get update && apt-get install -y rss2email python3-aiosmtpd time';
  if (!executable('/usr/bin/r2e')) problems.push(`rss2email is not installed (/usr/bin/r2e missing): run \`${install}\` (Debian package rss2email).`);
  if (!executable('/usr/bin/time')) problems.push(`GNU time is not installed (/usr/bin/time missing): run \`${install}\` (Debian package time).`);
  if (!executable('/usr/bin/python3')) {
    problems.push(`/usr/bin/python3 is missing: run \`${install}\`.`);
  } else if (spawnSync('/usr/bin/python3', ['-c', 'import aiosmtpd'], { encoding: 'utf8' }).status !== 0) {
    problems.push(`the SMTP sink needs aiosmtpd for /usr/bin/python3: run \`${install}\` (Debian package python3-aiosmtpd).`);
  }
  for (const script of PEER_SCRIPTS) {
    if (!existsSync(path.join(peerDir, script))) {
      problems.push(`${path.join(peerDir, script)} not found: point PEERBENCH_SRC at the peer-bench folder (default ../shared/peer-bench next to the repository).`);
    }
  }
  return problems;
}
