/**
 * Re-serialize an edited JSON document so that it looks like the file it came from: every unchanged value,
 * member or array item is copied byte for byte from the original text, and changed or new parts are laid out
 * like their original (or a sibling): same indentation, inline vs multi-line, separators and line endings.
 * Without this, an edit through the CLI would reformat the admin's whole hand-written subscribers.json.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Layout {
  multiline: boolean;
  /** Indentation of members/items when multiline. */
  childIndent: string;
  /** Indentation of the closing bracket when multiline. */
  closeIndent: string;
  /** Space just inside the brackets when inline ("[ 1, 2 ]" -> " "). */
  pad: string;
  /** Space after each comma when inline. */
  sep: string;
}

interface NodeBase {
  start: number;
  end: number;
  value: Json;
  canonical?: string;
}
interface PrimitiveNode extends NodeBase {
  kind: 'primitive';
}
interface MemberNode {
  key: string;
  /** Offset of the key's opening quote. */
  start: number;
  value: JsonNode;
}
interface ObjectNode extends NodeBase {
  kind: 'object';
  /** Undefined for an empty object: it tells nothing about layout. */
  layout?: Layout;
  members: MemberNode[];
  byKey: Map<string, MemberNode>;
}
interface ArrayNode extends NodeBase {
  kind: 'array';
  layout?: Layout;
  items: JsonNode[];
}
type JsonNode = PrimitiveNode | ObjectNode | ArrayNode;

/** Formatting habits of a file, used for parts that have neither an original nor a sibling to copy. */
interface Style {
  eol: string;
  indentUnit: string;
  keySep: string;
  inlineSep: string;
  /** Whether arrays of plain values are written on one line ("tags": ["a", "b"]). */
  inlinePrimitiveArrays: boolean;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** Indentation of a multiline container's first child and closing bracket, and inline padding, read from the text. */
function readLayout(text: string, open: number, firstChildStart: number, close: number, secondChildStart?: number): Layout {
  const before = text.slice(open + 1, firstChildStart);
  const multiline = before.includes('\n');
  const childIndent = multiline ? before.slice(before.lastIndexOf('\n') + 1) : '';
  const beforeClose = text.slice(text.lastIndexOf('\n', close) + 1, close);
  const closeIndent = multiline && /^[ \t]*$/.test(beforeClose) ? beforeClose : '';
  let sep = ' ';
  if (!multiline && secondChildStart !== undefined) {
    const between = text.slice(0, secondChildStart);
    sep = between.slice(between.lastIndexOf(',') + 1);
  }
  return { multiline, childIndent, closeIndent, pad: multiline ? '' : before, sep };
}

/** Position-recording JSON parser; the caller has already checked the text with JSON.parse, so input is valid. */
class SpanParser {
  private pos = 0;
  keySep: string | undefined;
  constructor(private readonly text: string) {}

  parseDocument(): JsonNode {
    return this.parseValue();
  }

