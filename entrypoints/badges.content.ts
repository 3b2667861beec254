// Readers' provenance badges on pages whose adapter names their posts. Registered at run time for
// those pages only. Entry only: the logic is lib/content/badges/. Chrome may inject at
// document_idle before the page's load event; the badges start after it, so they never delay it.
import { startBadges } from '@/lib/content/badges';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  registration: 'runtime',
  runAt: 'document_idle',
  main(ctx) {
    if (document.readyState === 'complete') void startBadges(ctx);
    else ctx.addEventListener(window, 'load', () => void startBadges(ctx), { once: true });
  },
});
