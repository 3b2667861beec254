// The isolated content script on protected sites: bridges the page hooks to the background and
// shows the hold notice. Registered at run time for protected sites only. Entry only.
import { startHoldBridge } from '@/lib/content/hold-bridge';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  registration: 'runtime',
  runAt: 'document_start',
  main(ctx) {
    void startHoldBridge(ctx);
  },
});
