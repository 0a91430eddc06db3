/**
 * Peak resident memory of the current process, per measured section where Linux allows it.
 *
 * process.resourceUsage().maxRSS is the peak since the process started. On Linux, /proc/self/status VmHWM is the
 * same figure, and writing "5" to /proc/self/clear_refs (Linux ≥ 4.0) resets it to the current RSS, which gives the
 * peak of one section. That reset also lowers what getrusage reports, so the lifetime peak is remembered here before
 * each reset (processMaxRssBytes). Where the reset is unavailable, the section's peak is sampled with
 * process.memoryUsage.rss() every few milliseconds, which misses spikes inside long synchronous work.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A measured peak. */
export interface PeakRss {
  bytes: number;
  /** vmhwm: exact kernel high-water mark for the section; sampled: polled maximum (a lower bound). */
  source: 'vmhwm' | 'sampled';
}

/** Highest peak seen before a reset of the kernel's mark. */
let peakBeforeResets = 0;

/** Peak RSS since the process started, bytes (resourceUsage().maxRSS is in KiB), resets of the kernel mark included. */
export function processMaxRssBytes(): number {
  return Math.max(peakBeforeResets, process.resourceUsage().maxRSS * 1024, readVmHwmBytes() ?? 0);
}

/** VmHWM from /proc/self/status in bytes, or undefined off Linux. */
export function readVmHwmBytes(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Reset the kernel's peak-RSS mark to the current RSS; false when the platform does not allow it. */
export function resetPeakRss(): boolean {
  peakBeforeResets = processMaxRssBytes();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Start measuring the peak RSS of a section; stop() returns it. */
export function startPeakRssWindow(sampleEveryMs = 5): { stop(): PeakRss } {
  const exact = resetPeakRss() && readVmHwmBytes() !== undefined;
  let sampled = process.memoryUsage.rss();
  const timer = exact
    ? undefined
    : setInterval(() => {
        sampled = Math.max(sampled, process.memoryUsage.rss());
      }, sampleEveryMs);
  timer?.unref();
  return {
    stop(): PeakRss {
      if (timer) clearInterval(timer);
      if (exact) return { bytes: readVmHwmBytes() ?? processMaxRssBytes(), source: 'vmhwm' };
      return { bytes: Math.max(sampled, process.memoryUsage.rss()), source: 'sampled' };
    },
  };
}

let gcFn: (() => void) | undefined | null;

/**
 * Run a full garbage collection when possible, so one section's garbage does not count as the next one's memory.
 * Uses global.gc (node --expose-gc) or enables it at run time; returns false when neither works.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    gcFn = null;
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') gcFn = existing;
    else {
      try {
        setFlagsFromString('--expose-gc');
        const fn = runInNewContext('gc') as unknown;
        if (typeof fn === 'function') gcFn = fn as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  if (!gcFn) return false;
  gcFn();
  return true;
}
