import { entryKey, canonicalLink, identifyEntry } from '../../../src/parse/entry-identity.ts';
console.log(entryKey('python', 'https://example.com/post/1'), entryKey('python', 'tag:example.com,2024:1'), entryKey('', ''));
for (const u of ['HTTP://Example.COM:80/a/b/?utm_source=x&id=3#frag', 'https://example.com:443/', 'https://example.com/a/', 'https://example.com/?', 'https://example.com/p?a=1&utm_medium=rss&b=2', 'https://example.com/p?fbclid=1', 'http://user:pw@example.com/x', 'tag:x,2004:1', ' https://example.com/x ', 'https://example.com/a%20b', 'https://www.example.com/x']) console.log(JSON.stringify(u), canonicalLink(u));
console.log(identifyEntry({ title: 'Hello', date: 'Thu, 01 Jan 2004' }));
