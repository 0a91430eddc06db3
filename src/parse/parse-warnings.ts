/**
 * Prefix of the warnings that mean "the document was not well-formed and was repaired to read it" (what feedparser
 * calls bozo). Other warnings are about content (missing dates, skipped entries, caps).
 */
export const NOT_WELL_FORMED = 'not well-formed: ';

/** True when a ParsedFeed warning says the document needed a repair to be read. */
export function isNotWellFormedWarning(warning: string): boolean {
  return warning.startsWith(NOT_WELL_FORMED);
}
