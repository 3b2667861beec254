// What the bridge tells the page-world hooks about a site, from the background's site config: an
// adapter's actions (what each requires, "agents" unless it says), its assistant markers and strict
// mode; the generic rule on a protected site without an adapter; and nothing at all on a site that is
// not protected, whatever else the config carries. Node only (tests).
import { describe, expect, it } from 'vitest';
import { hookConfig } from '@/lib/content/hold-bridge/hook-config';
import type { SiteConfig } from '@/lib/messaging/contract';
import type { SiteAdapter } from '@/lib/protocol';

const adapter: SiteAdapter = {
  id: 'forum',
  match: ['http://forum.corp:8080/*'],
  actions: [
    { scope: 'forum.post', request: { method: 'POST', url: '/api/topics/*/replies' }, content: 'body' },
    { scope: 'forum.acl', request: { method: 'PUT', url: '/api/topics/*/acl' }, requires: 'always' },
  ],
  assistant: { headers: ['X-Assistant'], fields: { author_kind: 'assistant' }, selectors: ['[data-assistant-draft]'] },
};

describe('hookConfig', () => {
  it('a protected site with an adapter: each action\'s method, URL pattern and requirement (agents by default), its markers, strict mode', () => {
    expect(hookConfig({ protected: true, adapter, strictMode: true })).toEqual({
      actions: [
        { request: { method: 'POST', url: '/api/topics/*/replies' }, requires: 'agents' },
        { request: { method: 'PUT', url: '/api/topics/*/acl' }, requires: 'always' },
      ],
      generic: false,
      markerHeaders: ['X-Assistant'],
      markerFields: { author_kind: 'assistant' },
      markerSelectors: ['[data-assistant-draft]'],
      strictMode: true,
    });
  });

  it('the hooks get only what they match on: no scope, content or other adapter member', () => {
    const [first] = hookConfig({ protected: true, adapter, strictMode: false }).actions;
    expect(Object.keys(first!)).toEqual(['request', 'requires']);
    expect(Object.keys(first!.request)).toEqual(['method', 'url']);
  });

  it('a protected site without an adapter: the generic rule, no markers', () => {
    expect(hookConfig({ protected: true, adapter: null, strictMode: false })).toEqual({ actions: [], generic: true, markerHeaders: [], markerFields: {}, markerSelectors: [], strictMode: false });
  });

  it('an adapter without assistant markers: none', () => {
    const { assistant: _, ...bare } = adapter;
    expect(hookConfig({ protected: true, adapter: bare, strictMode: false })).toMatchObject({ markerHeaders: [], markerFields: {}, markerSelectors: [] });
  });

  it('a site that is not protected holds nothing: no actions, no generic rule, no strict mode, even if the config names an adapter', () => {
    const config = { protected: false, adapter, strictMode: true } as SiteConfig;
    expect(hookConfig(config)).toEqual({ actions: [], generic: false, markerHeaders: [], markerFields: {}, markerSelectors: [], strictMode: false });
  });
});
