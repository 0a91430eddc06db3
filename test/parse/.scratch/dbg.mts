import { readFileSync } from 'node:fs';
import Parser from 'rss-parser';
const t = readFileSync(process.argv[2], 'utf8').replace(`<rss xmlns:itunes=`, `<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:itunes=`);
const p = new Parser({ xml2js: { xmlns: true } as never });
try { await p.parseString(t); console.log('ok'); } catch (e) { console.log((e as Error).message); }
