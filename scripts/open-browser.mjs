// `npm start -- --open`: Chromium with the built extension in a throwaway profile, on the extension's
// options page, the way `wxt dev`'s runner opens a browser. Node only.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's Chromium unless CHROME_PATH names another. Google Chrome 137+ ignores --load-extension. */
export function chromePath(env = process.env, platform = process.platform) {
  if (env.CHROME_PATH) return env.CHROME_PATH;
  return platform === 'darwin' ? '/Applications/Chromium.app/Contents/MacOS/Chromium' : '/usr/bin/chromium';
}

/** Why no browser can be opened here, or null. A Linux (or BSD) desktop has DISPLAY or WAYLAND_DISPLAY. */
export function cannotOpen(env = process.env, platform = process.platform) {
  const desktop = platform === 'darwin' || platform === 'win32' || env.DISPLAY || env.WAYLAND_DISPLAY;
  if (!desktop) return 'this machine has no display (DISPLAY and WAYLAND_DISPLAY are unset), so no browser was opened';
  const binary = chromePath(env, platform);
  if (!existsSync(binary)) return `there is no Chromium at ${binary} (install it, e.g. \`apt-get install chromium\`, or set CHROME_PATH)`;
  return null;
}

/**
 * The command line: a fresh profile, the extension loaded unpacked, background networking off (the
 * switches of the browser tests' CHROMIUM_FLAGS, test/helpers/browser/browser.ts), so a throwaway profile
 * phones nobody; and the DevTools pipe, through which the options page is opened once the extension is
 * loaded (a start URL on the command line is blocked: the extension is not loaded yet when it opens).
 */
export function chromiumArgs({ profile, extensionDir, root = process.getuid?.() === 0 }) {
  return [
    `--user-data-dir=${profile}`,
    `--load-extension=${extensionDir}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--remote-debugging-pipe',
    // The pipe marks the browser automated (navigator.webdriver), one of Countersign's authorship
    // signals: a person is driving this one. The browser tests play a person with the same switch.
    '--disable-blink-features=AutomationControlled',
    // Chromium refuses to run as root with its sandbox on.
    ...(root ? ['--no-sandbox'] : []),
    'about:blank',
  ];
}

/** DevTools protocol over Chromium's pipe (fd 3 in, fd 4 out; messages end with NUL). */
function devtoolsPipe(input, output) {
  let nextId = 0;
  let buffer = '';
  const pending = new Map();
  const listeners = new Set();
  output.on('data', (chunk) => {
    buffer += String(chunk);
    for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const { resolve, reject } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) reject(new Error(`${message.error.message}`));
        else resolve(message.result);
      } else for (const listener of listeners) listener(message);
    }
  });
  input.on('error', () => undefined);
  // Chromium gone: nothing more will come.
  output.on('close', () => {
    for (const { reject } of pending.values()) reject(new Error('Chromium exited'));
    pending.clear();
    for (const listener of listeners) listener(null);
  });
  return {
    send(method, params = {}, sessionId) {
      return new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
      });
    },
    /** The first event for which `test` returns a value; that value. */
    waitFor(test, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error('timed out'));
        }, timeoutMs);
        const listener = (message) => {
          if (message === null) {
            clearTimeout(timer);
            listeners.delete(listener);
            return reject(new Error('Chromium exited'));
          }
          const value = test(message);
          if (value === undefined) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(value);
        };
        listeners.add(listener);
      });
    },
  };
}

/**
 * Starts the browser and, once the extension's service worker runs, turns its first tab into
 * `startUrl`. `ready` resolves then (or rejects, saying why). `close()` stops the browser and removes
 * the profile; `onExit` is called if the person closes it first (the profile is removed then too).
 */
export function openChromium({ extensionDir, extensionId, startUrl, onExit }) {
  const profile = mkdtempSync(join(tmpdir(), 'countersign-chromium-'));
  const child = spawn(chromePath(), chromiumArgs({ profile, extensionDir }), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  // Chromium's own chatter (D-Bus, GPU) is noise; keep the end of it for when it fails to start.
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-2000);
    if (process.env.VERBOSE) process.stderr.write(d);
  });
  let closing = false;
  const exited = new Promise((resolve) => {
    let over = false;
    const done = (code, signal) => {
      if (over) return;
      over = true;
      rmSync(profile, { recursive: true, force: true });
      if (!closing) onExit?.({ code, signal, stderr });
      resolve();
    };
    child.once('exit', done);
    child.once('error', (error) => done(null, String(error.message)));
  });

  const cdp = devtoolsPipe(child.stdio[3], child.stdio[4]);
  const created = (type, prefix) => (m) =>
    m.method === 'Target.targetCreated' && m.params.targetInfo.type === type && m.params.targetInfo.url.startsWith(prefix) ? m.params.targetInfo : undefined;
  const ready = (async () => {
    const worker = cdp.waitFor(created('service_worker', `chrome-extension://${extensionId}/`), 20_000);
    const blank = cdp.waitFor(created('page', 'about:blank'), 20_000);
    await cdp.send('Target.setDiscoverTargets', { discover: true });
    await worker.catch((error) => {
      throw error.message === 'timed out' ? new Error(`the extension did not load from ${extensionDir} (Google Chrome 137+ ignores --load-extension: use Chromium)`) : error;
    });
    const { targetId } = await blank;
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    await cdp.send('Page.navigate', { url: startUrl }, sessionId);
    await cdp.send('Target.detachFromTarget', { sessionId });
  })();
  ready.catch(() => undefined);

  return {
    profile,
    ready,
    async close() {
      closing = true;
      const running = () => child.exitCode === null && child.signalCode === null;
      if (running()) cdp.send('Browser.close').catch(() => child.kill('SIGTERM'));
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
