import { readFileSync } from 'node:fs';
import { parseFeed } from '../../../src/parse/parse-feed.ts';
for (const f of ['/work/shared/corpus/realpython-reader/tests/realpython_20180919.xml', '/work/shared/corpus/rss-parser/input/giantbomb-podcast.rss', '/work/shared/corpus/feedjira/sample_feeds/CRE.xml']) {
  const text = readFileSync(f, 'utf8');
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await parseFeed(text, { feedId: 'x', url: 'https://realpython.com/atom.xml' });
    console.log(f.split('/').pop(), (performance.now() - t0).toFixed(0), 'ms', r.entries.length, process.memoryUsage().heapUsed >> 20, 'MB');
  }
}
const r = await parseFeed(readFileSync('/work/shared/corpus/realpython-reader/tests/realpython_20180919.xml', 'utf8'), { feedId: 'x', url: 'https://realpython.com/atom.xml' });
console.log(r.entries[2].title, '|', r.entries[2].summary);
console.log(r.entries[0]);
