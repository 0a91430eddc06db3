/** The minimum of a feed needed to resolve references to it. */
export interface FeedRefTarget {
  id: string;
  tags?: readonly string[];
}

/** A subscriber's feed references: ids, "tag:NAME" or "*"; an empty or missing `feeds` means every feed. */
export interface FeedRefs {
  feeds?: readonly string[];
  excludeFeeds?: readonly string[];
}

/** Resolves feed references to feed ids (includes minus excludes), and lists references that match no configured feed. */
export function resolveFeedRefs(refs: FeedRefs, feeds: readonly FeedRefTarget[]): { feedIds: Set<string>; unknown: string[] } {
  const unknown = new Set<string>();
  const byTag = new Map<string, string[]>();
  const ids = new Set<string>();
  for (const feed of feeds) {
    ids.add(feed.id);
    for (const tag of feed.tags ?? []) {
      const list = byTag.get(tag);
      if (list) list.push(feed.id);
      else byTag.set(tag, [feed.id]);
    }
  }
  const resolve = (list: readonly string[], into: Set<string>): void => {
    for (const ref of list) {
      if (ref === '*') {
        for (const id of ids) into.add(id);
      } else if (ref.startsWith('tag:')) {
        const tagged = byTag.get(ref.slice(4));
        if (tagged) for (const id of tagged) into.add(id);
        else unknown.add(ref);
      } else if (ids.has(ref)) {
        into.add(ref);
      } else {
        unknown.add(ref);
      }
    }
  };
  const feedIds = new Set<string>();
  resolve(refs.feeds && refs.feeds.length > 0 ? refs.feeds : ['*'], feedIds);
  const excluded = new Set<string>();
  resolve(refs.excludeFeeds ?? [], excluded);
  for (const id of excluded) feedIds.delete(id);
  return { feedIds, unknown: [...unknown] };
}

/** Ids of the feeds a subscriber receives, in the order the feeds are configured (for listings). */
export function resolveFeedIds(refs: FeedRefs, feeds: readonly FeedRefTarget[]): string[] {
  const { feedIds } = resolveFeedRefs(refs, feeds);
  return feeds.map((f) => f.id).filter((id) => feedIds.has(id));
}