  private skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos] as string)) this.pos++;
  }

  private parseValue(): JsonNode {
    this.skipWhitespace();
    const start = this.pos;
    const ch = this.text[start];
    if (ch === '{') return this.parseObject(start);
    if (ch === '[') return this.parseArray(start);
    if (ch === '"') {
      this.skipString();
    } else {
      while (this.pos < this.text.length && !/[\s,\]}]/.test(this.text[this.pos] as string)) this.pos++;
    }
    return { kind: 'primitive', start, end: this.pos, value: JSON.parse(this.text.slice(start, this.pos)) as Json };
  }

  private skipString(): void {
    this.pos++;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === '\\') this.pos += 2;
      else if (ch === '"') {
        this.pos++;
        return;
      } else this.pos++;
    }
  }

  private parseObject(start: number): ObjectNode {
    this.pos++;
    const members: MemberNode[] = [];
    const byKey = new Map<string, MemberNode>();
    const value: { [key: string]: Json } = {};
    this.skipWhitespace();
    while (this.text[this.pos] !== '}') {
      const keyStart = this.pos;
      this.skipString();
      const key = JSON.parse(this.text.slice(keyStart, this.pos)) as string;
      const keyEnd = this.pos;
      this.skipWhitespace();
      this.pos++; // ':'
      const node = this.parseValue();
      this.keySep ??= this.text.slice(keyEnd, node.start);
      const member = { key, start: keyStart, value: node };
      members.push(member);
      byKey.set(key, member);
      value[key] = node.value;
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipWhitespace();
      }
    }
    const close = this.pos;
    this.pos++;
    const first = members[0];
    const layout = first ? readLayout(this.text, start, first.start, close, members[1]?.start) : undefined;
    return { kind: 'object', start, end: this.pos, value, members, byKey, layout };
  }

  private parseArray(start: number): ArrayNode {
    this.pos++;
    const items: JsonNode[] = [];
    this.skipWhitespace();
    while (this.text[this.pos] !== ']') {
      items.push(this.parseValue());
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipWhitespace();
      }
    }
    const close = this.pos;
    this.pos++;
    const first = items[0];
    const layout = first ? readLayout(this.text, start, first.start, close, items[1]?.start) : undefined;
    return { kind: 'array', start, end: this.pos, value: items.map((i) => i.value), items, layout };
  }
}

function canonicalOf(node: JsonNode): string {
  node.canonical ??= JSON.stringify(node.value);
  return node.canonical;
}

function isPrimitive(value: Json): boolean {
  return value === null || typeof value !== 'object';
}

/** Walk the original tree once to learn the file's habits. */
function detectStyle(text: string, root: JsonNode, keySep: string | undefined): Style {
  const style: Style = {
    eol: text.includes('\r\n') ? '\r\n' : '\n',
    indentUnit: '  ',
    keySep: keySep ?? ': ',
    inlineSep: ' ',
    inlinePrimitiveArrays: true,
  };
  let unitFound = false;
  let arraysFound = false;
  let sepFound = false;
  const visit = (node: JsonNode): void => {
    if (node.kind === 'primitive') return;
    const layout = node.layout;
    if (layout) {
      if (!unitFound && layout.multiline && layout.childIndent.startsWith(layout.closeIndent) && layout.childIndent.length > layout.closeIndent.length) {
        style.indentUnit = layout.childIndent.slice(layout.closeIndent.length);
        unitFound = true;
      }
      if (!sepFound && !layout.multiline && (node.kind === 'array' ? node.items.length : node.members.length) > 1) {
        style.inlineSep = layout.sep;
        sepFound = true;
      }
      if (!arraysFound && node.kind === 'array' && node.items.every((i) => i.kind === 'primitive')) {
        style.inlinePrimitiveArrays = !layout.multiline;
        arraysFound = true;
      }
    }
    const children = node.kind === 'array' ? node.items : node.members.map((m) => m.value);
    for (const child of children) visit(child);
  };
  visit(root);
  return style;
}

class Emitter {
  constructor(
    private readonly text: string,
    private readonly style: Style,
  ) {}

  /**
   * `original`: this value's previous version (its unchanged parts are copied); `template`: a sibling whose layout
   * to follow when there is no original; `indent`: indentation of the line this value starts on.
   */
  emit(value: Json, original: JsonNode | undefined, template: JsonNode | undefined, indent: string): string {
    if (original && canonicalOf(original) === JSON.stringify(value)) return this.text.slice(original.start, original.end);
    if (Array.isArray(value)) return this.emitArray(value, asKind(original, 'array'), asKind(template, 'array'), indent);
    if (value !== null && typeof value === 'object') return this.emitObject(value, asKind(original, 'object'), asKind(template, 'object'), indent);
    return JSON.stringify(value);
  }

  private layoutFor(value: Json[] | { [key: string]: Json }, original: { layout?: Layout } | undefined, template: { layout?: Layout } | undefined, indent: string): Layout {
    const known = original?.layout ?? template?.layout;
    if (known) return known;
    const inline = Array.isArray(value) && this.style.inlinePrimitiveArrays && value.every(isPrimitive);
    return { multiline: !inline, childIndent: indent + this.style.indentUnit, closeIndent: indent, pad: '', sep: this.style.inlineSep };
  }

