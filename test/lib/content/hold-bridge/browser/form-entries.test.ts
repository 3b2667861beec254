// formEntries against what it stands in for: in real Chromium and Firefox, every form below read
// with `new FormData(form)` and with formEntries must give the same string entries in the same
// order, formEntries without FormData where it reads the fields itself — and, in Chromium, without
// laying the page out, which is why it exists (issue 20). Node only: launches Debian's Chromium
// (playwright-core) and Firefox ESR (puppeteer-core over WebDriver BiDi), no extension.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import type { Browser as FirefoxBrowser } from 'puppeteer-core';
import { formEntries } from '@/lib/content/hold-bridge/form-snapshot';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../../../helpers/browser/browser';
import { FIREFOX } from '../../../../helpers/firefox/firefox';

/** Each case: a form with id="f" (and anything around it); `read` says whether FormData must still be used. */
const cases: Array<{ name: string; html: string; script?: string; fallback?: true }> = [
  { name: 'text inputs, hidden, unnamed and empty-named fields', html: '<form id="f"><input name="a" value="1"><input type="hidden" name="h" value="x y"><input value="unnamed"><input name="" value="empty"><input name="a" value="2"></form>' },
  { name: 'every text-like input type, with sanitised values', html: '<form id="f"><input type="email" name="e" value=" a@b.c "><input type="number" name="n" value="x"><input type="number" name="n2" value="3.5"><input type="range" name="r" min="0" max="10" value="20"><input type="color" name="c" value="#ABCDEF"><input type="date" name="d" value="2026-13-01"><input type="password" name="p" value="pw"><input type="search" name="s" value="q"><input type="tel" name="t" value="1\n2"><input type="url" name="u" value="http://x"><input type="unknown" name="k" value="v"><input type="TEXT" name="up" value="w"></form>' },
  { name: 'a textarea: its default text and a typed value, line breaks', html: '<form id="f"><textarea name="t1">Old\ntext.</textarea><textarea name="t2" wrap="soft">x</textarea><textarea name="t3" wrap="off"></textarea><textarea>unnamed</textarea></form>', script: 'f.elements.t2.value = "one\\r\\ntwo\\rthree"' },
  { name: 'checkboxes: checked, unchecked, without a value, checked by script', html: '<form id="f"><input type="checkbox" name="c" value="a" checked><input type="checkbox" name="c" value="b"><input type="checkbox" name="d" checked><input type="checkbox" name="e" value="late"></form>', script: 'f.elements.e.checked = true' },
  { name: 'radio groups', html: '<form id="f"><input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked><input type="radio" name="s" value="x"><input type="radio" name="s" value="y"><input type="radio" name="t"></form>', script: 'f.elements.s[0].checked = true; f.elements.t.checked = true' },
  { name: 'selects: single, none selected, multiple, disabled options and optgroups, no options', html: '<form id="f"><select name="one"><option>a</option><option selected value="B">b</option></select><select name="first"><option disabled>x</option><option>y</option></select><select name="many" multiple><option selected>1</option><option>2</option><option selected value="three">3</option><option selected disabled>4</option><optgroup disabled><option selected>5</option></optgroup><optgroup><option selected>6</option></optgroup></select><select name="none" multiple><option>q</option></select><select name="empty"></select><select name="sized" size="3"><option>s</option></select><select><option selected>unnamed</option></select></form>' },
  { name: 'disabled fields and fieldsets, the first legend exempt', html: '<form id="f"><input name="a" value="1" disabled><fieldset disabled><input name="b" value="2"><legend><input name="c" value="3"></legend><legend><input name="d" value="4"></legend><select name="e"><option>x</option></select><textarea name="g">t</textarea><fieldset><input name="h" value="5"></fieldset></fieldset><fieldset><input name="i" value="6"></fieldset><textarea name="j" disabled>x</textarea></form>' },
  { name: 'disabled by script, readonly kept', html: '<form id="f"><input name="a" value="1"><input name="b" value="2" readonly><fieldset id="fs"><input name="c" value="3"></fieldset></form>', script: 'f.elements.a.disabled = true; document.getElementById("fs").disabled = true' },
  { name: 'fields outside the form with form=, and inside it owned by another form', html: '<input name="before" value="0" form="f"><form id="f"><input name="in" value="1"><input name="other" value="x" form="g"></form><form id="g"></form><textarea name="after" form="f">2</textarea><select name="sel" form="f"><option>3</option></select><input name="nope" value="4" form="missing">' },
  { name: 'buttons of every kind, image and file inputs', html: '<form id="f"><button name="b1" value="1">x</button><button type="button" name="b2" value="2">x</button><button type="reset" name="b3" value="3">x</button><input type="submit" name="s" value="Go"><input type="reset" name="r" value="R"><input type="button" name="bb" value="B"><input type="image" name="img" alt="i"><input type="file" name="file"><input type="file" name="files" multiple><input name="kept" value="k"></form>' },
  { name: 'a datalist\'s fields (kept, as Chromium does), output, object and a fieldset', html: '<form id="f"><datalist id="dl"><input name="indl" value="x"><select name="seldl"><option>y</option></select></datalist><input name="list" list="dl" value="v"><output name="o">out</output><object name="obj"></object><fieldset name="fs"><input name="infs" value="z"></fieldset></form>' },
  { name: '_charset_ hidden fields', html: '<form id="f"><input type="hidden" name="_charset_" value="ignored"><input type="hidden" name="_CHARSET_"><input type="text" name="_charset_" value="text"></form>' },
  { name: 'a field named "elements" and one named "length"', html: '<form id="f"><input name="elements" value="e"><input name="length" value="l"><input name="item" value="i"></form>' },
  { name: 'values set by script after parsing', html: '<form id="f"><input name="a" value="1"><select name="s"><option>x</option><option>y</option></select><input type="checkbox" name="c" value="v" checked></form>', script: 'f.elements.a.value = "typed"; f.elements.s.value = "y"; f.elements.c.checked = false; const i = document.createElement("input"); i.name = "added"; i.value = "n"; f.append(i)' },
  { name: 'non-ASCII and line breaks in names and values', html: '<form id="f"><input name="ünï" value="ção"><textarea name="multi\nline">a\r\nb</textarea><input type="hidden" name="h" value="x&#10;y"></form>' },
  { name: 'a hard-wrapped textarea: FormData still', html: '<form id="f"><textarea name="t" wrap="hard" cols="5">a long line of text to wrap</textarea></form>', fallback: true },
  { name: 'wrap="physical": FormData still', html: '<form id="f"><textarea name="t" wrap="PHYSICAL" cols="5">another long line</textarea></form>', fallback: true },
  { name: 'dirname: FormData still', html: '<form id="f" dir="rtl"><input name="q" dirname="q.dir" value="x"></form>', fallback: true },
  { name: 'a form-associated custom element: FormData still', html: '<form id="f"><x-field name="x"></x-field><input name="a" value="1"></form>', script: 'customElements.define("x-field", class extends HTMLElement { static formAssociated = true; constructor() { super(); this.attachInternals().setFormValue("custom"); } })', fallback: true },
];

