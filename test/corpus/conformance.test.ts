import { describe, expect, it } from 'vitest';
import { readBaseline, regressions, runConformance } from '../../scripts/conformance.js';

// The conformance ratchet also runs under `npm test`: the pass count of every suite may not drop below
// scripts/conformance-baseline.json (raise it with `npm run conformance -- --update-baseline`).
describe('feed conformance (feedparser, gofeed, feedsmith corpora)', () => {
  it('passes at least as many checks as the baseline, and at least 95% of the applicable ones', async () => {
    const baseline = readBaseline();
    expect(baseline, 'scripts/conformance-baseline.json is missing').toBeDefined();
    const report = await runConformance();
    const failures = report.results.filter((r) => r.verdict === 'fail').map((r) => `[${r.suite}] ${r.file}: ${r.check}`);
    expect(regressions(report, baseline!), failures.join('\n')).toEqual([]);
    for (const suite of ['feedparser', 'gofeed', 'feedsmith'] as const) {
      expect(report.suites[suite].applicable, `${suite} ran no checks`).toBeGreaterThan(100);
    }
    expect(report.total.pass / report.total.applicable).toBeGreaterThanOrEqual(0.95);
    // Every check has exactly one verdict and every exclusion names its rule.
    expect(report.total.applicable + report.total.na).toBe(report.results.length);
    expect(report.results.filter((r) => r.verdict === 'na' && !r.rule)).toEqual([]);
  }, 180_000);
});
