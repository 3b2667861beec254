// Readers' provenance badges on pages whose adapter names their posts. Registered at run time for
// those pages only. Entry only: the logic is lib/content/badges.ts.
import { startBadges } from '@/lib/content/badges';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  registration: 'runtime',
  runAt: 'document_idle',
  main(ctx) {
    void startBadges(ctx);
  },
});