/** A tab in either browser: what the comparison needs of playwright's and puppeteer's pages. */
interface Tab {
  setContent(html: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<Awaited<R>>;
  evaluate(script: string): Promise<unknown>;
}

let browser: Browser;
let page: Page;
let firefox: FirefoxBrowser;
let firefoxTab: Tab;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS] });
  page = await browser.newPage();
  firefox = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  firefoxTab = (await firefox.newPage()) as unknown as Tab;
});
afterAll(async () => {
  await browser?.close();
  await firefox?.close();
});

/** The page, formEntries in it. */
async function load(tab: Tab, html: string): Promise<void> {
  await tab.setContent(`<!doctype html><html><body>${html}</body></html>`);
  await tab.evaluate(`window.formEntries = ${formEntries.toString()};`);
}

/** The string entries of `new FormData(f)` and of formEntries(f), the latter with FormData gone unless the case needs it. */
async function both(tab: Tab, html: string, script = '', fallback = false): Promise<{ formData: string[][]; read: string[][] }> {
  await load(tab, `${html}<script>const f = document.getElementById('f'); ${script}</script>`);
  return tab.evaluate((fallback: boolean) => {
    const form = document.getElementById('f') as HTMLFormElement;
    const strings = (entries: Iterable<[string, FormDataEntryValue]>) => [...entries].filter(([, v]) => typeof v === 'string') as string[][];
    const formData = strings(new FormData(form));
    const real = window.FormData;
    if (!fallback) (window as { FormData: unknown }).FormData = function () { throw new Error('FormData used'); };
    try {
      return { formData, read: strings((window as unknown as { formEntries: (f: HTMLFormElement) => Iterable<[string, FormDataEntryValue]> }).formEntries(form)) };
    } finally {
      window.FormData = real;
    }
  }, fallback);
}

describe.each([['Chromium', () => page as unknown as Tab], ['Firefox', () => firefoxTab]])('formEntries in %s, beside new FormData(form)', (_, tab) => {
  for (const c of cases) {
    it(c.name, async () => {
      const { formData, read } = await both(tab(), c.html, c.script, c.fallback);
      expect(read).toEqual(formData);
    });
  }
});

describe('formEntries in Chromium', () => {
  it('reads a textarea\'s form without laying the page out, where FormData forces a layout', async () => {
    await load(page as unknown as Tab, `<form id="f"><textarea name="t">text</textarea><input name="a" value="1"></form>${'<p>post</p>'.repeat(2000)}`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const frames = () => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const layouts = async () => {
      await frames();
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'LayoutCount')!.value;
    };
    // In one task: the page's layout made stale, the form read, the change undone. Only a read that
    // lays the page out leaves a layout behind (the frame after finds nothing changed).
    const readIn = (how: 'read' | 'formData') => page.evaluate((how) => {
      document.body.style.fontSize = '31px';
      const form = document.getElementById('f') as HTMLFormElement;
      const n = [...(how === 'read' ? (window as unknown as { formEntries: (f: HTMLFormElement) => Iterable<unknown> }).formEntries(form) : new FormData(form))].length;
      document.body.style.fontSize = '';
      return n;
    }, how);
    const start = await layouts();
    expect(await readIn('read')).toBe(2);
    const afterRead = await layouts();
    expect(await readIn('formData')).toBe(2);
    const afterFormData = await layouts();
    expect(afterRead - start).toBe(0);
    expect(afterFormData - afterRead).toBeGreaterThan(0);
    await cdp.detach();
  });
});
