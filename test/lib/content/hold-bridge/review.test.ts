// What the bridge puts before the owner: the post's text read where the adapter action says (a field or
// a JSON pointer, with the protocol's reader), and a config change's rows with every value of a repeated
// field in order, each beside its before value (read through the adapter in the user's session, or the
// form as the page loaded); an edit form's text before beside the text sent. The action is found from
// the request itself; the background checks both again. Node only (tests).
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { review } from '@/lib/content/hold-bridge/review';
import type { Proposed } from '@/lib/content/hold-bridge/review';
import type { SiteAdapter } from '@/lib/protocol';

const ORIGIN = 'http://wiki.corp:8090';
const wiki: SiteAdapter = {
  id: 'wiki',
  match: [`${ORIGIN}/*`],
  actions: [
    { scope: 'wiki.edit', request: { method: 'PUT', url: '/api/pages/*' }, content: '/page/text' },
    { scope: 'wiki.acl', request: { method: 'PUT', url: '/api/pages/*/acl' }, form: 'form#acl', before: { form: 'form#acl' } },
    { scope: 'wiki.share', request: { method: 'POST', url: '/api/pages/*/share' }, before: { get: '/api/pages/{1}/share' } },
  ],
};
const proposed = (method: string, path: string, contentType: string, body: string): Proposed => ({ t: 'propose', id: 1, kind: 'fetch', request: { method, url: `${ORIGIN}${path}`, contentType, body }, signals: ['assistant-marker'], agentHint: null });

function withPage(html: string) {
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  // linkedom has no form.elements (which formEntries reads through HTMLFormElement's prototype): the form's own fields, in order.
  const elements = Object.defineProperty({}, 'elements', { get(this: Element) { return this.querySelectorAll('input, select, textarea, button'); } });
  vi.stubGlobal('document', document);
  vi.stubGlobal('location', { href: `${ORIGIN}/p/runbook` });
  vi.stubGlobal('HTMLFormElement', { prototype: elements });
}

afterEach(() => vi.unstubAllGlobals());

describe('the review the bridge proposes', () => {
  it('reads the post text at the action\'s JSON pointer, not a top-level key of the same name', async () => {
    const r = await review(wiki, proposed('PUT', '/api/pages/runbook', 'application/json', '{"text":"decoy","page":{"text":"Rotate the keys."}}'));
    expect(r).toEqual({ content: 'Rotate the keys.', diff: { kind: 'text', before: null, after: 'Rotate the keys.' } });
  });

  it('a config change with a repeated field: every value in order, each beside the value it replaces', async () => {
    withPage('<form id="acl"><input name="group" value="payroll"><input name="group" value="hr"><input name="mode" value="read"></form>');
    const r = await review(wiki, proposed('PUT', '/api/pages/runbook/acl', 'application/x-www-form-urlencoded', 'group=everyone&group=payroll&mode=read'));
    expect(r.diff).toEqual({
      kind: 'fields',
      fields: [
        { name: 'group', before: 'payroll', after: 'everyone' },
        { name: 'group', before: 'hr', after: 'payroll' },
        { name: 'mode', before: 'read', after: 'read' },
      ],
    });
  });

  it('a config change\'s "before" is the form as the page loaded, not as it is now (the box the person ticked is the change)', async () => {
    withPage('<form id="acl"><input name="group" value="everyone"><input name="mode" value="write"></form>');
    const atLoad = (form: HTMLFormElement) => (form.id === 'acl' ? ([['group', 'payroll'], ['mode', 'read']] as Array<[string, string]>) : null);
    const r = await review(wiki, proposed('PUT', '/api/pages/runbook/acl', 'application/x-www-form-urlencoded', 'group=everyone&mode=write'), atLoad);
    expect(r.diff).toEqual({ kind: 'fields', fields: [{ name: 'group', before: 'payroll', after: 'everyone' }, { name: 'mode', before: 'read', after: 'write' }] });
  });

  it('an edit form\'s post: the text before is its content field as the page loaded, beside the text sent', async () => {
    const edit: SiteAdapter = { ...wiki, actions: [{ scope: 'wiki.edit', request: { method: 'POST', url: '/index.php' }, form: 'form#editform', content: 'wpTextbox1', before: { form: 'form#editform' } }] };
    withPage('<form id="editform"><input name="wpTextbox1" value="the assistant\'s text"></form>');
    const atLoad = () => [['wpSection', ''], ['wpTextbox1', 'Line one.\r\nLine two.\r\n']] as Array<[string, string]>;
    const r = await review(edit, proposed('POST', '/index.php?title=Runbook&action=submit', 'application/x-www-form-urlencoded', 'wpSection=&wpTextbox1=Line+one.%0D%0ALine+three.'), atLoad);
    expect(r).toEqual({ content: 'Line one.\r\nLine three.', diff: { kind: 'text', before: 'Line one.\r\nLine two.\r\n', after: 'Line one.\r\nLine three.' } });
    // A form the page added after load has no snapshot: its values now are the best "before" there is.
    expect((await review(edit, proposed('POST', '/index.php', 'application/x-www-form-urlencoded', 'wpTextbox1=x'))).diff).toEqual({ kind: 'text', before: 'the assistant\'s text', after: 'x' });
  });

  it('a post whose adapter reads no "before" has none: the whole text is new', async () => {
    withPage('<form id="acl"><input name="group" value="payroll"></form>');
    const r = await review(wiki, proposed('PUT', '/api/pages/runbook', 'application/json', '{"page":{"text":"New."}}'), () => [['group', 'payroll']]);
    expect(r.diff).toEqual({ kind: 'text', before: null, after: 'New.' });
  });

  it('a "before" read with the request\'s own wildcard values', async () => {
    const fetch = vi.fn(async () => new Response('{"with":["team"]}', { status: 200 }));
    vi.stubGlobal('location', { href: `${ORIGIN}/p/a b` });
    vi.stubGlobal('fetch', fetch);
    const r = await review(wiki, proposed('POST', '/api/pages/a%20b/share', 'application/json', '{"with":["everyone"]}'));
    expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe(`${ORIGIN}/api/pages/a%20b/share`);
    expect(r.diff).toEqual({ kind: 'fields', fields: [{ name: 'with', before: ['team'], after: ['everyone'] }] });
  });

  it('an ambiguous text (the content field sent twice) is no text: the background refuses the proposal', async () => {
    const adapter: SiteAdapter = { ...wiki, actions: [{ scope: 'wiki.comment', request: { method: 'POST', url: '/c' }, content: 'text' }] };
    expect(await review(adapter, proposed('POST', '/c', 'application/x-www-form-urlencoded', 'text=a&text=b'))).toEqual({ content: null, diff: null });
  });

  it('no adapter (generic site): no text, no diff', async () => {
    expect(await review(null, proposed('POST', '/x', 'application/json', '{"text":"a"}'))).toEqual({ content: null, diff: null });
  });
});
