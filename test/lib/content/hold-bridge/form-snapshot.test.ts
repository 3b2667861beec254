// The forms as the page loaded, the "before" of an adapter's `before: {form}`: taken when the document
// is parsed, so what an assistant (or the person) changes afterwards is the change, not the before;
// every value in order, line breaks as a form sends them, files left out. Node only (tests). How a
// form's fields are read (formEntries, as `new FormData(form)` would) is compared with FormData in
// real browsers: browser/form-entries.test.ts.
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { formPairs, snapshotForms } from '@/lib/content/hold-bridge/form-snapshot';

/** linkedom has no FormData: the named inputs and textareas in order, a file input as a File. */
class FormData {
  entries: Array<[string, FormDataEntryValue]> = [];
  constructor(form: HTMLFormElement) {
    for (const el of form.querySelectorAll('input[name], textarea[name]')) {
      const name = el.getAttribute('name')!;
      this.entries.push([name, el.getAttribute('type') === 'file' ? new File(['x'], 'x.txt') : ((el as HTMLInputElement).value ?? '')]);
    }
  }
  [Symbol.iterator]() {
    return this.entries[Symbol.iterator]();
  }
}

function loading(html: string) {
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  let state = 'loading';
  Object.defineProperty(document, 'readyState', { get: () => state });
  const listeners: Array<() => void> = [];
  const ctx = { addEventListener: (_target: unknown, type: string, handler: () => void) => type === 'DOMContentLoaded' && listeners.push(handler) };
  const parsed = () => {
    state = 'interactive';
    listeners.forEach((l) => l());
  };
  return { document: document as unknown as Document, ctx: ctx as never, parsed };
}

describe('snapshotForms', () => {
  it('keeps each form as it was when the document was parsed, whatever is typed or scripted into it later', () => {
    const { document, ctx, parsed } = loading('<form id="edit"><textarea name="wpTextbox1">Old text.</textarea></form><form id="rights"><input name="wpGroup-bot" value=""></form>');
    const atLoad = snapshotForms(document, ctx, (form) => formPairs(form, (f) => new FormData(f)));
    const [edit, rights] = [...document.querySelectorAll('form')] as HTMLFormElement[];
    expect(atLoad(edit!)).toBeNull();
    parsed();
    (edit!.querySelector('textarea') as HTMLTextAreaElement).value = 'The assistant\'s text.';
    (rights!.querySelector('input') as HTMLInputElement).value = '1';
    expect(atLoad(edit!)).toEqual([['wpTextbox1', 'Old text.']]);
    expect(atLoad(rights!)).toEqual([['wpGroup-bot', '']]);
  });

  it('a form added after the document was parsed has no snapshot', () => {
    const { document, ctx, parsed } = loading('');
    const atLoad = snapshotForms(document, ctx, (form) => formPairs(form, (f) => new FormData(f)));
    parsed();
    const late = document.createElement('form');
    document.body.append(late);
    expect(atLoad(late)).toBeNull();
  });
});

describe('formPairs', () => {
  it('every value of a repeated field in order, line breaks as CRLF (as the request will carry them), no files', () => {
    const { document } = parseHTML('<form><input name="tag" value="a"><input type="file" name="doc"><textarea name="text"></textarea><input name="tag" value="b"></form>');
    const form = document.querySelector('form') as unknown as HTMLFormElement;
    (form.querySelector('textarea') as HTMLTextAreaElement).value = 'one\ntwo';
    expect(formPairs(form, (f) => new FormData(f))).toEqual([['tag', 'a'], ['text', 'one\r\ntwo'], ['tag', 'b']]);
  });
});
