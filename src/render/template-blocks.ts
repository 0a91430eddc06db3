/**
 * The compile-once template scheme (see templates/README.md).
 *
 * A template is MJML with two kinds of markup that MJML passes through untouched:
 *   - placeholder tokens `%%NAME%%` (upper-case), filled with already-escaped values per digest;
 *   - block markers `<!--pd:NAME-->` … `<!--/pd:NAME-->` (in an `<mj-raw>` between components, or as a
 *     plain comment inside an ending tag such as `<mj-text>`), delimiting a fragment that is repeated
 *     0..n times per digest (a source, an entry, the "and N more" line…).
 * The template is compiled by MJML once; the HTML is then cut at the markers into a tree of blocks and
 * every digest is produced by concatenating fragments — MJML never runs per digest.
 * Pure module: no I/O (loading and caching live in src/template/load-template.ts).
 */
import { TemplateError } from '../model/errors.js';

/** Token left in rendered output and filled per subscriber by personalizeEmail. */
export const UNSUBSCRIBE_PLACEHOLDER = '%%UNSUBSCRIBE_URL%%';
/** Token left in rendered output and filled per subscriber by personalizeEmail. */
export const RECIPIENT_PLACEHOLDER = '%%RECIPIENT%%';

/** Tokens that survive rendering on purpose (filled later, once per subscriber). */
const PASS_THROUGH = new Set(['UNSUBSCRIBE_URL', 'RECIPIENT']);

/** A piece of a compiled block: literal HTML, a placeholder token, or a nested repeated block. */
export type TemplatePart = string | { token: string } | TemplateBlock;

/** A compiled fragment tree; the root is named "document". */
export interface TemplateBlock {
  name: string;
  parts: TemplatePart[];
}

/** What loadTemplates returns and renderEmail consumes (plain data, safe to cache or share). */
export interface CompiledTemplates {
  /** The email template as a block tree. */
  email: TemplateBlock;
  /** Where it came from: the .mjml file, sha256 of its source, the MJML version, whether it was read from the cache. */
  info: { file: string; sourceHash: string; mjmlVersion: string; fromCache: boolean };
}

/** Data for one block instance: escaped token values and, per child block name, its instances. */
export interface BlockData {
  values: Readonly<Record<string, string>>;
  blocks?: Readonly<Record<string, readonly BlockData[]>>;
}

const DOCUMENT_TOKENS = [
  'DIGEST_TITLE',
  'PREHEADER',
  'SUMMARY_LINE',
  'PERIOD',
  'PERIOD_START',
  'PERIOD_END',
  'TIMEZONE',
  'DIGEST_ENTRY_COUNT',
  'DIGEST_SOURCE_COUNT',
  'UNSUBSCRIBE_URL',
  'RECIPIENT',
];
const SOURCE_TOKENS = ['SOURCE_TITLE', 'SOURCE_URL', 'SOURCE_ANCHOR', 'SOURCE_COUNT', 'SOURCE_COUNT_LABEL', 'SOURCE_INDEX'];
const ENTRY_TOKENS = ['ENTRY_TITLE', 'ENTRY_URL', 'ENTRY_AUTHOR', 'ENTRY_DATE', 'ENTRY_DATETIME', 'ENTRY_META', 'ENTRY_SUMMARY', 'ENTRY_INDEX'];

/** Blocks a template may use: which blocks may nest in each, and which tokens each adds to the scope. */
export const BLOCK_SPEC: Readonly<Record<string, { children: readonly string[]; tokens: readonly string[] }>> = {
  document: { children: ['toc', 'source', 'empty'], tokens: DOCUMENT_TOKENS },
  toc: { children: ['toc-item'], tokens: [] },
  'toc-item': { children: [], tokens: SOURCE_TOKENS },
  source: { children: ['entry', 'more'], tokens: SOURCE_TOKENS },
  entry: { children: ['entry-image'], tokens: ENTRY_TOKENS },
  'entry-image': { children: [], tokens: ['IMAGE_URL', 'IMAGE_ALT'] },
  more: { children: [], tokens: ['MORE_COUNT', 'MORE_LABEL'] },
  empty: { children: [], tokens: [] },
};

/** Blocks whose absence would silently drop content, so a template without them is rejected. */
const REQUIRED: ReadonlyArray<[parent: string, child: string]> = [
  ['document', 'source'],
  ['source', 'entry'],
  ['source', 'more'],
];

