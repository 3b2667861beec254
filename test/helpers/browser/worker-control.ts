// Fault injection on the extension's service worker through the DevTools protocol: stop it (as Chrome
// does when it idles out or crashes), and pause it at a chosen statement of the built background script
// so that the stop lands at a precise point (after persist, after sign, before delivery). Nothing in
// the extension is changed for this: the points are found in the built code. Node only (browser tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { EXTENSION_DIR } from './browser';
import type { ExtensionBrowser } from './browser';

/**
 * A statement of the built background script, found by a string literal the source keeps through
 * minification. `entry`: the first statement of the function around the literal (a function
 * declaration); `handler`: the first statement of the message handler keyed by the literal;
 * `return`: the `return` statement that holds the literal.
 */
export interface PausePoint {
  literal: string;
  at: 'entry' | 'handler' | 'return';
}

/** The background's points the fault tests stop at, each by a literal of lib/extension/*.ts. */
export const POINTS = {
  /** proposeAction(): a proposal received, nothing persisted yet (held-actions.ts). */
  beforePersist: { literal: '"a held request must go to the page\'s own origin"', at: 'entry' },
  /** The propose handler after proposeAction() committed, before the page is answered or notified (lib/extension/features/holds.ts). */
  afterPersist: { literal: '"Countersign: action held"', at: 'return' },
  /** deliverRelease(): the token is signed and stored, not yet sent to the tab (lib/extension/features/holds.ts). */
  beforeDelivery: { literal: '"bg-cs:release",{actionId:', at: 'entry' },
  /** The approve handler: the popup's click has arrived, nothing checked or signed yet (lib/extension/features/approvals.ts). */
  approveReceived: { literal: '"ui-bg:approve":async', at: 'handler' },
} satisfies Record<string, PausePoint>;

/** Line and column (0-based, as CDP wants them) of a point in the built background script. */
export function locate(source: string, point: PausePoint): { lineNumber: number; columnNumber: number } {
  const hit = source.indexOf(point.literal);
  if (hit < 0 || source.indexOf(point.literal, hit + 1) >= 0) throw new Error(`the built background has ${hit < 0 ? 'no' : 'more than one'} ${point.literal}: update POINTS`);
  let offset: number;
  if (point.at === 'entry') {
    const fn = source.lastIndexOf('function', hit);
    offset = source.indexOf('{', fn) + 1;
  } else if (point.at === 'handler') {
    offset = source.indexOf('=>{', hit) + 3;
  } else {
    offset = source.lastIndexOf('return', hit);
  }
  if (offset <= 0 || offset > hit + 200) throw new Error(`cannot place a breakpoint for ${point.literal}`);
  const before = source.slice(0, offset);
  const lineNumber = before.split('\n').length - 1;
  return { lineNumber, columnNumber: offset - (before.lastIndexOf('\n') + 1) };
}

type Running = 'stopped' | 'starting' | 'running' | 'stopping';

/** One DevTools session to one target, not flattened: messages travel through the browser session. */
class TargetSession {
  private next = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Map<string, Array<(params: unknown) => void>>();

  constructor(
    private readonly browserSession: CDPSession,
    readonly sessionId: string,
  ) {
    browserSession.on('Target.receivedMessageFromTarget', (event) => {
      if (event.sessionId !== sessionId) return;
      const msg = JSON.parse(event.message) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
      if (msg.id !== undefined) {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error.message));
        else w?.resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners.get(msg.method) ?? []) l(msg.params);
      }
    });
  }

  async send<T = unknown>(method: string, params: object = {}): Promise<T> {
    const id = ++this.next;
    const answer = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    await this.browserSession.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    return answer;
  }

  once(method: string): Promise<unknown> {
    return new Promise((resolve) => {
      const list = this.listeners.get(method) ?? [];
      list.push(resolve);
      this.listeners.set(method, list);
    });
  }
}

/** The worker paused at a point: stop it there, or let it go on. */
export interface Paused {
  /** Stops the worker while it is paused (the statement never runs), then lets go of it. */
  stop(): Promise<void>;
  /** Lets the worker run on from the point, and forgets the breakpoint. */
  resume(): Promise<void>;
}

export class WorkerControl {
  private status: Running = 'stopped';
  private readonly statusWaiters: Array<{ want: Running; resolve(): void }> = [];
  /** Times this control stopped the worker: faults injected. */
  stops = 0;

