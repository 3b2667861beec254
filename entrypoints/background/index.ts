// Background service worker: wires the background modules. Background only.
// Modules (device key, policy, log sync, hold queue) are registered here as later issues land.

export default defineBackground({
  type: 'module',
  main() {
    // Nothing to wire yet: the protocol library (lib/protocol) is the foundation the
    // background modules of later issues build on.
  },
});
