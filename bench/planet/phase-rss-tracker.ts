/**
 * Peak RSS per pipeline phase of one in-process cycle, without touching src/: the runtime's store, channels,
 * template loader and progress callback are wrapped to learn which phase is running.
 *
 * The cycle runs its phases in this order: plan (store) → fetch → parse → store → deliver (select, render and send
 * interleaved per digest group) → prune (store). At each boundary between those segments the kernel's exact peak
 * (VmHWM, reset through /proc/self/clear_refs) is read and charged to the segment that ended. Inside deliver, where
 * select/render/send alternate every few milliseconds, RSS is sampled every 20 ms and charged to the phase running at
 * that moment: a lower bound per phase (a spike inside one synchronous render can be missed); deliver's exact peak
 * covers all of them. CPU time (getrusage, all threads) is charged to the phase running at each switch; since sends
 * now run alongside select/render/compose, the deliver phases' CPU split is approximate (their sum is exact). Slack digests are rendered without a hook, so their render time falls under select here (the
 * times come from RunReport.phasesMs and are exact).
 */
import { readVmHwmBytes, resetPeakRss, startPeakRssWindow } from '../lib/peak-rss.js';
import type { Runtime } from '../../src/cli/create-runtime.js';
import type { SeenStore } from '../../src/store/seen-store.js';

/** A phase as RunReport.phasesMs names it. */
export type PhaseName = 'fetch' | 'parse' | 'store' | 'select' | 'render' | 'compose' | 'send';
type Segment = 'plan' | 'fetch' | 'parse' | 'store' | 'deliver' | 'prune';

/** Peak RSS per phase of one cycle, bytes. */
export interface PhasePeaks {
  /** Exact peak of the whole cycle. */
  cycle: number;
  /** Exact peaks of the sequential segments. */
  segments: Record<Segment, number>;
  /** Per phase: fetch/parse/store exact, select/render/send sampled (lower bounds). */
  phases: Record<PhaseName, number>;
  /** Whether the exact kernel peak was available (Linux); otherwise everything is sampled. */
  exact: boolean;
  /** CPU time (user + system, all threads of the process) spent while each phase was running, ms. */
  cpuMs: Record<PhaseName, number>;
  /** process.memoryUsage() at the end of each segment (where the memory is: V8 heap, external, or native). */
  snapshots: Array<{ segment: string; peak: number } & NodeJS.MemoryUsage>;
}

/** Sampling period inside deliver: each RSS read costs ~0.1 ms on a busy machine, so 20 ms keeps the overhead ~0.5 %. */
const SAMPLE_EVERY_MS = 20;
const DELIVER_PHASES = new Set<PhaseName>(['select', 'render', 'compose', 'send']);

/** Installs the hooks on `runtime` once; call start()/stop() around each cycle. */
export class PhaseRssTracker {
  private phase: PhaseName = 'store';
  private segment: Segment = 'plan';
  private segments = emptySegments();
  private sampled = emptyPhases();
  private sampler?: NodeJS.Timeout;
  private window?: { stop(): { bytes: number; source: string } };
  private exact = false;
  private inFlight = 0;
  private active = false;
  private cpu = emptyPhases();
  private cpuMark = 0;
  private snapshots: PhasePeaks['snapshots'] = [];

