import * as z from 'zod';
import { subscribersFileSchema } from './subscribers-schema.js';

/** JSON Schema (draft 2020-12) of subscribers.json, generated from the zod schema so both never disagree. */
export function subscribersJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(subscribersFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'planet-digest subscribers.json',
    description: 'Feeds and subscribers of a planet-digest installation. Validate with `planet-digest validate`.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
