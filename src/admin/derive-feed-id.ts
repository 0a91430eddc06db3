/** Longest id subscribers.json accepts (see idPattern in src/config/subscribers-schema.ts). */
const MAX_ID_LENGTH = 64;
const MAX_TAG_LENGTH = 40;

/** Lower-case ASCII slug: accents stripped (NFKD), every other run of characters becomes "-". */
function slugify(text: string, maxLength: number): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2019]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9_.]+/g, '-')
    .replace(/^[-_.]+/, '')
    .slice(0, maxLength)
    .replace(/[-_.]+$/, '');
  return slug;
}

/** A tag usable in subscribers.json ("Tech & Science" -> "tech-and-science"), or undefined when nothing ASCII is left. */
export function deriveTag(category: string): string | undefined {
  const tag = slugify(category, MAX_TAG_LENGTH);
  return tag === '' ? undefined : tag;
}

/** Slug of a feed URL's host without "www." ("https://www.blog.example.org/x" -> "blog-example-org"). */
function hostSlug(url: string): string {
  try {
    return slugify(new URL(url).hostname.replace(/^www\./, ''), MAX_ID_LENGTH);
  } catch {
    return '';
  }
}

/** An id derived from free text ("Alice Müller" -> "alice-muller"), unique among `taken`; `fallback` when nothing is left. */
export function deriveId(text: string, taken: ReadonlySet<string>, fallback: string): string {
  return makeUnique(slugify(text, MAX_ID_LENGTH) || fallback, taken);
}

/** Make `base` unique among `taken` by appending -2, -3, … (keeping within the id length limit). */
export function makeUnique(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = base.slice(0, MAX_ID_LENGTH - suffix.length).replace(/[-_.]+$/, '') + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

/** A feed id derived from its title, else its URL's host, else "feed"; unique among `taken` (which is not modified). */
export function deriveFeedId(source: { title?: string; url: string }, taken: ReadonlySet<string>): string {
  const base = (source.title !== undefined ? slugify(source.title, MAX_ID_LENGTH) : '') || hostSlug(source.url) || 'feed';
  return makeUnique(base, taken);
}
