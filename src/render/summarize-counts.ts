/** "1 post" / "12 posts" (English UI strings; dates follow the locale). */
export function pluralizePosts(n: number): string {
  return `${n} new post${n === 1 ? '' : 's'}`;
}

/** The digest's one-line summary, used as preheader and in the header: "12 new posts from 5 sources". */
export function summarizeCounts(entryCount: number, sourceCount: number): string {
  if (entryCount === 0) return 'No new posts';
  return `${pluralizePosts(entryCount)} from ${sourceCount} source${sourceCount === 1 ? '' : 's'}`;
}
