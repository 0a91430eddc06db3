/**
 * Loads the email template: reads templates/digest.mjml (or DIGEST_TEMPLATES/digest.mjml), compiles it
 * with MJML ONCE, cuts the HTML into blocks (src/render/template-blocks.ts) and caches the compiled HTML
 * on disk keyed by sha256(scheme version + MJML version + template source). On a cache hit MJML is not
 * even imported: importing it costs about 0.5 s and 200 MB, which matters for a CLI started by cron.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MJMLParseResults, MJMLParsingOptions } from 'mjml-core';
import type { Logger } from '../model/logger.js';
import { silentLogger } from '../model/logger.js';
import {
  compactCompiledHtml,
  parseTemplateBlocks,
  TemplateSyntaxError,
  type CompiledTemplates,
  type TemplateBlock,
} from '../render/template-blocks.js';

/** The compiled template type (defined with the pure block code; re-exported for callers of loadTemplates). */
export type { CompiledTemplates } from '../render/template-blocks.js';

/** File name of the email template inside a templates folder. */
export const TEMPLATE_FILE = 'digest.mjml';

/** Bump whenever compactCompiledHtml or the block scheme changes, so stale cache entries are ignored. */
export const COMPILE_SCHEME_VERSION = 1;

/**
 * Options for every MJML compile of a template (also used by tests that compare against a full render):
 * strict validation (any MJML warning fails), template comments dropped (markers live in <mj-raw>),
 * no web fonts (nothing remote), mj-include never followed.
 */
export const MJML_COMPILE_OPTIONS: MJMLParsingOptions = {
  validationLevel: 'strict',
  keepComments: false,
  fonts: {},
  ignoreIncludes: true,
};

/** The mjml2html function (injectable so tests can count compiles). */
export type Mjml2Html = (input: string, options?: MJMLParsingOptions) => Promise<MJMLParseResults>;

/** Options of loadTemplates. */
export interface LoadTemplatesOptions {
  /** Folder holding digest.mjml (DIGEST_TEMPLATES); default: the package's templates/. */
  dir?: string;
  /** Where compiled output is cached; default <dir>/.compiled. Unwritable is not an error (logged, compiled every start). */
  cacheDir?: string;
  /**
   * Read-only cache consulted after cacheDir: `npm run build` compiles the stock template into dist/template-cache, so
   * a fresh install or an empty DIGEST_CACHE_DIR never loads MJML for it (default: that folder; entries are keyed like
   * cacheDir's, so a changed template or another MJML version never matches).
   */
  prebuiltDir?: string;
  logger?: Logger;
  /** How to obtain mjml2html on a cache miss; default a dynamic import('mjml'). */
  compiler?: () => Promise<Mjml2Html>;
}

interface CacheRecord {
  scheme: number;
  mjmlVersion: string;
  sourceHash: string;
  html: string;
}

/** The package's own templates folder (works from src/ under tsx and from dist/ after a build). */
export function defaultTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

/** The folder `npm run build` compiles the stock template into (dist/template-cache; absent when running from source). */
export function defaultPrebuiltDir(): string {
  return fileURLToPath(new URL('../template-cache/', import.meta.url));
}

