// Writes schema/subscribers.schema.json from the zod schema, so editors validate subscribers.json
// with exactly the rules planet-digest applies. `npm run schema`; a test fails when the file is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subscribersJsonSchema } from '../src/config/subscribers-json-schema.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'subscribers.schema.json');
writeFileSync(out, JSON.stringify(subscribersJsonSchema(), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