  constructor(runtime: Runtime) {
    const deps = runtime.deps;
    const store = deps.store;
    const on = (method: keyof SeenStore, before: () => void, after?: () => void) => {
      const original = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
      return async (...args: unknown[]) => {
        before();
        try {
          return await original(...args);
        } finally {
          after?.();
        }
      };
    };
    const wrapped: Partial<Record<keyof SeenStore, unknown>> = {
      getSeenMaps: on('getSeenMaps', () => this.enter('store', 'plan'), () => this.enter('fetch', 'fetch')),
      appendBatch: on('appendBatch', () => this.enter('store', 'store')),
      setSeenMaps: on('setSeenMaps', () => this.enter('store', 'store')),
      setFeedStates: on('setFeedStates', () => this.enter('store', 'store')),
      // getBatches also runs while pruning old batches, after delivery.
      getBatches: on(
        'getBatches',
        () => this.enter('store', this.segment === 'prune' ? 'prune' : 'deliver'),
        () => this.enter(this.segment === 'prune' ? 'store' : 'select', this.segment),
      ),
      oldestBatchSeq: on('oldestBatchSeq', () => this.enter('store', 'prune')),
    };
    deps.store = new Proxy(store, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && prop in wrapped) return wrapped[prop as keyof SeenStore];
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });

    const progress = deps.onProgress;
    deps.onProgress = (phase, done, total) => {
      progress?.(phase, done, total);
      if (done >= total) this.enter('parse', 'parse');
    };
    const templates = deps.templates;
    deps.templates = () => {
      this.enter('render', 'deliver');
      return templates();
    };
    const channels = deps.channels;
    const sending = async <T>(send: () => Promise<T>): Promise<T> => {
      this.inFlight++;
      this.enter('send', 'deliver');
      try {
        return await send();
      } finally {
        if (--this.inFlight === 0) this.enter('select', 'deliver');
      }
    };
    deps.channels = {
      sendEmail: (message) => sending(() => channels.sendEmail(message)),
      sendSlack: (subscriber, message) => sending(() => channels.sendSlack(subscriber, message)),
      close: () => channels.close(),
    };
  }

  /** Start measuring one cycle. */
  start(): void {
    this.segments = emptySegments();
    this.sampled = emptyPhases();
    this.phase = 'store';
    this.segment = 'plan';
    this.inFlight = 0;
    this.cpu = emptyPhases();
    this.cpuMark = cpuNowMs();
    this.snapshots = [];
    this.active = true;
    this.window = startPeakRssWindow();
    this.exact = resetPeakRss() && readVmHwmBytes() !== undefined;
    this.sampler = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.sampled[this.phase]) this.sampled[this.phase] = rss;
    }, SAMPLE_EVERY_MS);
    this.sampler.unref();
  }

  /** Stop and return the peaks of the cycle. */
  stop(): PhasePeaks {
    this.chargeCpu();
    this.checkpoint();
    this.active = false;
    if (this.sampler) clearInterval(this.sampler);
    const whole = this.window?.stop().bytes ?? 0;
    const seg = this.segments;
    const cycle = Math.max(whole, ...Object.values(seg));
    const phases = emptyPhases();
    if (this.exact) {
      phases.fetch = seg.fetch;
      phases.parse = seg.parse;
      phases.store = Math.max(seg.plan, seg.store, seg.prune);
    } else {
      phases.fetch = this.sampled.fetch;
      phases.parse = this.sampled.parse;
      phases.store = this.sampled.store;
    }
    for (const p of DELIVER_PHASES) phases[p] = this.sampled[p];
    return { cycle, segments: { ...seg }, phases, exact: this.exact, cpuMs: { ...this.cpu }, snapshots: this.snapshots };
  }

  private enter(phase: PhaseName, segment: Segment): void {
    if (!this.active || (phase === this.phase && segment === this.segment)) return;
    // No RSS read here: inside deliver the phase changes thousands of times, and each read costs ~0.1 ms. CPU time
    // (getrusage) costs about a microsecond.
    this.chargeCpu();
    if (segment !== this.segment) {
      this.checkpoint();
      this.segment = segment;
    }
    this.phase = phase;
  }

  private chargeCpu(): void {
    const now = cpuNowMs();
    this.cpu[this.phase] += now - this.cpuMark;
    this.cpuMark = now;
  }

  private checkpoint(): void {
    const memory = process.memoryUsage();
    if (!this.exact) {
      this.segments[this.segment] = Math.max(this.segments[this.segment], memory.rss);
    } else {
      const hwm = readVmHwmBytes() ?? 0;
      this.segments[this.segment] = Math.max(this.segments[this.segment], hwm);
      resetPeakRss();
    }
    this.snapshots.push({ segment: this.segment, peak: this.segments[this.segment], ...memory });
  }
}

function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function emptySegments(): Record<Segment, number> {
  return { plan: 0, fetch: 0, parse: 0, store: 0, deliver: 0, prune: 0 };
}

function emptyPhases(): Record<PhaseName, number> {
  return { fetch: 0, parse: 0, store: 0, select: 0, render: 0, compose: 0, send: 0 };
}
