// Keeps genuine badges honest after they are drawn: a badge the page moved away from its post, or a
// badge beside a post whose text the page changed since it was checked, is taken down and its post
// is checked again — so a real "verified" badge can never vouch for other content. Isolated content
// script only (over the page's nodes).
import { bodyOf } from './post-reader';

export interface BadgeGuard {
  /** Remembers a badge: where it was put and the text it was judged on. */
  track(host: Element, post: Element, anchor: Element, content: string): void;
  /**
   * For a node the page touched (added, moved, or whose children or text changed): the post whose
   * badge no longer holds, after taking that badge down, or null. Cheap: a WeakMap look-up and one
   * closest() per node.
   */
  check(node: Node): Element | null;
}

interface Drawn {
  post: Element;
  anchor: Element;
  content: string;
}

export function badgeGuard(posts: { container: string; body: string }): BadgeGuard {
  const hosts = new WeakMap<Element, Drawn>();
  const byPost = new WeakMap<Element, Element>();
  /** Badges taken down: one the page puts back anywhere comes down again, it vouches for nothing now. */
  const retired = new WeakSet<Element>();

  const takeDown = (host: Element, post: Element): Element | null => {
    host.remove();
    hosts.delete(host);
    retired.add(host);
    if (byPost.get(post) !== host) return null;
    byPost.delete(post);
    return post;
  };

  return {
    track(host, post, anchor, content) {
      hosts.set(host, { post, anchor, content });
      byPost.set(post, host);
    },
    check(node) {
      if (node instanceof Element && retired.has(node)) {
        node.remove();
        return null;
      }
      const own = node instanceof Element ? hosts.get(node) : undefined;
      if (own) return node.parentNode === own.anchor && node.isConnected ? null : takeDown(node as Element, own.post);
      const el = node instanceof Element ? node : node.parentElement;
      const post = el?.closest(posts.container);
      const host = post ? byPost.get(post) : undefined;
      if (!post || !host) return null;
      const drawn = hosts.get(host)!;
      if (host.parentNode === drawn.anchor && (bodyOf(post, posts.body)?.textContent ?? '') === drawn.content) return null;
      return takeDown(host, post);
    },
  };
}