  private wrap(open: string, close: string, parts: string[], layout: Layout): string {
    if (parts.length === 0) return open + close;
    if (!layout.multiline) return open + layout.pad + parts.join(',' + layout.sep) + layout.pad + close;
    const { eol } = this.style;
    return open + eol + parts.map((p) => layout.childIndent + p).join(',' + eol) + eol + layout.closeIndent + close;
  }

  private emitObject(value: { [key: string]: Json }, original: ObjectNode | undefined, template: ObjectNode | undefined, indent: string): string {
    const layout = this.layoutFor(value, original, template, indent);
    const childIndent = layout.multiline ? layout.childIndent : indent;
    const parts = Object.entries(value).map(([key, child]) => {
      const before = original?.byKey.get(key);
      if (before && canonicalOf(before.value) === JSON.stringify(child)) return this.text.slice(before.start, before.value.end);
      const sibling = template?.byKey.get(key)?.value;
      return JSON.stringify(key) + this.style.keySep + this.emit(child, before?.value, sibling, childIndent);
    });
    return this.wrap('{', '}', parts, layout);
  }

  private emitArray(value: Json[], original: ArrayNode | undefined, template: ArrayNode | undefined, indent: string): string {
    const layout = this.layoutFor(value, original, template, indent);
    const childIndent = layout.multiline ? layout.childIndent : indent;
    const previous = original?.items ?? [];
    const byCanonical = new Map<string, JsonNode>();
    const byId = new Map<string, JsonNode>();
    for (const item of previous) {
      if (!byCanonical.has(canonicalOf(item))) byCanonical.set(canonicalOf(item), item);
      const id = idOf(item.value);
      if (id !== undefined && !byId.has(id)) byId.set(id, item);
    }
    // Layout model for new items: the last item of the same kind (in this array, else in the sibling array).
    const lastOfKind = new Map<JsonNode['kind'], JsonNode>();
    for (const item of previous.length > 0 ? previous : (template?.items ?? [])) lastOfKind.set(item.kind, item);
    const parts = value.map((item, index) => {
      const same = byCanonical.get(JSON.stringify(item));
      if (same) return this.text.slice(same.start, same.end);
      // The previous version of this item: same "id" for objects that have one (items may have moved), else same index.
      const id = idOf(item);
      const before = id !== undefined ? byId.get(id) : previous[index];
      return this.emit(item, before, lastOfKind.get(kindOf(item)), childIndent);
    });
    return this.wrap('[', ']', parts, layout);
  }
}

function kindOf(value: Json): JsonNode['kind'] {
  if (Array.isArray(value)) return 'array';
  return value !== null && typeof value === 'object' ? 'object' : 'primitive';
}

function idOf(value: Json): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const id = value['id'];
  return typeof id === 'string' ? id : undefined;
}

function asKind<K extends JsonNode['kind']>(node: JsonNode | undefined, kind: K): Extract<JsonNode, { kind: K }> | undefined {
  return node?.kind === kind ? (node as Extract<JsonNode, { kind: K }>) : undefined;
}

/**
 * Serialize `value` (plain JSON data) in the formatting of `originalText`, a valid JSON text: unchanged parts are
 * copied verbatim, the rest follows the original's indentation, inline/multiline choices and line endings; text
 * before and after the root value (a trailing newline) is kept.
 */
export function stringifyPreservingFormat(originalText: string, value: unknown): string {
  const data = JSON.parse(JSON.stringify(value)) as Json;
  const parser = new SpanParser(originalText);
  const root = parser.parseDocument();
  const style = detectStyle(originalText, root, parser.keySep);
  const lineStart = originalText.lastIndexOf('\n', root.start) + 1;
  const indent = /^[ \t]*/.exec(originalText.slice(lineStart, root.start))?.[0] ?? '';
  const body = new Emitter(originalText, style).emit(data, root, undefined, indent);
  return originalText.slice(0, root.start) + body + originalText.slice(root.end);
}
