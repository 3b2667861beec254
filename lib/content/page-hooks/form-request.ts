// What a form submission sends, as the hooks hold it and check it again before release: method, URL
// and urlencoded body (the approval field and files left out), line breaks as the browser sends them;
// and how a plain submit() is made to send what pressing a submitter would. Pure over a passed-in
// form and the page it is in (its document, location and FormData); the page hooks run it in the
// page's MAIN world.
import type { HeldRequest } from '../channel';
import { APPROVAL_FIELD } from '../../protocol/request-fields';

/** A form's request as it is held: always urlencoded, the URL absolute. */
export interface FormRequest extends HeldRequest {
  contentType: typeof FORM_TYPE;
  body: string;
}

export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The page a form is read in: the page's window will do (a test's stand-in where there is no FormData). */
export interface FormPage {
  document: Document;
  location: { href: string };
  FormData: new (form: HTMLFormElement, submitter?: HTMLElement) => Iterable<[string, FormDataEntryValue]>;
}

/**
 * A line break as a submitted form carries it: the HTML form serialisers (urlencoded and multipart)
 * turn every LF, CR and CRLF in names and values into CRLF, while FormData's entries keep the field's
 * LF. Held as FormData has it, a multi-line text would digest differently from the body the tool
 * receives (action_mismatch at the middleware or gateway).
 */
export function asSentLineBreaks(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

/** The request submitting `form` with `submitter` sends: its formmethod/formaction win over the form's. */
export function formRequest(form: HTMLFormElement, submitter: HTMLElement | null | undefined, page: FormPage): FormRequest {
  const base = page.location.href;
  const method = (submitter?.getAttribute('formmethod') ?? form.getAttribute('method') ?? 'GET').toUpperCase();
  const url = new URL(submitter?.getAttribute('formaction') ?? form.getAttribute('action') ?? base, base).href;
  const data = new page.FormData(form, submitter ?? undefined);
  const params = new URLSearchParams();
  for (const [k, v] of data) if (k !== APPROVAL_FIELD && typeof v === 'string') params.append(asSentLineBreaks(k), asSentLineBreaks(v));
  return { method, url, contentType: FORM_TYPE, body: params.toString() };
}

export function hiddenField(doc: Document, name: string, value: string): HTMLInputElement {
  const field = doc.createElement('input');
  field.type = 'hidden';
  field.name = name;
  field.value = value;
  return field;
}

/** Makes a plain submit() send what pressing `submitter` would: its name=value right after it, its formaction and formmethod. */
export function asSubmittedBy(doc: Document, form: HTMLFormElement, submitter: HTMLElement | null | undefined): void {
  if (!submitter) return;
  const name = submitter.getAttribute('name');
  if (name) submitter.after(hiddenField(doc, name, (submitter as HTMLButtonElement).value));
  for (const [from, to] of [['formaction', 'action'], ['formmethod', 'method']] as const) {
    const value = submitter.getAttribute(from);
    if (value !== null) form.setAttribute(to, value);
  }
}

/**
 * Readies an approved form for a plain submit(), or says why it may not go: what you see is what you
 * sign, so the form as it is now must be the form that was approved, and — once the submitter's
 * name=value, formaction and formmethod are carried over (submit() ignores the submitter) — exactly
 * the approved method, URL and body must go out. Null when it may be submitted.
 */
export function readyForRelease(form: HTMLFormElement, submitter: HTMLElement | null | undefined, approved: FormRequest, page: FormPage): string | null {
  if (formRequest(form, submitter, page).body !== approved.body) return 'the page changed the form after approval';
  asSubmittedBy(page.document, form, submitter);
  const sent = formRequest(form, null, page);
  if (sent.method !== approved.method || sent.url !== approved.url || sent.body !== approved.body) return 'the form would not send what was approved';
  return null;
}
