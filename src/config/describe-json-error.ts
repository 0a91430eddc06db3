/** Line and column of a JSON.parse error position, for a message the admin can act on. */
export function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  if (!match) {
    if (/end of JSON input/i.test(message)) return `${message} at line ${text.split('\n').length} (the file ends early: a missing } or ], or a truncated file)`;
    return message;
  }
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column}`;
}
