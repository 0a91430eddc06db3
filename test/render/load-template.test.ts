import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mjml2html from 'mjml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/model/logger.js';
import { TemplateSyntaxError } from '../../src/render/template-blocks.js';
import { defaultTemplatesDir, loadTemplates, MJML_COMPILE_OPTIONS, type Mjml2Html } from '../../src/template/load-template.js';

const run = promisify(execFile);
const BUILTIN = path.join(defaultTemplatesDir(), 'digest.mjml');
let work: string;
let builtinSource: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'planet-digest-templates-'));
  builtinSource = await readFile(BUILTIN, 'utf8');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A templates folder holding `source` as digest.mjml. */
async function templateDir(name: string, source: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'digest.mjml'), source);
  return dir;
}

/** mjml2html that counts its calls. */
function countingCompiler(): { compiler: () => Promise<Mjml2Html>; calls: () => number } {
  let n = 0;
  return {
    compiler: async () => async (input, options) => {
      n++;
      return mjml2html(input, options);
    },
    calls: () => n,
  };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    warnings,
    debug() {},
    info() {},
    warn(_obj: object | string, msg?: string) {
      warnings.push(msg ?? String(_obj));
    },
    error() {},
    child() {
      return logger;
    },
  };
  return logger;
}

async function loadError(options: Parameters<typeof loadTemplates>[0]): Promise<TemplateSyntaxError> {
  try {
    await loadTemplates(options);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    return err as TemplateSyntaxError;
  }
  throw new Error('expected loadTemplates to fail');
}

describe('the built-in template', () => {
  it('passes MJML validation with zero warnings', async () => {
    const result = await mjml2html(builtinSource, { ...MJML_COMPILE_OPTIONS, validationLevel: 'soft' });
    expect(result.errors).toEqual([]);
    expect(result.html).toContain('<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">');
    expect(result.html).toContain('<meta name="color-scheme" content="light dark">');
    expect(result.html).toContain('prefers-color-scheme: dark');
    // No web fonts or other remote resources in the skeleton.
    expect(result.html).not.toMatch(/fonts\.googleapis|<link\b/);
  });
});

