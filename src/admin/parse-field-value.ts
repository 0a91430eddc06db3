import { AdminError } from './admin-error.js';

/**
 * A list from the command line: a JSON array ('["a","b"]'), else comma-separated items, trimmed, empty ones dropped.
 * Commas inside double quotes do not split, so keyword phrases like '"hello, world"' survive.
 */
export function parseListValue(value: string | readonly string[]): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter((v) => v !== '');
  const text = (value as string).trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AdminError('invalid-input', `not a valid JSON list: ${text}`, { cause: error, hint: 'Write a,b,c or ["a","b","c"].' });
    }
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
      throw new AdminError('invalid-input', `expected a list of strings: ${text}`, { hint: 'Write a,b,c or ["a","b","c"].' });
    }
    return parsed.map((v) => v.trim()).filter((v) => v !== '');
  }
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.map((v) => v.trim()).filter((v) => v !== '');
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** true/false, yes/no, on/off, 1/0 (any case). */
export function parseBooleanValue(value: string, field: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new AdminError('invalid-input', `${field}: expected true or false, got "${value}"`);
}

/** A whole number written in decimal. */
export function parseIntegerValue(value: string, field: string): number {
  const v = value.trim();
  if (!/^-?\d{1,9}$/.test(v)) throw new AdminError('invalid-input', `${field}: expected a whole number, got "${value}"`);
  return Number(v);
}
