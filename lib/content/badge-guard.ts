// Keeps genuine badges honest after they are drawn: a badge the page moved away from its post, or a
// badge beside a post whose text the page changed since it was checked, is taken down and its post
// is checked again — so a real "verified" badge can never vouch for other content. Content script only.

interface Drawn {
  post: Element;
  anchor: Element;
  content: string;
}

export class BadgeGuard {
  private readonly hosts = new WeakMap<Element, Drawn>();
  private readonly byPost = new WeakMap<Element, Element>();

  constructor(private readonly posts: { container: string; body: string }) {}

  /** Remembers a badge: where it was put and the text it was judged on. */
  track(host: Element, post: Element, anchor: Element, content: string): void {
    this.hosts.set(host, { post, anchor, content });
    this.byPost.set(post, host);
  }

  /**
   * For a node the page touched (added, moved, or whose children or text changed): the post whose
   * badge no longer holds, after taking that badge down, or null. Cheap: a WeakMap look-up and one
   * closest() per node.
   */
  check(node: Node): Element | null {
    const own = node instanceof Element ? this.hosts.get(node) : undefined;
    if (own) return node.parentNode === own.anchor && node.isConnected ? null : this.takeDown(node as Element, own.post);
    const el = node instanceof Element ? node : node.parentElement;
    const post = el?.closest(this.posts.container);
    const host = post ? this.byPost.get(post) : undefined;
    if (!post || !host) return null;
    const drawn = this.hosts.get(host)!;
    if (host.parentNode === drawn.anchor && (post.querySelector(this.posts.body)?.textContent ?? '') === drawn.content) return null;
    return this.takeDown(host, post);
  }

  private takeDown(host: Element, post: Element): Element | null {
    host.remove();
    this.hosts.delete(host);
    if (this.byPost.get(post) !== host) return null;
    this.byPost.delete(post);
    return post;
  }
}
