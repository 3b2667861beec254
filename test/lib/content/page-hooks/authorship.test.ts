// DESIGN.md's authorship signals as the page hooks read them for one submission, over plain data and a
// linkedom document: marker headers (whose value is only a hint), marker fields and marker elements,
// the submit event, the navigator and strict mode; and which form fields script filled. The end-to-end
// path through fetch is page-hooks.test.ts. Node only (tests).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { authorshipSignals, bodyTexts, scriptedContent } from '@/lib/content/page-hooks/authorship';
import type { MarkerConfig, PageFacts } from '@/lib/content/page-hooks/authorship';
import { readTextBodyFields } from '@/lib/protocol/request-fields';

const MARKERS: MarkerConfig = { markerHeaders: ['X-Assistant'], markerFields: { author_kind: 'assistant' }, markerSelectors: ['[data-assistant-draft]', '.ai-reply'], strictMode: false };

function page(html = '', navigator: PageFacts['navigator'] = { userActivation: { isActive: true }, webdriver: false }): PageFacts {
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  return { document: document as unknown as Document, navigator };
}

const JSON_TYPE = 'application/json';
const signals = (headers: Record<string, string>, contentType: string | null, body: string | null, p = page(), event?: { trusted: boolean; scripted: boolean }, c = MARKERS) =>
  authorshipSignals(c, new Headers(headers), contentType, body, p, event);

describe('marker headers', () => {
  it('a marker header marks the request, and its trimmed value is the agent hint', () => {
    expect(signals({ 'x-assistant': '  agent:forum-helper ' }, null, null)).toEqual({ signals: ['assistant-marker'], agentHint: 'agent:forum-helper' });
  });

  it('an empty marker header still marks the request, but names no agent', () => {
    expect(signals({ 'X-Assistant': '' }, null, null)).toEqual({ signals: ['assistant-marker'], agentHint: null });
  });

  it('a hint longer than 256 characters is no hint (the request is still marked)', () => {
    expect(signals({ 'X-Assistant': 'a'.repeat(257) }, null, null)).toEqual({ signals: ['assistant-marker'], agentHint: null });
    expect(signals({ 'X-Assistant': 'a'.repeat(256) }, null, null).agentHint).toBe('a'.repeat(256));
  });

  it('the first marker header with a value names the agent', () => {
    const c = { ...MARKERS, markerHeaders: ['X-Assistant', 'X-Agent'] };
    expect(signals({ 'X-Assistant': ' ', 'X-Agent': 'agent:b' }, null, null, page(), undefined, c)).toEqual({ signals: ['assistant-marker'], agentHint: 'agent:b' });
  });
});

describe('marker fields', () => {
  it('a marker field counts in a JSON body and in a form, as any value of a repeated field', () => {
    expect(signals({}, JSON_TYPE, '{"author_kind":"assistant"}').signals).toEqual(['assistant-marker']);
    expect(signals({}, 'application/x-www-form-urlencoded', 'author_kind=person&author_kind=assistant').signals).toEqual(['assistant-marker']);
  });

  it('another value, or the value nested deeper than the top level, is no marker field', () => {
    expect(signals({}, JSON_TYPE, '{"author_kind":"person"}').signals).toEqual([]);
    expect(signals({}, JSON_TYPE, '{"meta":{"author_kind":"assistant"}}').signals).toEqual([]);
  });

  it('a body that claims JSON and is not (a duplicate key hiding the marker) is read as no fields', () => {
    // The digest refuses such a body too; the hooks just find no field in it.
    expect(signals({}, JSON_TYPE, '{"author_kind":"assistant","author_kind":"person"}').signals).toEqual([]);
  });
});

describe('marker elements', () => {
  const draft = page('<textarea data-assistant-draft>Rotate the keys.</textarea><div class="ai-reply"> Thanks, done. </div><div class="ai-reply"></div>');

  it('a marker element counts when the body carries its text (trimmed), at any depth of a JSON body', () => {
    expect(signals({}, JSON_TYPE, '{"comment":{"text":"Rotate the keys."}}', draft).signals).toEqual(['assistant-marker']);
    expect(signals({}, JSON_TYPE, '{"list":["x",{"deep":"  Thanks, done.  "}]}', draft).signals).toEqual(['assistant-marker']);
  });

  it('and in any form value', () => {
    expect(signals({}, 'application/x-www-form-urlencoded', 'title=x&body=Thanks%2C+done.', draft).signals).toEqual(['assistant-marker']);
  });

  it('a multi-line draft counts in a form body, whose line breaks are CRLF as a form sends them', () => {
    const multi = page('<textarea data-assistant-draft>Line one.\nLine two.</textarea>');
    expect(signals({}, 'application/x-www-form-urlencoded', 'wpTextbox1=Line+one.%0D%0ALine+two.', multi).signals).toEqual(['assistant-marker']);
  });

  it('a body without a marker element\'s text, or an empty marker element, marks nothing', () => {
    expect(signals({}, JSON_TYPE, '{"text":"Something else."}', draft).signals).toEqual([]);
    // The empty .ai-reply must not match an empty string in the body.
    expect(signals({}, JSON_TYPE, '{"text":"","other":"  "}', draft).signals).toEqual([]);
  });

  it('no marker selectors: the document is not searched at all', () => {
    const c = { ...MARKERS, markerSelectors: [] };
    const noDoc = { document: { querySelectorAll: () => { throw new Error('searched'); } } as unknown as ParentNode, navigator: {} };
    expect(signals({}, JSON_TYPE, '{"text":"Rotate the keys."}', noDoc, undefined, c).signals).toEqual([]);
  });
});