const SCAN = /<!--(\/?)pd:([a-z][a-z-]*)-->|%%([A-Z][A-Z0-9_]*)%%/g;

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** A template problem at a known place (file and 1-based line) — what a template author needs to fix it. */
export class TemplateSyntaxError extends TemplateError {
  readonly file: string;
  readonly line?: number;
  constructor(file: string, line: number | undefined, message: string, options?: { cause?: unknown }) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`, {
      ...options,
      hint: 'Fix the template (see templates/README.md for the blocks and placeholders it may use), or unset DIGEST_TEMPLATES to use the built-in one.',
    });
    this.file = file;
    this.line = line;
  }
}

/**
 * Parses marker comments and tokens into a block tree, checking nesting, known names and required
 * blocks. Works on the MJML source (errors then carry source lines) and on compiled HTML alike.
 */
export function parseTemplateBlocks(text: string, file: string): TemplateBlock {
  const root: TemplateBlock = { name: 'document', parts: [] };
  const stack: Array<{ block: TemplateBlock; index: number; scope: Set<string> }> = [
    { block: root, index: 0, scope: new Set(BLOCK_SPEC.document!.tokens) },
  ];
  let last = 0;
  let usesUnsubscribe = false;
  for (const m of text.matchAll(SCAN)) {
    const top = stack[stack.length - 1]!;
    const at = m.index;
    if (at > last) top.block.parts.push(text.slice(last, at));
    last = at + m[0].length;
    const [, closing, blockName, token] = m;
    if (token !== undefined) {
      if (!top.scope.has(token)) {
        const where = top.block.name === 'document' ? 'outside any block' : `inside block "${top.block.name}"`;
        throw new TemplateSyntaxError(file, lineAt(text, at), `unknown placeholder %%${token}%% ${where}; allowed here: ${[...top.scope].sort().join(', ')}`);
      }
      if (token === 'UNSUBSCRIBE_URL') usesUnsubscribe = true;
      top.block.parts.push({ token });
      continue;
    }
    const name = blockName!;
    if (!(name in BLOCK_SPEC) || name === 'document') {
      throw new TemplateSyntaxError(file, lineAt(text, at), `unknown block "${name}"; known blocks: ${Object.keys(BLOCK_SPEC).filter((b) => b !== 'document').join(', ')}`);
    }
    if (closing) {
      if (top.block.name !== name) {
        throw new TemplateSyntaxError(file, lineAt(text, at), `<!--/pd:${name}--> closes a block that is not open (open block: "${top.block.name}")`);
      }
      stack.pop();
      continue;
    }
    if (!BLOCK_SPEC[top.block.name]!.children.includes(name)) {
      throw new TemplateSyntaxError(file, lineAt(text, at), `block "${name}" is not allowed inside "${top.block.name}"; allowed there: ${BLOCK_SPEC[top.block.name]!.children.join(', ') || 'none'}`);
    }
    const block: TemplateBlock = { name, parts: [] };
    top.block.parts.push(block);
    stack.push({ block, index: at, scope: new Set([...top.scope, ...BLOCK_SPEC[name]!.tokens]) });
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]!;
    throw new TemplateSyntaxError(file, lineAt(text, open.index), `block "${open.block.name}" is never closed (add <!--/pd:${open.block.name}-->)`);
  }
  if (last < text.length) root.parts.push(text.slice(last));
  for (const [parent, child] of REQUIRED) {
    if (!containsBlock(root, parent, child)) {
      throw new TemplateSyntaxError(file, undefined, `the template needs a "${child}" block inside "${parent}" (<!--pd:${child}-->…<!--/pd:${child}-->), otherwise entries would be dropped`);
    }
  }
  if (!usesUnsubscribe) {
    throw new TemplateSyntaxError(file, undefined, 'the template must contain the %%UNSUBSCRIBE_URL%% placeholder (readers need a way to unsubscribe)');
  }
  return root;
}

function containsBlock(block: TemplateBlock, parent: string, child: string): boolean {
  for (const part of block.parts) {
    if (typeof part === 'string' || 'token' in part) continue;
    if (block.name === parent && part.name === child) return true;
    if (containsBlock(part, parent, child)) return true;
  }
  return false;
}

const MARKER_WITH_SPACE = /[ \t\r\n\f]*(<!--\/?pd:[a-z][a-z-]*-->)[ \t\r\n\f]*/g;
const VERBATIM = /(<(pre|textarea|script)\b[^>]*>[\s\S]*?<\/\2\s*>)/i;

/**
 * Post-processes MJML output before it is cut into blocks: whitespace around block markers is removed
 * (so fragments join without stray blank lines) and every run of whitespace is collapsed to one
 * newline or space outside <pre>/<textarea>/<script>. Both keep the rendering identical (HTML treats
 * any whitespace run like one space) while cutting MJML's indentation, a third of its output.
 * `keepMarkers: false` also deletes the markers; tests use that to compare a full MJML render.
 */
export function compactCompiledHtml(html: string, options: { keepMarkers: boolean }): string {
  const tightened = html.replace(MARKER_WITH_SPACE, options.keepMarkers ? '$1' : '');
  return tightened
    .split(VERBATIM)
    .map((piece, i) => {
      // split() with two capture groups yields [text, verbatim, tagName, text, …].
      if (i % 3 === 1) return piece;
      if (i % 3 === 2) return '';
      return piece.replace(/[ \t\r\n\f]{2,}|[\t\r\f]/g, (run) => (run.includes('\n') ? '\n' : ' '));
    })
    .join('')
    .trim();
}

/**
 * Produces a digest by walking the block tree: tokens take values from the innermost enclosing block
 * instance outwards; child blocks repeat once per BlockData instance. Values must already be escaped.
 * %%UNSUBSCRIBE_URL%% and %%RECIPIENT%% stay as they are for personalizeEmail.
 * `keepMarkers` (tests, debugging) keeps block markers in the output.
 */
export function fillTemplate(root: TemplateBlock, data: BlockData, options: { keepMarkers?: boolean } = {}): string {
  const out: string[] = [];
  fillInto(root, { values: data.values, parent: undefined }, data, out, options.keepMarkers ?? false);
  return out.join('');
}

interface Scope {
  values: Readonly<Record<string, string>>;
  parent: Scope | undefined;
  /** Set on the scope of a shared instance being filled: records whether a token was looked up beyond it. */
  fence?: { escaped: boolean };
}

/** Filled text of shared block instances (see shareBlockData), per template block they were filled into. */
const sharedFills = new WeakMap<BlockData, WeakMap<TemplateBlock, string>>();

/**
 * Declares a block instance immutable and reused by many digests (one entry's block, shared by every digest of a cycle
 * that shows it): it is frozen, and fillTemplate fills it into a given template block once and reuses that text —
 * unless the block looks up a value of an enclosing instance (a template may show %%SOURCE_TITLE%% inside an entry),
 * in which case the output depends on more than this instance and it is filled every time. Returns `data`.
 */
export function shareBlockData(data: BlockData): BlockData {
  if (sharedFills.has(data)) return data;
  Object.freeze(data.values);
  if (data.blocks) {
    for (const list of Object.values(data.blocks)) {
      for (const child of list) shareBlockData(child);
      Object.freeze(list);
    }
    Object.freeze(data.blocks);
  }
  Object.freeze(data);
  sharedFills.set(data, new WeakMap());
  return data;
}

function fillInto(block: TemplateBlock, scope: Scope, data: BlockData, out: string[], keepMarkers: boolean): void {
  for (const part of block.parts) {
    if (typeof part === 'string') {
      out.push(part);
    } else if ('token' in part) {
      out.push(lookup(scope, part.token, block.name));
    } else {
      const instances = data.blocks?.[part.name] ?? [];
      // keepMarkers re-emits the markers around every instance (an empty pair for none): filling the MJML
      // source this way gives a document whose full MJML render can be compared byte for byte.
      if (keepMarkers && instances.length === 0) out.push(`<!--pd:${part.name}--><!--/pd:${part.name}-->`);
      for (const child of instances) {
        const fills = keepMarkers ? undefined : sharedFills.get(child);
        if (fills) {
          let text = fills.get(part);
          if (text === undefined) {
            const fence = { escaped: false };
            const own: string[] = [];
            fillInto(part, { values: child.values, parent: scope, fence }, child, own, false);
            text = own.join('');
            if (!fence.escaped) fills.set(part, text);
          }
          out.push(text);
          continue;
        }
        if (keepMarkers) out.push(`<!--pd:${part.name}-->`);
        fillInto(part, { values: child.values, parent: scope }, child, out, keepMarkers);
        if (keepMarkers) out.push(`<!--/pd:${part.name}-->`);
      }
    }
  }
}

function lookup(scope: Scope, token: string, blockName: string): string {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const v = s.values[token];
    if (v !== undefined) return v;
    if (s.fence) s.fence.escaped = true;
  }
  if (PASS_THROUGH.has(token)) return `%%${token}%%`;
  // parseTemplateBlocks admits only known tokens, so a miss is a bug in the caller, not in the template.
  throw new Error(`no value for %%${token}%% in block "${blockName}"`);
}
