/** Small RSS 2.0 / Atom documents for tests; values are XML-escaped here, so tests can use hostile text. */
export interface TestItem {
  id: string;
  title: string;
  link?: string;
  date?: string;
  author?: string;
  html?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An RSS 2.0 feed. */
export function rssFeed(feed: { title: string; link: string; items: TestItem[] }): string {
  const items = feed.items
    .map(
      (i) => `<item><title>${esc(i.title)}</title>${i.link ? `<link>${esc(i.link)}</link>` : ''}<guid isPermaLink="false">${esc(i.id)}</guid>` +
        `${i.date ? `<pubDate>${new Date(i.date).toUTCString()}</pubDate>` : ''}${i.author ? `<author>${esc(i.author)}</author>` : ''}` +
        `<description>${esc(i.html ?? `<p>About ${i.title}.</p>`)}</description></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>${esc(feed.title)}</title><link>${esc(feed.link)}</link><description>test</description>\n${items}\n</channel></rss>\n`;
}

/** An Atom 1.0 feed. */
export function atomFeed(feed: { title: string; link: string; items: TestItem[] }): string {
  const entries = feed.items
    .map(
      (i) => `<entry><id>${esc(i.id)}</id><title>${esc(i.title)}</title>${i.link ? `<link rel="alternate" href="${esc(i.link)}"/>` : ''}` +
        `<updated>${new Date(i.date ?? '2026-05-01T00:00:00Z').toISOString()}</updated>${i.author ? `<author><name>${esc(i.author)}</name></author>` : ''}` +
        `<content type="html">${esc(i.html ?? `<p>About ${i.title}.</p>`)}</content></entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>${esc(feed.title)}</title><id>${esc(feed.link)}</id><link href="${esc(feed.link)}"/><updated>2026-05-31T00:00:00Z</updated>\n${entries}\n</feed>\n`;
}