describe('the event, the navigator and strict mode', () => {
  it('a submission by an untrusted event whose fields script filled has both signals', () => {
    expect(signals({}, null, null, page(), { trusted: false, scripted: true }).signals).toEqual(['untrusted-event', 'scripted-content']);
    expect(signals({}, null, null, page(), { trusted: true, scripted: false }).signals).toEqual([]);
  });

  it('no user activation, webdriver and strict mode each count; a browser without userActivation adds none', () => {
    expect(signals({}, null, null, page('', { userActivation: { isActive: false }, webdriver: true }), undefined, { ...MARKERS, strictMode: true }).signals).toEqual(['no-user-activation', 'webdriver', 'strict-mode']);
    expect(signals({}, null, null, page('', {})).signals).toEqual([]);
  });

  it('each signal once, in a fixed order, however many markers matched', () => {
    const p = page('<div class="ai-reply">hi</div>', { userActivation: { isActive: false } });
    const got = signals({ 'X-Assistant': 'a' }, JSON_TYPE, '{"author_kind":"assistant","text":"hi"}', p, { trusted: false, scripted: false });
    expect(got.signals).toEqual(['assistant-marker', 'untrusted-event', 'no-user-activation']);
  });
});

describe('bodyTexts', () => {
  it('every form value; every JSON string at any depth, trimmed; nothing for other bodies', () => {
    expect(bodyTexts(readTextBodyFields('application/x-www-form-urlencoded', 'a=1&a=%202%20'))).toEqual(['1', ' 2 ']);
    expect(bodyTexts(readTextBodyFields(JSON_TYPE, '{"a":" x ","b":[1,"y",{"c":"z"}],"d":null}'))).toEqual(['x', 'y', 'z']);
    expect(bodyTexts(readTextBodyFields('text/plain', 'free text'))).toEqual([]);
    expect(bodyTexts(readTextBodyFields(null, null))).toEqual([]);
  });
});

describe('scriptedContent: which form fields script filled', () => {
  const { document } = parseHTML('<form><input name="title" value="x"><textarea name="body">y</textarea><input type="hidden" name="csrf" value="t"><input name="empty" value=""><select name="s"><option selected>o</option></select></form>');
  const [title, body, csrf, empty, select] = [...document.querySelectorAll('[name]')] as Element[];

  it('a visible text field with a value nobody typed into is scripted', () => {
    expect(scriptedContent([title!, csrf!], new WeakSet([]))).toBe(true);
    expect(scriptedContent([body!], new WeakSet([]))).toBe(true);
  });

  it('fields a person typed into, hidden fields, empty fields and other controls are not', () => {
    expect(scriptedContent([title!, body!], new WeakSet<EventTarget>([title!, body!]))).toBe(false);
    expect(scriptedContent([csrf!, empty!, select!], new WeakSet([]))).toBe(false);
  });

  it('a real form\'s fixed values are no script\'s text: checkboxes and radios (value "1"), submit and other buttons, files, colours, ranges', () => {
    // MediaWiki's edit form (wpMinoredit, wpWatchthis, wpSave) and Special:UserRights (wpGroup-*=1).
    const { document: d } = parseHTML(
      '<form><input type="checkbox" name="wpGroup-bot" value="1"><input type="radio" name="r" value="a"><input type="submit" name="wpSave" value="Save changes"><input type="button" value="b"><input type="reset" value="r"><input type="image" name="i" value="v"><input type="color" name="c" value="#000000"><input type="range" name="g" value="5"><input type="file" name="f"></form>',
    );
    expect(scriptedContent([...d.querySelectorAll('input')] as Element[], new WeakSet([]))).toBe(false);
    // A text-like type is text all the same.
    const { document: t } = parseHTML('<form><input type="search" name="q" value="x"><input type="email" name="e" value="a@b"></form>');
    for (const el of t.querySelectorAll('input')) expect(scriptedContent([el as Element], new WeakSet([]))).toBe(true);
  });
});
