// Reads Countersign's badges out of their closed shadow roots through the DevTools protocol (pages
// cannot, and neither can Playwright's locators). Node only (browser tests).
import type { Page } from 'playwright-core';

interface CdpNode {
  nodeName: string;
  nodeValue?: string;
  attributes?: string[];
  children?: CdpNode[];
  shadowRoots?: Array<CdpNode & { shadowRootType?: string }>;
}

export interface BadgeSeen {
  /** The id of the post (article) the badge sits in. */
  postId: string | null;
  state: string;
  text: string;
  shadowRootType: string | undefined;
  /** The details panel: open or not, and what it says. */
  detailsOpen: boolean;
  details: string;
}

function attr(node: CdpNode, name: string): string | null {
  const a = node.attributes ?? [];
  for (let i = 0; i < a.length; i += 2) if (a[i] === name) return a[i + 1] ?? null;
  return null;
}

/** The text as shown: the secret mark is CSS generated content from `data-mark` (so a page's find() cannot see it). */
function text(node: CdpNode): string {
  if (node.nodeName === '#text') return node.nodeValue ?? '';
  return (attr(node, 'data-mark') ?? '') + (node.children ?? []).map(text).join('');
}

export async function badgesOnPage(page: Page): Promise<BadgeSeen[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: CdpNode };
    const found: BadgeSeen[] = [];
    const walk = (node: CdpNode, postId: string | null) => {
      const here = node.nodeName === 'ARTICLE' ? attr(node, 'id') : postId;
      // A span hosts the badge when the page defined the element name itself (see lib/content/badges/badge-view.ts).
      if (node.nodeName === 'COUNTERSIGN-BADGE' || (node.nodeName === 'SPAN' && attr(node, 'data-countersign-badge') !== null)) {
        const shadow = node.shadowRoots?.[0];
        const button = shadow?.children?.find((c) => c.nodeName === 'BUTTON');
        const panel = shadow?.children?.find((c) => c.nodeName === 'DIV');
        found.push({
          postId: here,
          state: button ? (attr(button, 'class') ?? '') : '',
          text: button ? text(button) : '',
          shadowRootType: shadow?.shadowRootType,
          detailsOpen: panel ? attr(panel, 'data-open') !== null : false,
          details: panel ? text(panel) : '',
        });
      }
      for (const child of node.children ?? []) walk(child, here);
    };
    walk(root, null);
    return found;
  } finally {
    await cdp.detach();
  }
}
