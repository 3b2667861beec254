// Page-world hooks on protected sites: wraps fetch, XMLHttpRequest and form submission, holds the
// side-effecting requests an assistant authored, and re-issues them with the owner's token. Runs in
// the page's MAIN world at document_start, before page scripts; no extension APIs here, only a
// private MessagePort to the isolated content script. Kept small: it runs on every page load.
import { installFetch } from './install-fetch';
import { installXhr } from './install-xhr';
import { installForms } from './install-form';
import { openHookChannel } from './hook-channel';

export function installPageHooks(win: Window & typeof globalThis = window): void {
  // All synchronous, before any page script runs: each installer captures the page's own primitives
  // first and calls only those later, so a page that redefines them cannot intercept what is sent.
  const listen = win.addEventListener.bind(win);
  const channel = openHookChannel(win, listen);
  installFetch(win, channel);
  installXhr(win, channel);
  installForms(win, channel, listen);
}
