/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and says where the time went: self and inclusive time per
 * function, and self time per category (a package under node_modules, an area of our src/, a node: built-in module,
 * GC, idle). Built-ins without a script (RegExp, JSON, string functions) are charged to the category of their
 * nearest caller that has one, so a regex run by our normalization counts as our normalization.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One node of the profile's call tree. */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string | number };
  hitCount?: number;
  children?: number[];
}

/** The .cpuprofile JSON (Chrome DevTools protocol Profiler.Profile). */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds, in the V8 monotonic clock (on Linux the same clock as process.hrtime). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Time spent in one function (all call sites together). */
export interface FunctionTime {
  name: string;
  /** "node_modules/sax/lib/sax.js:1033", "src/parse/xml-node.ts:27" (.ts lines found by name), "(native)". */
  location: string;
  category: string;
  selfMs: number;
  /** Time with the function anywhere on the stack (recursion counted once). */
  totalMs: number;
}

/** Self time of one category. */
export interface CategoryTime {
  category: string;
  selfMs: number;
  /** Share of the analysed time, 0–1. */
  share: number;
}

/** Result of summarizeCpuProfile. */
export interface ProfileSummary {
  /** Analysed time (the window, or the whole profile). */
  analysedMs: number;
  samples: number;
  /** Whether the given window matched the profile's clock and was applied. */
  windowApplied: boolean;
  /** Every function, by self time (largest first). */
  functions: FunctionTime[];
  /** Every category, by self time (largest first). */
  categories: CategoryTime[];
}

const SPECIAL: Record<string, string> = {
  '(garbage collector)': 'GC',
  '(program)': 'V8/native (program)',
  '(idle)': 'idle (waiting for I/O)',
  '(root)': 'V8/native (program)',
};

function toPath(url: string): string | undefined {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return undefined;
    }
  }
  return url.startsWith('/') ? url : undefined;
}

/** Category of a script URL; undefined for built-ins that have none (they inherit their caller's). */
export function categoryOfUrl(url: string, root: string): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('node:')) {
    const seg = url.slice(5).replace(/^internal\//, '').replace(/^deps\//, '').split('/')[0]!.replace(/\.[cm]?js$/, '');
    return `node:${seg}`;
  }
  const path = toPath(url);
  if (!path) return 'other';
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const base = root.endsWith('/') ? root : root + '/';
  if (path.startsWith(base + 'src/')) return 'src/' + path.slice(base.length + 4).split('/')[0];
  if (path.startsWith(base + 'bench/')) return 'bench';
  return 'other';
}

const sources = new Map<string, string[] | null>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * 1-based line where `name` is defined in a TypeScript file, found by name. tsx compiles with minifyWhitespace, so
 * the profile gives line 0 for everything in .ts files; the function's name is what survives (keepNames).
 */
export function findDefinitionLine(path: string, name: string): number | undefined {
  let lines = sources.get(path);
  if (lines === undefined) {
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch {
      lines = null;
    }
    sources.set(path, lines);
  }
  const local = name.split('.').pop() ?? '';
  if (!lines || !/^[\w$]+$/.test(local)) return undefined;
  const n = escapeRegExp(local);
  const patterns = [
    new RegExp(`\\bfunction\\*?\\s+${n}\\s*[<(]`),
    new RegExp(`\\b(?:const|let|var)\\s+${n}\\s*(?::[^=]*)?=`),
    new RegExp(`^\\s*(?:(?:public|private|protected|static|async|override|readonly|get|set)\\s+)*${n}\\s*[<(]`),
    new RegExp(`\\b${n}\\s*:\\s*(?:async\\s*)?(?:function\\b|\\()`),
  ];
  for (const re of patterns) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return i + 1;
  }
  return undefined;
}

