/** Levenshtein distance; inputs here are short ids, so the quadratic table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Known names that look like a mistyped `wanted` (small edit distance, or one contains the other), closest first. */
export function findCloseMatches(wanted: string, known: Iterable<string>, limit = 3): string[] {
  const needle = wanted.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of known) {
    const candidate = name.toLowerCase();
    const distance = editDistance(needle, candidate);
    const contains = needle.length >= 3 && (candidate.includes(needle) || needle.includes(candidate));
    if (distance <= Math.max(2, Math.floor(needle.length / 3)) || contains) {
      scored.push({ name, score: contains ? Math.min(distance, 1) : distance });
    }
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}

/** ` did you mean "a" or "b"?` (with leading space), or '' when nothing is close. */
export function didYouMean(wanted: string, known: Iterable<string>): string {
  const close = findCloseMatches(wanted, known);
  if (close.length === 0) return '';
  return ` did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?`;
}
