import { compile } from 'html-to-text';
import { Parser } from 'htmlparser2';

// Compiled once: html-to-text's option processing is the expensive part of a call.
const toText = compile({
  wordwrap: false,
  // The summary is one paragraph of plain text: no link targets, images, heading capitals or table layout.
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'inline' },
    { selector: 'th', format: 'inline' },
    { selector: 'ul', options: { itemPrefix: ' ' } },
    { selector: 'ol', format: 'unorderedList', options: { itemPrefix: ' ' } },
    { selector: 'hr', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'svg', format: 'skip' },
  ],
});

// windows-1252 characters for the C1 control range (0x80–0x9F); undefined slots map to nothing.
const CP1252_C1 = '€\u0000‚ƒ„…†‡ˆ‰Š‹Œ\u0000Ž\u0000\u0000‘’“”•–—˜™š›œ\u0000žŸ';

/**
 * Replaces C1 control characters (U+0080–U+009F) by the windows-1252 characters they stand for. They never mean
 * anything in feed text; they appear when a publisher wrote cp1252 bytes (or &#146;-style references) as if they were
 * Unicode, and HTML5 reads numeric references in that range the same way.
 */
export function repairC1Controls(text: string): string {
  if (!/[\u0080-\u009f]/.test(text)) return text;
  return text.replace(/[\u0080-\u009f]/g, (c) => {
    const r = CP1252_C1[c.charCodeAt(0) - 0x80] ?? '';
    return r === '\u0000' ? '' : r;
  });
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const C0_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const C0_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const WHITESPACE_TO_COLLAPSE = /\s{2,}|[^\S ]/g;

/**
 * Collapses runs of whitespace (including non-breaking spaces) into single spaces and trims; repairs C1 controls and
 * drops the C0 controls XML 1.0 forbids (sax lets them through; they are never meant as text).
 */
export function collapseWhitespace(text: string): string {
  let out = repairC1Controls(text);
  if (C0_CONTROL.test(out)) out = out.replace(C0_CONTROLS, '');
  // JavaScript's \s already covers U+00A0, U+2028 and U+2029. Only runs of two or more and single non-space
  // characters need replacing: matching every single space (the common case) would allocate for nothing.
  return out.replace(WHITESPACE_TO_COLLAPSE, ' ').trim();
}

/**
 * Plain text of an HTML fragment: tags dropped (script/style with their content), entities decoded exactly once,
 * whitespace collapsed. `maxInput` bounds the work on huge content when only a prefix is needed (e.g. a summary).
 */
export function htmlToPlainText(html: string, maxInput = Infinity): string {
  const input = html.length > maxInput ? html.slice(0, maxInput) : html;
  // Fast path: nothing to parse.
  if (!/[<&]/.test(input)) return collapseWhitespace(input);
  return collapseWhitespace(simpleHtmlText(input) ?? toText(input));
}

/** The reference conversion (html-to-text with the options above): htmlToPlainText gives the same for every input. */
export function htmlToPlainTextReference(html: string): string {
  return collapseWhitespace(toText(html));
}

// What html-to-text, with the options above and once whitespace is collapsed, does with each element:
/** Line breaks around it, empty or not. */
const SIMPLE_BLOCK = new Set(['article', 'aside', 'div', 'footer', 'form', 'header', 'main', 'nav', 'section', 'p', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'tr', 'br']);
/** Dropped with everything inside. */
const SIMPLE_SKIP = new Set(['img', 'hr', 'script', 'style', 'noscript', 'iframe', 'svg']);
/** Formatting not modelled here ("> " prefixes, <body> as the only part read): html-to-text does it. */
const SIMPLE_UNMODELLED = new Set(['blockquote', 'wbr', 'body']);
const SIMPLE_LIST = new Set(['ul', 'ol']);

/**
 * The text htmlToPlainText gets from html-to-text, before whitespace is collapsed, for the common run of feed HTML,
 * from htmlparser2's tokenizer alone; undefined when the fragment holds something it does not model, and html-to-text
 * must do it. html-to-text builds a DOM, matches selectors on every element and lays out blocks: ~3x the time, and
 * summaries were ~10% of a first run (220 feeds, 4,400 entries). Every other element is inline, as in html-to-text;
 * blocks only add a space. Checked against html-to-text over the feed corpus and random HTML (test/parse).
 */
export function simpleHtmlText(html: string): string | undefined {
  let out = '';
  let skip = 0;
  let pre = 0; // open <pre> elements: their whitespace is kept as written
  let unmodelled = false;
  const open: string[] = [];
  const parser = new Parser(
    {
      onopentag(name) {
        if (unmodelled) return;
        if (skip > 0) {
          if (SIMPLE_SKIP.has(name)) skip++;
          return;
        }
        const parent = open[open.length - 1];
        // html-to-text's list items: an <li> child is a line (its " " prefix counts as text, so even an empty one
        // breaks); any other child is an item without prefix, which only breaks when it has text. Not modelled.
        // Inside <pre>, html-to-text drops the line breaks of nested blocks, and a list inside an <li> gets items
        // without prefix (an empty one adds no break): neither is modelled.
        if (
          SIMPLE_UNMODELLED.has(name) ||
          (parent !== undefined && SIMPLE_LIST.has(parent) && name !== 'li') ||
          (pre > 0 && (SIMPLE_BLOCK.has(name) || SIMPLE_LIST.has(name))) ||
          (parent === 'li' && SIMPLE_LIST.has(name))
        ) {
          unmodelled = true;
          return;
        }
        if (SIMPLE_SKIP.has(name)) {
          skip++;
          return;
        }
        open.push(name);
        if (name === 'pre') pre++;
        if (name === 'li' && parent !== undefined && SIMPLE_LIST.has(parent)) out += ' ';
        if (SIMPLE_BLOCK.has(name)) out += ' ';
      },
      onclosetag(name) {
        if (unmodelled) return;
        if (skip > 0) {
          if (SIMPLE_SKIP.has(name)) skip--;
          return;
        }
        open.pop();
        if (name === 'pre') pre--;
        const parent = open[open.length - 1];
        if (SIMPLE_BLOCK.has(name)) out += ' ';
        if (name === 'li' && parent !== undefined && SIMPLE_LIST.has(parent)) out += ' ';
      },
      ontext(text) {
        if (unmodelled || skip > 0) return;
        const parent = open[open.length - 1];
        if (parent !== undefined && SIMPLE_LIST.has(parent)) {
          // Directly in a list, whitespace is dropped and other text is an item of its own (not modelled).
          if (/\S/.test(text)) unmodelled = true;
          return;
        }
        // html-to-text reads U+200B as whitespace, and then collapses it with its neighbours.
        if (text.includes('\u200b')) {
          unmodelled = true;
          return;
        }
        // Outside <pre>, html-to-text reads a form feed as whitespace; collapseWhitespace would drop it as a control
        // character. Inside, it is kept, and dropped.
        out += pre === 0 && text.includes('\f') ? text.replace(/\f/g, ' ') : text;
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);
  return unmodelled ? undefined : out;
}