  private constructor(
    private readonly browser: ExtensionBrowser,
    private readonly session: CDPSession,
    private readonly watcher: CDPSession,
    private readonly watchPage: Page,
  ) {}

  /** Opens a browser-level DevTools session, and a blank page whose session reports the worker's running status. */
  static async open(browser: ExtensionBrowser): Promise<WorkerControl> {
    const chromium = browser.context.browser();
    if (!chromium) throw new Error('no browser-level DevTools session for this context');
    const session = await chromium.newBrowserCDPSession();
    const watchPage = await browser.context.newPage();
    const watcher = await browser.context.newCDPSession(watchPage);
    const control = new WorkerControl(browser, session, watcher, watchPage);
    const scope = `chrome-extension://${browser.extensionId}/`;
    watcher.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      const ours = versions.filter((v) => v.scriptURL.startsWith(scope));
      const latest = ours.at(-1);
      if (!latest) return;
      control.status = latest.runningStatus as Running;
      for (const w of [...control.statusWaiters]) {
        if (w.want === control.status) {
          control.statusWaiters.splice(control.statusWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    await watcher.send('ServiceWorker.enable');
    return control;
  }

  /** The worker's running status as Chrome reports it. */
  runningStatus(): Running {
    return this.status;
  }

  /** Resolves when Chrome reports the worker in this status (at once if it already is); a guard, not a measurement, ends the wait after 20 s. */
  waitFor(want: Running): Promise<void> {
    if (this.status === want) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { want, resolve: () => (clearTimeout(guard), resolve()) };
      const guard = setTimeout(() => {
        this.statusWaiters.splice(this.statusWaiters.indexOf(waiter), 1);
        reject(new Error(`the service worker never became ${want} (it is ${this.status})`));
      }, 20_000);
      this.statusWaiters.push(waiter);
    });
  }

  private async targetId(): Promise<string> {
    const url = `chrome-extension://${this.browser.extensionId}/background.js`;
    const { targetInfos } = await this.session.send('Target.getTargets');
    const target = targetInfos.find((t) => t.type === 'service_worker' && t.url === url);
    if (!target) throw new Error('the extension has no service worker target');
    return target.targetId;
  }

  /** Wakes the worker the way the popup does (an extension page opening), and waits until it runs. */
  async wake(): Promise<void> {
    if (this.status === 'running') return;
    const running = this.waitFor('running');
    const page = await this.browser.openExtensionPage('popup.html');
    await running;
    await page.close();
  }

  /** Stops the running worker, as Chrome does on idle or a crash, and waits until Chrome says it stopped. */
  async stop(): Promise<void> {
    await this.waitFor('running');
    const stopped = this.waitFor('stopped');
    await this.session.send('Target.closeTarget', { targetId: await this.targetId() });
    await stopped;
    this.stops++;
  }

  /**
   * Sets a breakpoint at a point of the running worker. The returned promise resolves once the worker
   * has reached the point; the caller then stops it there or resumes it.
   */
  async pauseAt(point: PausePoint): Promise<{ reached: Promise<Paused> }> {
    await this.waitFor('running');
    const source = readFileSync(join(EXTENSION_DIR, 'background.js'), 'utf8');
    const where = locate(source, point);
    const targetId = await this.targetId();
    const { sessionId } = await this.session.send('Target.attachToTarget', { targetId, flatten: false });
    const target = new TargetSession(this.session, sessionId);
    await target.send('Debugger.enable');
    const { breakpointId } = await target.send<{ breakpointId: string }>('Debugger.setBreakpointByUrl', { urlRegex: 'background\\.js$', ...where });
    const detach = () => this.session.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    const reached = target.once('Debugger.paused').then(
      (): Paused => ({
        stop: async () => {
          // Detaching first would resume the worker: stop it while it is still paused, then let go.
          await this.stop();
          await detach();
        },
        resume: async () => {
          await target.send('Debugger.removeBreakpoint', { breakpointId });
          await target.send('Debugger.resume');
          await detach();
        },
      }),
    );
    return { reached };
  }

  async close(): Promise<void> {
    await this.session.detach().catch(() => undefined);
    await this.watcher.detach().catch(() => undefined);
    await this.watchPage.close().catch(() => undefined);
  }
}