function locationOf(url: string, name: string, line: number, root: string): string {
  if (!url) return '(native)';
  const path = toPath(url);
  if (!path) return `${url}:${line + 1}`;
  const nm = path.lastIndexOf('/node_modules/');
  const base = root.endsWith('/') ? root : root + '/';
  const shown = nm >= 0 ? path.slice(nm + 1) : path.startsWith(base) ? path.slice(base.length) : path;
  if (/\.[cm]?ts$/.test(path) && line === 0) {
    const found = findDefinitionLine(path, name);
    return found !== undefined ? `${shown}:${found}` : shown;
  }
  return `${shown}:${line + 1}`;
}

/**
 * Self/inclusive time per function and self time per category. `window` (microseconds, profile clock) restricts the
 * analysis to samples taken inside it; it is ignored (windowApplied false) when it does not overlap the profile.
 */
export function summarizeCpuProfile(profile: CpuProfile, options: { root: string; window?: { startUs: number; endUs: number } }): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  // Per node: function key, display facts and category (built-ins inherit the nearest caller's category).
  const keyOf = new Map<number, string>();
  const facts = new Map<string, { name: string; location: string; category: string }>();
  const categoryOfNode = new Map<number, string>();
  const resolveCategory = (id: number): string => {
    const known = categoryOfNode.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const special = SPECIAL[node.callFrame.functionName];
    let category = special && !node.callFrame.url ? special : categoryOfUrl(node.callFrame.url, options.root);
    if (category === undefined) {
      const p = parent.get(id);
      category = p === undefined ? 'V8/native (program)' : resolveCategory(p);
      if (category === 'V8/native (program)' || category === 'GC' || category.startsWith('idle')) category = 'V8 built-ins';
    }
    categoryOfNode.set(id, category);
    return category;
  };
  for (const node of profile.nodes) {
    const cf = node.callFrame;
    const category = resolveCategory(node.id);
    // A built-in is listed once per caller category ("replace" from src/parse apart from "replace" from sax).
    const key = cf.url ? `${cf.functionName}|${cf.url}|${cf.lineNumber}|${cf.columnNumber}` : `${cf.functionName}||${category}`;
    keyOf.set(node.id, key);
    if (!facts.has(key)) facts.set(key, { name: cf.functionName || '(anonymous)', location: locationOf(cf.url, cf.functionName, cf.lineNumber, options.root), category });
  }

  // Sample i lasts until sample i+1 (DevTools' convention); the last one gets the mean interval.
  const n = profile.samples.length;
  const times = new Array<number>(n);
  let t = profile.startTime;
  for (let i = 0; i < n; i++) {
    t += profile.timeDeltas[i] ?? 0;
    times[i] = t;
  }
  const meanInterval = n > 1 ? (times[n - 1]! - times[0]!) / (n - 1) : 0;
  const win = options.window;
  const windowApplied = win !== undefined && n > 0 && win.startUs < times[n - 1]! && win.endUs > times[0]!;

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const categories = new Map<string, number>();
  let analysed = 0;
  let counted = 0;
  const onStack = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (windowApplied && (times[i]! < win.startUs || times[i]! > win.endUs)) continue;
    const duration = i + 1 < n ? times[i + 1]! - times[i]! : meanInterval;
    const id = profile.samples[i]!;
    const key = keyOf.get(id);
    if (key === undefined) continue;
    counted++;
    analysed += duration;
    self.set(key, (self.get(key) ?? 0) + duration);
    const category = resolveCategory(id);
    categories.set(category, (categories.get(category) ?? 0) + duration);
    onStack.clear();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) onStack.add(keyOf.get(cur)!);
    for (const k of onStack) total.set(k, (total.get(k) ?? 0) + duration);
  }

  const functions: FunctionTime[] = [...facts.entries()]
    .filter(([key]) => total.has(key))
    .map(([key, f]) => ({ ...f, selfMs: (self.get(key) ?? 0) / 1000, totalMs: (total.get(key) ?? 0) / 1000 }))
    .sort((a, b) => b.selfMs - a.selfMs || b.totalMs - a.totalMs);
  const categoryList: CategoryTime[] = [...categories.entries()]
    .map(([category, us]) => ({ category, selfMs: us / 1000, share: analysed > 0 ? us / analysed : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { analysedMs: analysed / 1000, samples: counted, windowApplied, functions, categories: categoryList };
}
