// Which posts a badge pass looks at: the nodes the page added or touched since the last pass, as a
// MutationObserver queues them (it does no DOM work itself), turned into posts not yet seen, and the
// posts whose badge came down to be checked again. Isolated content script only (over the page's
// nodes); no timers of its own.
import { badgeGuard } from './guard';

export interface PostQueue {
  /**
   * From the observer: nodes added, and nodes whose children or text changed. True when a pass is
   * due. For a record of our own insertion (only badge hosts we drew added, nothing removed) only
   * the hosts are checked, not their posts: drawing 1,000 badges must not make the next pass re-read
   * 1,000 posts. A badge the page moves still shows, as the removal from where we put it.
   */
  record(records: Iterable<Pick<MutationRecord, 'addedNodes' | 'target'> & { removedNodes?: NodeList }>): boolean;
  /** Remembers a drawn badge: its host is ours, and it stays only while its post is as it was judged. */
  drawn(host: Element, post: Element, anchor: Element, content: string): void;
  /** The posts to read in this pass, each once: new ones (`root` in the first), and those whose badge the page broke. */
  collect(): Element[];
}

export function postQueue(posts: { container: string; body: string }, root: Node): PostQueue {
  const seen = new WeakSet<Element>();
  // Badges the page moved, or whose post's text it changed, come down and their posts are checked again.
  const guard = badgeGuard(posts);
  let touched = new Set<Node>();
  /** The badge hosts this script drew. */
  const ours = new WeakSet<Node>();
  let queue: Node[] = [root];
  return {
    record(records) {
      for (const r of records) {
        let foreign = !!r.removedNodes?.length || !r.addedNodes.length;
        for (const n of r.addedNodes) {
          if (ours.has(n)) {
            touched.add(n);
            continue;
          }
          foreign = true;
          queue.push(n);
        }
        if (foreign) touched.add(r.target);
      }
      return !!(queue.length || touched.size);
    },
    drawn(host, post, anchor, content) {
      ours.add(host);
      guard.track(host, post, anchor, content);
    },
    collect() {
      const found: Element[] = [];
      for (const node of touched) {
        const post = guard.check(node);
        if (post) {
          seen.delete(post);
          queue.push(post);
        }
      }
      touched = new Set();
      for (const node of queue) {
        // Our own badges arrive here too (they are added nodes): nothing to find in them. Only the
        // hosts we made are skipped, never an element by its name, which a page could give a post.
        if (!(node instanceof Element) || ours.has(node)) continue;
        if (node.matches(posts.container) && !seen.has(node)) found.push(node);
        for (const el of node.querySelectorAll(posts.container)) if (!seen.has(el)) found.push(el);
      }
      queue = [];
      for (const el of found) seen.add(el);
      return found;
    },
  };
}
