/** The minimum of a feed and a subscriber needed to work out which feeds a subscriber receives. */
interface FeedLike {
  id: string;
  tags?: readonly string[];
}
interface SelectionLike {
  feeds?: readonly string[];
  excludeFeeds?: readonly string[];
}

function expand(refs: readonly string[], feeds: readonly FeedLike[]): Set<string> {
  const ids = new Set<string>();
  for (const ref of refs) {
    if (ref === '*') for (const f of feeds) ids.add(f.id);
    else if (ref.startsWith('tag:')) {
      const tag = ref.slice(4);
      for (const f of feeds) if (f.tags?.includes(tag)) ids.add(f.id);
    } else if (feeds.some((f) => f.id === ref)) ids.add(ref);
  }
  return ids;
}

/** Ids of the feeds a subscriber receives ("*", "tag:NAME" and ids expanded, excludeFeeds removed), in feed order. */
export function resolveFeedIds(subscriber: SelectionLike, feeds: readonly FeedLike[]): string[] {
  const included = expand(subscriber.feeds ?? ['*'], feeds);
  const excluded = expand(subscriber.excludeFeeds ?? [], feeds);
  return feeds.map((f) => f.id).filter((id) => included.has(id) && !excluded.has(id));
}
