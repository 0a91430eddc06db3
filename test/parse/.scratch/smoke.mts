import { readFileSync } from 'node:fs';
import { parseFeed } from '../../../src/parse/parse-feed.ts';
const files = process.argv.slice(2);
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  try {
    const r = await parseFeed(text, { feedId: 'x', url: 'http://example.test/feed.xml' });
    console.log(f.split('/').slice(-2).join('/'), r.format, JSON.stringify(r.title), r.link, r.entries.length, r.warnings);
    if (process.env.SHOW) console.log(JSON.stringify(r.entries.slice(0, Number(process.env.SHOW)), null, 1).slice(0, 3000));
  } catch (e) { console.log(f.split('/').slice(-2).join('/'), 'ERR', (e as Error).message); }
}
