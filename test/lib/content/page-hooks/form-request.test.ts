// A form submission as the page hooks hold it and check it again before release (what you see is what
// you sign): its method and URL (a submitter's formmethod/formaction win), its urlencoded body without
// the approval field or files, line breaks as a browser submits them; a plain submit() made to send
// what pressing the submitter would; and a form the page changed after approval, or retargeted, refused. linkedom has no FormData: a stand-in
// reads the form's named controls in order, as a browser lists them. Node only (tests).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { APPROVAL_FIELD } from '@/lib/protocol/request-fields';
import { asSubmittedBy, formRequest, readyForRelease } from '@/lib/content/page-hooks/form-request';
import type { FormPage } from '@/lib/content/page-hooks/form-request';

const HREF = 'http://wiki.corp:8090/p/runbook?tab=1';

/** The form's data set: named inputs and textareas in tree order, a submit button only when it is the submitter; a file input as a File. */
class FormData {
  entries: Array<[string, FormDataEntryValue]> = [];
  constructor(form: HTMLFormElement, submitter?: HTMLElement) {
    for (const el of form.querySelectorAll('input[name], textarea[name], button[name]')) {
      const type = el.getAttribute('type');
      const name = el.getAttribute('name')!;
      if ((el.tagName === 'BUTTON' || type === 'submit') && el !== submitter) continue;
      if (type === 'file') this.entries.push([name, new File(['x'], 'x.txt')]);
      else this.entries.push([name, (el as HTMLInputElement).value ?? '']);
    }
  }
  [Symbol.iterator]() {
    return this.entries[Symbol.iterator]();
  }
}

function form(html: string) {
  const { document } = parseHTML(`<html><body>${html}</body></html>`);
  const page: FormPage = { document: document as unknown as Document, location: { href: HREF }, FormData };
  const f = document.querySelector('form') as unknown as HTMLFormElement;
  const submitter = (document.querySelector('[type=submit]') ?? null) as HTMLElement | null;
  return { page, form: f, submitter, document };
}

describe('formRequest', () => {
  it('the form\'s method and action, the action resolved against the page, the body urlencoded in order', () => {
    const { form: f, page } = form('<form method="post" action="../api/comments"><input name="text" value="a b&c"><textarea name="text">second</textarea></form>');
    expect(formRequest(f, null, page)).toEqual({ method: 'POST', url: 'http://wiki.corp:8090/api/comments', contentType: 'application/x-www-form-urlencoded', body: 'text=a+b%26c&text=second' });
  });

  it('no method is GET, no action is the page itself', () => {
    const { form: f, page } = form('<form><input name="q" value="x"></form>');
    expect(formRequest(f, null, page)).toMatchObject({ method: 'GET', url: HREF });
  });

  it('a submitter\'s formmethod and formaction win over the form\'s, and its name=value is sent', () => {
    const { form: f, page, submitter } = form('<form method="get" action="/search"><input name="q" value="x"><input type="submit" name="op" value="delete" formmethod="post" formaction="/api/delete"></form>');
    expect(formRequest(f, submitter, page)).toEqual({ method: 'POST', url: 'http://wiki.corp:8090/api/delete', contentType: 'application/x-www-form-urlencoded', body: 'q=x&op=delete' });
  });

  it('line breaks are held as the browser submits them, CRLF in names and values, so the held body digests as the one the tool receives', () => {
    const { form: f, page } = form('<form method="post"><textarea name="wpTextbox1"></textarea><input type="hidden" name="a\nb" value="x"></form>');
    // As FormData gives a textarea's value: LF (and a page may put a lone CR or CRLF in a value itself).
    (f.querySelector('textarea') as HTMLTextAreaElement).value = 'one\ntwo\r\nthree\rfour\n';
    expect(formRequest(f, null, page).body).toBe('wpTextbox1=one%0D%0Atwo%0D%0Athree%0D%0Afour%0D%0A&a%0D%0Ab=x');
  });

  it('a page that puts its own approval field in the form gets it left out (the hooks add the owner\'s), and files are not part of the body', () => {
    const { form: f, page } = form(`<form method="post"><input name="${APPROVAL_FIELD}" value="forged"><input name="a" value="1"><input type="file" name="doc"></form>`);
    expect(formRequest(f, null, page).body).toBe('a=1');
  });
});

describe('asSubmittedBy', () => {
  it('carries the submitter\'s name=value (right after it), formaction and formmethod over to the form', () => {
    const { form: f, page, submitter } = form('<form method="get" action="/a"><input type="submit" name="op" value="save" formaction="/b" formmethod="post"><input name="z" value="1"></form>');
    asSubmittedBy(page.document, f, submitter);
    expect(f.getAttribute('action')).toBe('/b');
    expect(f.getAttribute('method')).toBe('post');
    const added = submitter!.nextElementSibling!;
    expect([added.getAttribute('type'), added.getAttribute('name'), (added as HTMLInputElement).value]).toEqual(['hidden', 'op', 'save']);
    expect(formRequest(f, null, page).body).toBe('op=save&z=1');
  });

  it('no submitter, or one without a name or overrides: the form is left as it is', () => {
    const { form: f, page } = form('<form method="post" action="/a"><input type="submit" value="go"></form>');
    const before = f.outerHTML;
    asSubmittedBy(page.document, f, null);
    asSubmittedBy(page.document, f, f.querySelector('[type=submit]') as HTMLElement);
    expect(f.outerHTML).toBe(before);
  });
});

describe('readyForRelease: the form sent is the form approved', () => {
  const html = '<form method="post" action="/api/comments"><textarea name="text">Rotate the keys.</textarea><input type="submit" name="op" value="post"></form>';

  it('an unchanged form is ready, and a plain submit() of it now sends exactly the approved request', () => {
    const { form: f, page, submitter } = form(html);
    const approved = formRequest(f, submitter, page);
    expect(readyForRelease(f, submitter, approved, page)).toBeNull();
    expect(formRequest(f, null, page)).toEqual(approved);
  });

  it('a page that rewrites the text after approval is refused: nothing is sent', () => {
    const { form: f, page, submitter } = form(html);
    const approved = formRequest(f, submitter, page);
    f.querySelector('textarea')!.textContent = 'payroll-2026 is readable by everyone.';
    expect(readyForRelease(f, submitter, approved, page)).toBe('the page changed the form after approval');
  });

  it('a page that adds a field after approval is refused', () => {
    const { form: f, page, submitter, document } = form(html);
    const approved = formRequest(f, submitter, page);
    f.append(Object.assign(document.createElement('input'), { name: 'visibility', value: 'all' }));
    expect(readyForRelease(f, submitter, approved, page)).toBe('the page changed the form after approval');
  });

  it('a page that retargets the submit button after approval (its formaction) is refused: the approved body would go elsewhere', () => {
    const { form: f, page, submitter } = form(html);
    const approved = formRequest(f, submitter, page);
    submitter!.setAttribute('formaction', '/api/datasets/payroll/access');
    expect(readyForRelease(f, submitter, approved, page)).toBe('the form would not send what was approved');
  });
});
