// Content-script registration: only patterns Chrome takes are registered (one it refused would make it
// refuse the whole call, protecting nothing), an unusable pattern as the site it names, port patterns
// as written; and should Chrome still refuse a pattern, it is found, reported and failed closed.
// Chrome's registry is a fake here that refuses what a predicate says. Node only (tests).
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { SCRIPT_IDS, badgePatterns, injectionPatterns, syncContentScripts, withRegistrationProblems } from '@/lib/extension/content-scripts';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { registrablePattern, registrationRefusal } from '@/lib/policy/match-patterns';

interface Script {
  id: string;
  matches?: string[];
}

/** A stand-in for chrome.scripting: refuses a whole call when any pattern is one `refuses` names, as Chrome does. */
function fakeScripting(refuses: (pattern: string) => boolean) {
  const registered = new Map<string, Script>();
  let calls = 0;
  Object.assign(fakeBrowser.scripting, {
    getRegisteredContentScripts: async (filter?: { ids?: string[] }) => [...registered.values()].filter((s) => !filter?.ids || filter.ids.includes(s.id)),
    unregisterContentScripts: async (filter?: { ids?: string[] }) => {
      for (const id of filter?.ids ?? [...registered.keys()]) registered.delete(id);
    },
    registerContentScripts: async (scripts: Script[]) => {
      calls++;
      const bad = scripts.flatMap((s) => s.matches ?? []).find(refuses);
      if (bad) throw new Error(`Invalid url pattern '${bad}'`);
      for (const s of scripts) {
        if (registered.has(s.id)) throw new Error(`Duplicate script ID '${s.id}'`);
        registered.set(s.id, s);
      }
    },
  });
  return { registered, calls: () => calls };
}

beforeEach(() => fakeBrowser.reset());

describe('which patterns are registered', () => {
  it('Chrome\'s content-script patterns: http and https (ports too) and <all_urls>; not ws, file or ftp', () => {
    for (const p of ['http://wiki.corp:8080/*', 'https://*.corp/*', '*://x.corp/*', '<all_urls>', 'http://[::1]:3000/*']) expect(registrationRefusal(p)).toBeNull();
    for (const p of ['wss://chat.corp/*', 'file:///tmp/*', 'ftp://files.corp/*', 'http://wiki.corp:99999/*']) expect(registrationRefusal(p)).not.toBeNull();
    expect(registrablePattern('wss://chat.corp/*')).toBe('*://chat.corp/*');
    expect(registrablePattern('file:///tmp/*')).toBeNull();
  });

  it('protected sites as written, port patterns included, plus the sites of unusable patterns, deduplicated', () => {
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*', 'http://wiki.corp:99999/*', 'http://tickets.corp/*', 'http://wiki.corp:70000/*'] }, {});
    expect(injectionPatterns(view)).toEqual(['http://wiki.corp:8080/*', 'http://tickets.corp/*', '*://wiki.corp/*']);
  });

  it('badges go on the pages of adapters that name their posts', () => {
    const posts = { container: 'article', author: '.a', body: '.b', receipt: 'data-r' };
    const view = effectivePolicy({ adapters: JSON.stringify([{ id: 'forum', match: ['http://forum.corp:8080/*'], actions: [], posts }, { id: 'console', match: ['http://console.corp/*'], actions: [] }]) }, {});
    expect(badgePatterns(view)).toEqual(['http://forum.corp:8080/*']);
  });
});

describe('registering', () => {
  it('registers hooks and hold for the protected patterns, port patterns included', async () => {
    const chrome = fakeScripting(() => false);
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*'] }, {});
    expect(await syncContentScripts(view)).toEqual(['http://wiki.corp:8080/*']);
    expect([...chrome.registered.values()].map((s) => [s.id, s.matches])).toEqual([
      [SCRIPT_IDS.hooks, ['http://wiki.corp:8080/*']],
      [SCRIPT_IDS.hold, ['http://wiki.corp:8080/*']],
    ]);
  });

  it('a fresh install registers nothing', async () => {
    const chrome = fakeScripting(() => false);
    expect(await syncContentScripts(effectivePolicy({}, {}))).toEqual([]);
    expect(chrome.registered.size).toBe(0);
  });

  it('a pattern Chrome refuses although Countersign took it: the rest is registered, its site fails closed, the problem is shown', async () => {
    const chrome = fakeScripting((p) => p === 'http://odd_host.corp:8080/*');
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*', 'http://odd_host.corp:8080/*'] }, {});
    const kept = await syncContentScripts(view);
    expect(kept).toEqual(['http://wiki.corp:8080/*', '*://odd_host.corp/*']);
    expect(chrome.registered.get(SCRIPT_IDS.hooks)?.matches).toEqual(kept);
    const shown = withRegistrationProblems(view);
    expect(shown.problems).toEqual([{ source: 'browser', field: 'content scripts', message: expect.stringMatching(/Chrome refused the match pattern "http:\/\/odd_host.corp:8080\/\*".*fails closed on \*:\/\/odd_host.corp\/\*/), closes: ['*://odd_host.corp/*'] }]);
    expect(shown.failClosed).toEqual(['*://odd_host.corp/*']);
    expect(chrome.registered.has('countersign-probe')).toBe(false);
  });

  it('the same policy again changes nothing', async () => {
    const chrome = fakeScripting(() => false);
    const view = effectivePolicy({ protectedSites: ['http://wiki.corp:8080/*'] }, {});
    await syncContentScripts(view);
    const before = chrome.calls();
    await syncContentScripts(view);
    expect(chrome.calls()).toBe(before);
  });
});
