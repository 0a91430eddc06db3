/**
 * Dates in the defaults (en-GB, UTC) are formatted without Intl (see utcEnGbFormats): they must read exactly as ICU
 * writes them. "Etc/UTC" is the same zone under another name, so it goes through Intl with the same output.
 */
import { describe, expect, it } from 'vitest';
import { createDateFormatter } from '../../src/render/create-date-formatter.js';
import { createSeededRandom } from '../../bench/lib/seeded-random.js';

const NOW = new Date('2026-11-26T05:00:00Z');
const fast = () => createDateFormatter('UTC', { now: NOW });
const intl = () => createDateFormatter('Etc/UTC', { now: NOW });

/** Random instants from 1990 to 2060, at minute, second or millisecond precision. */
function randomInstants(count: number, seed: number): Date[] {
  const random = createSeededRandom(seed).next;
  const from = Date.UTC(1990, 0, 1);
  const to = Date.UTC(2060, 0, 1);
  return Array.from({ length: count }, () => new Date(from + Math.floor(random() * (to - from))));
}

const EDGES = [
  '2026-01-01T00:00:00Z',
  '2026-12-31T23:59:59.999Z',
  '2026-09-05T04:07:00Z', // "Sept"
  '2025-09-30T12:00:00Z',
  '2024-02-29T09:05:00Z',
  '1000-01-01T00:00:00Z',
  '9999-12-31T23:59:00Z',
  '0999-12-31T23:59:00Z', // outside the fast path: Intl
  '+012345-01-01T00:00:00Z',
  '-000005-06-01T00:00:00Z',
].map((iso) => new Date(iso));

describe('createDateFormatter in en-GB and UTC reads as ICU writes', () => {
  const instants = [...EDGES, ...randomInstants(3000, 7)];

  it.each([
    ['entry', (f: ReturnType<typeof fast>, d: Date) => f.entry(d.toISOString())],
    ['day', (f: ReturnType<typeof fast>, d: Date) => f.day(d.toISOString())],
    ['period of one instant', (f: ReturnType<typeof fast>, d: Date) => f.period(undefined, d.toISOString())],
  ] as const)('%s', (_name, format) => {
    const a = fast();
    const b = intl();
    for (const d of instants) expect(format(a, d), d.toISOString()).toBe(format(b, d));
  });

  it('this year leaves the year out; another year shows it', () => {
    expect(fast().entry('2026-09-05T04:07:00Z')).toBe('5 Sept, 04:07');
    expect(fast().entry('2025-09-05T04:07:00Z')).toBe('5 Sept 2025, 04:07');
  });

  it.each([
    ['the same minute', 0, 30_000],
    ['the same day', 1, 5 * 3_600_000],
    ['crossing midnight', 2, 4 * 3_600_000],
    ['a day apart', 3, 86_400_000],
    ['a week apart', 4, 7 * 86_400_000],
    ['across months and years', 5, 400 * 86_400_000],
  ])('periods: %s', (_name, seed, maxSpanMs) => {
    const random = createSeededRandom(100 + seed).next;
    const a = fast();
    const b = intl();
    for (const start of randomInstants(1000, seed)) {
      const end = new Date(start.getTime() + Math.floor(random() * maxSpanMs));
      expect(a.period(start.toISOString(), end.toISOString()), `${start.toISOString()} – ${end.toISOString()}`).toBe(b.period(start.toISOString(), end.toISOString()));
    }
  });

  it('formats a range within a day once, and a range across days in full', () => {
    expect(fast().period('2026-09-05T04:07:00Z', '2026-09-05T09:30:00Z')).toBe('5 Sept 2026, 04:07–09:30 UTC');
    expect(fast().period('2026-09-05T04:07:00Z', '2026-09-06T04:07:00Z')).toBe('5 Sept 2026, 04:07 UTC – 6 Sept 2026, 04:07 UTC');
  });
});
