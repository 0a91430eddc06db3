import sanitizeHtml from 'sanitize-html';

/**
 * Policy (why each rule exists):
 * - Allow-list of text/structure tags only. script, style, iframe, object, embed, svg, math, template,
 *   noscript… are dropped WITH their content; form, input, button, select are dropped but their text kept.
 * - Attributes: href (a); src/alt/width/height (img); colspan/rowspan; dir/lang/title everywhere (bidi
 *   text needs dir). No class or id (feed CSS classes could hijack our own), no event attributes.
 * - Styles: every style attribute is dropped — no CSS from feeds can break the layout (position:fixed,
 *   expression(), huge widths…). Images get our own fixed style "max-width:100%;height:auto".
 * - URLs are resolved against the entry's base URL, then only http(s)/mailto links and http(s) images
 *   survive. data: is allowed for images only when it is a base64 PNG/GIF/JPEG/WebP of at most
 *   MAX_DATA_IMAGE_CHARS characters (small inline icons/formulas; never SVG, which can carry script).
 * - Tracking pixels (width or height 0/1, in attributes or inline style) and well-known feed trackers are dropped.
 * - Links open in a new tab without giving the page a handle on ours: target=_blank rel="noopener noreferrer".
 */
export const MAX_DATA_IMAGE_CHARS = 8192;

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'bdi', 'bdo', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd', 'del',
  'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img',
  'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'u', 'ul', 'var', 'wbr',
];

/** Dropped together with everything inside them. */
const DROP_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'xmp', 'noscript', 'iframe', 'frame', 'frameset', 'noframes', 'object',
  'embed', 'applet', 'svg', 'math', 'template', 'title', 'head', 'select', 'noembed', 'canvas', 'audio', 'video',
];

const IMAGE_STYLE = 'max-width:100%;height:auto';
const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$/i;
const TRACKERS = [/^https?:\/\/feeds\.feedburner\.com\/~r\//i, /\/~ff\//i, /^https?:\/\/pixel\.wp\.com\//i, /^https?:\/\/stats\.wordpress\.com\//i];
/** Names of tags we rename to so sanitize-html removes them: the first with its content kept, the second without. */
const UNWRAP = 'pd-unwrap';
const DROP = 'pd-drop';

function resolveUrl(raw: string | undefined, baseUrl: string, schemes: readonly string[]): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value, baseUrl || undefined);
  } catch {
    return undefined;
  }
  return schemes.includes(url.protocol) ? url.href : undefined;
}

function isTinyDimension(value: string | undefined): boolean {
  if (value === undefined) return false;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(px)?\s*$/i.exec(value);
  return m !== null && Number(m[1]) <= 1;
}

function styleDimension(style: string | undefined, prop: 'width' | 'height'): string | undefined {
  if (!style) return undefined;
  return new RegExp(`(?:^|;)\\s*${prop}\\s*:\\s*([^;]+)`, 'i').exec(style)?.[1];
}

function transformImage(attribs: sanitizeHtml.Attributes, baseUrl: string): sanitizeHtml.Tag {
  const drop = { tagName: DROP, attribs: {} };
  const rawSrc = (attribs.src ?? '').trim();
  let src: string | undefined;
  if (/^data:/i.test(rawSrc)) {
    src = DATA_IMAGE.test(rawSrc) && rawSrc.length <= MAX_DATA_IMAGE_CHARS ? rawSrc.replace(/\s+/g, '') : undefined;
  } else {
    src = resolveUrl(rawSrc, baseUrl, ['http:', 'https:']);
  }
  if (!src) return drop;
  const width = attribs.width ?? styleDimension(attribs.style, 'width');
  const height = attribs.height ?? styleDimension(attribs.style, 'height');
  if (isTinyDimension(width) || isTinyDimension(height) || TRACKERS.some((re) => re.test(src))) return drop;
  const out: sanitizeHtml.Attributes = { src, alt: attribs.alt ?? '' };
  if (attribs.width && /^\d{1,4}$/.test(attribs.width.trim())) out.width = attribs.width.trim();
  if (attribs.height && /^\d{1,4}$/.test(attribs.height.trim())) out.height = attribs.height.trim();
  out.style = IMAGE_STYLE;
  return { tagName: 'img', attribs: out };
}

function transformLink(attribs: sanitizeHtml.Attributes, baseUrl: string): sanitizeHtml.Tag {
  const href = resolveUrl(attribs.href, baseUrl, ['http:', 'https:', 'mailto:']);
  // A link we cannot keep becomes its text: an <a> without href would still look clickable.
  if (!href) return { tagName: UNWRAP, attribs: {} };
  const out: sanitizeHtml.Attributes = { href };
  if (attribs.title) out.title = attribs.title;
  out.target = '_blank';
  out.rel = 'noopener noreferrer';
  return { tagName: 'a', attribs: out };
}

/**
 * Sanitizes an entry's HTML from a feed for use inside an email (policy above), resolving relative
 * URLs against `baseUrl` (the entry's link, else the feed's). Pure; the same input gives the same output.
 */
export function sanitizeEntryHtml(html: string, baseUrl: string): string {
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    nonTextTags: DROP_WITH_CONTENT,
    allowedAttributes: {
      '*': ['dir', 'lang', 'title'],
      a: ['href', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'style'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
      ol: ['start', 'reversed'],
      time: ['datetime'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    // Styles are never parsed: the only style that survives is the constant one transformImage sets.
    parseStyleAttributes: false,
    transformTags: {
      img: (_tag, attribs) => transformImage(attribs, baseUrl),
      a: (_tag, attribs) => transformLink(attribs, baseUrl),
    },
  });
}

/** The first image of already sanitized HTML that is worth showing as a lead image, if any. */
export interface LeadImage {
  src: string;
  alt: string;
}

/**
 * Picks a lead image from an entry's HTML: sanitizes it, then takes the first <img> that is not
 * declared smaller than `minWidth` pixels (icons, emoji, avatars).
 */
export function pickLeadImage(html: string, baseUrl: string, minWidth = 200): LeadImage | undefined {
  const clean = sanitizeEntryHtml(html, baseUrl);
  let found: LeadImage | undefined;
  sanitizeHtml(clean, {
    allowedTags: ['img'],
    allowedAttributes: { img: ['src', 'alt', 'width'] },
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    transformTags: {
      img: (tag, attribs) => {
        const width = attribs.width ? Number(attribs.width) : undefined;
        if (!found && attribs.src && (width === undefined || width >= minWidth)) found = { src: attribs.src, alt: attribs.alt ?? '' };
        return { tagName: tag, attribs };
      },
    },
  });
  return found;
}