describe('loadTemplates', () => {
  it('compiles once, writes the cache, and does not call MJML on a cache hit', async () => {
    const cacheDir = path.join(work, 'cache-1');
    const counting = countingCompiler();
    const first = await loadTemplates({ cacheDir, compiler: counting.compiler });
    expect(first.info.fromCache).toBe(false);
    expect(counting.calls()).toBe(1);
    expect(first.info.file).toBe(BUILTIN);
    expect(first.info.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await readdir(cacheDir)).toEqual([`digest-${first.info.sourceHash}.json`]);

    const never = async (): Promise<Mjml2Html> => {
      throw new Error('MJML must not be loaded on a cache hit');
    };
    const second = await loadTemplates({ cacheDir, compiler: never });
    expect(second.info.fromCache).toBe(true);
    expect(second.email).toEqual(first.email);
  });

  it('uses a prebuilt entry (npm run build) when its own cache has none, only for the very template it was built from', async () => {
    const prebuiltDir = path.join(work, 'prebuilt');
    const counting = countingCompiler();
    const built = await loadTemplates({ cacheDir: prebuiltDir, compiler: counting.compiler });
    expect(counting.calls()).toBe(1);

    const never = async (): Promise<Mjml2Html> => {
      throw new Error('MJML must not be loaded when a prebuilt entry matches');
    };
    const fresh = await loadTemplates({ cacheDir: path.join(work, 'empty-cache'), prebuiltDir, compiler: never });
    expect(fresh.info.fromCache).toBe(true);
    expect(fresh.email).toEqual(built.email);

    // A customised template has another key: compiled, not served the stock one.
    const custom = await templateDir('custom-prebuilt', (await readFile(BUILTIN, 'utf8')).replace('</mjml>', '<!-- customised -->\n</mjml>'));
    const compiled = await loadTemplates({ dir: custom, cacheDir: path.join(work, 'empty-cache-2'), prebuiltDir, compiler: counting.compiler });
    expect(compiled.info.fromCache).toBe(false);
    expect(counting.calls()).toBe(2);
  });

  it('does not even import the mjml package on a cache hit (fresh process)', async () => {
    const cacheDir = path.join(work, 'cache-2');
    await loadTemplates({ cacheDir });
    const script = [
      `import { createRequire } from 'node:module';`,
      `import { loadTemplates } from ${JSON.stringify(path.resolve('src/template/load-template.ts'))};`,
      `const t = await loadTemplates({ cacheDir: ${JSON.stringify(cacheDir)} });`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules[\\\\/]mjml/.test(f));`,
      `console.log(JSON.stringify({ fromCache: t.info.fromCache, loaded }));`,
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ fromCache: true, loaded: [] });
    // The same probe sees MJML when it is loaded, so the check above can fail.
    const probe = script.replace('const t = await', "await import('mjml'); const t = await");
    const { stdout: loadedOut } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: process.cwd() });
    expect(JSON.parse(loadedOut.trim().split('\n').pop()!).loaded.length).toBeGreaterThan(0);
  });

  it('recompiles when the template changes, and after a corrupt cache entry', async () => {
    const cacheDir = path.join(work, 'cache-3');
    const dir = await templateDir('changing', builtinSource);
    const counting = countingCompiler();
    const a = await loadTemplates({ dir, cacheDir, compiler: counting.compiler });
    await writeFile(path.join(dir, 'digest.mjml'), builtinSource.replace('No new posts in this period.', 'Nothing new.'));
    const b = await loadTemplates({ dir, cacheDir, compiler: counting.compiler });
    expect(b.info.sourceHash).not.toBe(a.info.sourceHash);
    expect(counting.calls()).toBe(2);
    await writeFile(path.join(cacheDir, `digest-${b.info.sourceHash}.json`), '{not json');
    const logger = recordingLogger();
    const c = await loadTemplates({ dir, cacheDir, compiler: counting.compiler, logger });
    expect(c.info.fromCache).toBe(false);
    expect(counting.calls()).toBe(3);
    expect(logger.warnings.join('\n')).toMatch(/unreadable; recompiling/);
  });

  it('defaults the cache to <dir>/.compiled and works (with a warning) when the cache cannot be written', async () => {
    const dir = await templateDir('default-cache', builtinSource);
    const counting = countingCompiler();
    await loadTemplates({ dir, compiler: counting.compiler });
    expect((await readdir(path.join(dir, '.compiled'))).length).toBe(1);

    const blocker = path.join(work, 'a-file');
    await writeFile(blocker, 'x');
    const logger = recordingLogger();
    const t = await loadTemplates({ dir, cacheDir: path.join(blocker, 'cache'), compiler: counting.compiler, logger });
    expect(t.email.name).toBe('document');
    expect(logger.warnings.join('\n')).toMatch(/cannot write the template cache/);
  });

  it.each([
    ['an unknown MJML element', (s: string) => s.replace('<mj-text>No new posts in this period.</mj-text>', '<mj-txt>No new posts in this period.</mj-txt>'), /MJML validation failed.*Element mj-txt doesn't exist/, 'mj-txt'],
    ['an illegal attribute', (s: string) => s.replace('<mj-text>No new posts in this period.</mj-text>', '<mj-text colr="red">No new posts in this period.</mj-text>'), /Attribute colr is illegal/, 'colr='],
  ])('reports %s with the file and MJML line', async (_name, edit, message, marker) => {
    const source = edit(builtinSource);
    const dir = await templateDir(`broken-${marker.replace(/\W/g, '')}`, source);
    const err = await loadError({ dir, cacheDir: path.join(work, 'cache-broken') });
    const expectedLine = source.split('\n').findIndex((l) => l.includes(marker)) + 1;
    expect(err.code).toBe('TEMPLATE_INVALID');
    expect(err.file).toBe(path.join(dir, 'digest.mjml'));
    expect(err.line).toBe(expectedLine);
    expect(err.message).toContain(`${path.join(dir, 'digest.mjml')}:${expectedLine}:`);
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(/DIGEST_TEMPLATES/);
  });

  it('reports block markers that MJML drops (a plain comment between components)', async () => {
    const source = builtinSource.replace('<mj-raw><!--pd:empty--></mj-raw>', '<!--pd:empty-->').replace('<mj-raw><!--/pd:empty--></mj-raw>', '<!--/pd:empty-->');
    const dir = await templateDir('bare-markers', source);
    const err = await loadError({ dir, cacheDir: path.join(work, 'cache-broken') });
    expect(err.message).toMatch(/block markers were lost or moved by MJML.*<mj-raw>/);
  });

  it('rejects mj-include, a missing folder and a misspelt placeholder before loading MJML', async () => {
    const never = async (): Promise<Mjml2Html> => {
      throw new Error('not reached');
    };
    const include = await templateDir('include', builtinSource.replace('<mj-body', '<mj-include path="../../etc/passwd" />\n  <mj-body'));
    expect((await loadError({ dir: include, compiler: never })).message).toMatch(/:\d+: mj-include is not supported/);
    expect((await loadError({ dir: path.join(work, 'nope'), compiler: never })).message).toMatch(/cannot read the template \(ENOENT\)/);
    const typo = await templateDir('typo', builtinSource.replace('%%ENTRY_SUMMARY%%', '%%ENTRY_SUMARY%%'));
    const err = await loadError({ dir: typo, compiler: never });
    expect(err.line).toBe(builtinSource.split('\n').findIndex((l) => l.includes('%%ENTRY_SUMMARY%%')) + 1);
    expect(err.message).toMatch(/unknown placeholder %%ENTRY_SUMARY%% inside block "entry"/);
  });
});
