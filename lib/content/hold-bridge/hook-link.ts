// The isolated end of the private channel to the page-world hooks: offers a MessagePort on the
// window (again whenever the hooks announce themselves late), takes the first offered port the hooks
// answer `ready` on as the channel and closes the others; only the channel's messages reach the
// bridge. Isolated content script only (handed the window and the script's context).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import type { BridgeToHook, HookToBridge } from '../channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from '../channel';

/** What the hooks send once they took a port, `ready` aside. */
export type FromHooks = Exclude<HookToBridge, { t: 'ready' }>;

/**
 * Links the bridge to the hooks: `onReady` once they took a port, `onMessage` for each later message
 * on it. Returns how to send to them (dropped until they took a port).
 */
export function linkHooks(win: Window, ctx: Pick<ContentScriptContext, 'addEventListener'>, onReady: () => void, onMessage: (msg: FromHooks) => void): (msg: BridgeToHook) => void {
  let port: MessagePort | null = null;
  // Every port we offered; the hooks take the first that reaches them and answer `ready` on it.
  const offered = new Set<MessagePort>();
  const offer = () => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = ({ data: msg }: MessageEvent<HookToBridge>) => {
      if (msg.t !== 'ready') {
        if (port1 === port) onMessage(msg);
      } else if (!port && offered.has(port1)) {
        port = port1;
        for (const other of offered) if (other !== port1) other.close();
        onReady();
      }
    };
    offered.add(port1);
    win.postMessage({ type: PORT_MESSAGE }, win.location.origin, [port2]);
  };
  offer();
  // The page-world hooks announce themselves; if they started after our port was posted, offer anew.
  ctx.addEventListener(win, 'message', (event: MessageEvent) => {
    if (!port && event.source === win && (event.data as { type?: unknown })?.type === HELLO_MESSAGE) offer();
  });
  return (msg) => port?.postMessage(msg);
}
