// Page-world hooks on protected sites (MAIN world, document_start). Registered at run time for the
// sites the policy protects, so other pages never load it. Entry only: the logic is lib/content.
import { installPageHooks } from '@/lib/content/page-hooks';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  registration: 'runtime',
  world: 'MAIN',
  runAt: 'document_start',
  main() {
    installPageHooks();
  },
});
