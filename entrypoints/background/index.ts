// Background service worker: wires the background modules, nothing else. Background only.
import { registerBackground } from '@/lib/extension/background';

export default defineBackground({
  type: 'module',
  main() {
    registerBackground();
  },
});
