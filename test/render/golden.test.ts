/**
 * Golden files for the fixed sample digest, compared byte for byte. They catch any unintended change in
 * output; the assertions that say what matters live in the other render tests.
 * After an intended change: UPDATE_GOLDEN=1 npx vitest run test/render/golden.test.ts, then review the diff.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderEmail, type RenderedEmail } from '../../src/render/render-email.js';
import { renderSlack } from '../../src/render/render-slack.js';
import { loadTestTemplates } from '../fixtures/render/load-test-templates.js';
import { buildSampleDigest, SAMPLE_NOW } from '../fixtures/render/sample-digest.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/render/golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

async function compareGolden(name: string, actual: string): Promise<void> {
  const file = path.join(GOLDEN, name);
  if (update) await writeFile(file, actual);
  const expected = await readFile(file, 'utf8');
  expect(actual === expected, `${name} differs from the golden file (UPDATE_GOLDEN=1 to accept an intended change)`).toBe(true);
}

describe('golden output for the sample digest', () => {
  let email: RenderedEmail;
  beforeAll(async () => {
    email = renderEmail(buildSampleDigest(), await loadTestTemplates(), { subjectPattern: '{count} new posts from {sources}', now: SAMPLE_NOW });
  });

  it('sample.html', async () => {
    await compareGolden('sample.html', email.html);
  });

  it('sample.txt', async () => {
    await compareGolden('sample.txt', email.text);
  });

  it('sample-email.json (subject and preheader)', async () => {
    await compareGolden('sample-email.json', JSON.stringify({ subject: email.subject, preheader: email.preheader }, null, 2) + '\n');
  });

  it('sample-slack.json', async () => {
    await compareGolden('sample-slack.json', JSON.stringify(renderSlack(buildSampleDigest(), { now: SAMPLE_NOW }), null, 2) + '\n');
  });
});