/** Reads MJML's version from its package.json without loading MJML itself. */
export async function readMjmlVersion(): Promise<string> {
  try {
    const pkgPath = createRequire(import.meta.url).resolve('mjml/package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function importMjml(): Promise<Mjml2Html> {
  const mod = (await import('mjml')) as unknown as { default?: Mjml2Html } & Mjml2Html;
  return mod.default ?? mod;
}

/** The nesting of blocks as a string, e.g. "document(toc(toc-item),source(entry,more))". */
function blockShape(block: TemplateBlock): string {
  const children = block.parts.filter((p): p is TemplateBlock => typeof p !== 'string' && !('token' in p));
  return children.length ? `${block.name}(${children.map(blockShape).join(',')})` : block.name;
}

/** Turns MJML's failure into a TemplateError that names the file and line. */
function mjmlError(file: string, err: unknown): TemplateSyntaxError {
  const errors = (err as { errors?: Array<{ line?: number; message?: string; tagName?: string }> }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const lines = errors.map((e) => `line ${e.line ?? '?'}: ${e.message ?? 'invalid'}${e.tagName ? ` (${e.tagName})` : ''}`);
    const first = errors[0]!;
    return new TemplateSyntaxError(file, first.line, `MJML validation failed (${errors.length} problem${errors.length === 1 ? '' : 's'}): ${lines.join('; ')}`, { cause: err });
  }
  return new TemplateSyntaxError(file, undefined, `MJML could not compile the template: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * Loads and compiles the digest email template, using the on-disk cache when it is fresh.
 * Throws TemplateError (TemplateSyntaxError, with file and line) for a missing, invalid or unsafe template.
 */
export async function loadTemplates(options: LoadTemplatesOptions = {}): Promise<CompiledTemplates> {
  const logger = options.logger ?? silentLogger;
  const dir = path.resolve(options.dir ?? defaultTemplatesDir());
  const file = path.join(dir, TEMPLATE_FILE);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw new TemplateSyntaxError(file, undefined, `cannot read the template (${(err as NodeJS.ErrnoException).code ?? String(err)}); the templates folder must contain ${TEMPLATE_FILE}`, { cause: err });
  }
  const include = /<mj-include\b/.exec(source);
  if (include) {
    // Included files would not be part of the cache key, and following paths from a template is a traversal risk.
    throw new TemplateSyntaxError(file, source.slice(0, include.index).split('\n').length, 'mj-include is not supported; paste the partial into digest.mjml');
  }
  // Check blocks and placeholders on the source first: errors get source line numbers and need no MJML.
  const sourceShape = blockShape(parseTemplateBlocks(source, file));

  const mjmlVersion = await readMjmlVersion();
  const sourceHash = createHash('sha256').update(`${COMPILE_SCHEME_VERSION}\0${mjmlVersion}\0${source}`).digest('hex');
  const cacheDir = path.resolve(options.cacheDir ?? path.join(dir, '.compiled'));
  const cacheFile = path.join(cacheDir, `digest-${sourceHash}.json`);
  const info = { file, sourceHash, mjmlVersion };

  const prebuiltFile = path.join(path.resolve(options.prebuiltDir ?? defaultPrebuiltDir()), path.basename(cacheFile));
  for (const candidate of prebuiltFile === cacheFile ? [cacheFile] : [cacheFile, prebuiltFile]) {
    try {
      const record = JSON.parse(await readFile(candidate, 'utf8')) as CacheRecord;
      if (record.scheme === COMPILE_SCHEME_VERSION && record.mjmlVersion === mjmlVersion && record.sourceHash === sourceHash && typeof record.html === 'string') {
        const email = parseTemplateBlocks(record.html, file);
        logger.debug({ file, cacheFile: candidate }, 'template cache hit');
        return { email, info: { ...info, fromCache: true } };
      }
      logger.warn({ cacheFile: candidate }, 'template cache entry does not match its key; recompiling');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ cacheFile: candidate, err: String(err) }, 'template cache entry unreadable; recompiling');
    }
  }

  const started = Date.now();
  const mjml2html = await (options.compiler ?? importMjml)();
  let compiled: MJMLParseResults;
  try {
    compiled = await mjml2html(source, { ...MJML_COMPILE_OPTIONS, filePath: file });
  } catch (err) {
    throw mjmlError(file, err);
  }
  if (compiled.errors.length > 0) throw mjmlError(file, { errors: compiled.errors });
  const html = compactCompiledHtml(compiled.html, { keepMarkers: true });
  const email = parseTemplateBlocks(html, file);
  const compiledShape = blockShape(email);
  if (compiledShape !== sourceShape) {
    throw new TemplateSyntaxError(file, undefined, `block markers were lost or moved by MJML (template has ${sourceShape}, output has ${compiledShape}); put markers between components inside <mj-raw>…</mj-raw>`);
  }
  logger.info({ file, ms: Date.now() - started, mjmlVersion }, 'compiled email template');

  try {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    const record: CacheRecord = { scheme: COMPILE_SCHEME_VERSION, mjmlVersion, sourceHash, html };
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, cacheFile);
  } catch (err) {
    logger.warn({ cacheDir, err: String(err) }, 'cannot write the template cache; the template will be compiled at every start');
  }
  return { email, info: { ...info, fromCache: false } };
}
