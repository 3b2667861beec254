// The page's forms as it loaded: each form's values once the document is parsed, the "before" of an
// adapter's `before: {form}` (DESIGN.md, "Site adapters"). By the time a submission is held the form
// shows what is being sent — the assistant's text, the box the person ticked — so the diff's before
// side is read from here. A form the page adds later has no snapshot. Isolated content script only
// (handed the document and the script's context).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { asSentLineBreaks } from '../page-hooks/form-request';

export type FormPairs = Array<[string, string]>;
type Entries = Iterable<[string, FormDataEntryValue]>;
type Field = HTMLInputElement & Pick<HTMLSelectElement, 'options'>; // an input, select or textarea: what each has

/**
 * The entries `new FormData(form)` gives (the HTML form data set with no submitter), read from
 * `form.elements` (which holds the fields outside the form with form=), files left out: `new
 * FormData` makes Chromium lay the page out for a textarea, 25-155 ms at DOMContentLoaded on a long
 * page (issue 20). Buttons, disabled fields (a disabled fieldset's too), unchecked boxes and unnamed
 * fields are left out (a datalist's are not, as in Chromium and Firefox); a select gives each
 * selected enabled option. What only FormData can read — a hard-wrapped textarea's wrapping (it
 * needs layout), dirname's direction, a form-associated custom element's value — is read with
 * FormData still. Unlike FormData, it fires no `formdata` event at the page. Compared with FormData
 * in both browsers: test/lib/content/hold-bridge/browser/form-entries.test.ts.
 */
export function formEntries(form: HTMLFormElement): Entries {
  const entries: FormPairs = [];
  // The prototype's getter: a field named "elements" shadows `form.elements`.
  const elements = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, 'elements')!.get!.call(form) as Iterable<Field>;
  for (const el of elements) {
    const tag = el.localName;
    if (!['input', 'select', 'textarea', 'button', 'fieldset', 'object', 'output'].includes(tag) || el.hasAttribute('dirname') || (tag === 'textarea' && /^(hard|physical|on)$/i.test(el.getAttribute('wrap') ?? ''))) return new FormData(form);
    const { name, type } = el;
    if (!name || !['input', 'select', 'textarea'].includes(tag) || el.matches(':disabled')) continue;
    if (tag === 'select') {
      for (const option of el.options) if (option.selected && !option.matches(':disabled')) entries.push([name, option.value]);
    } else if (tag === 'textarea') entries.push([name, el.value]);
    else if (type === 'checkbox' || type === 'radio') {
      if (el.checked) entries.push([name, el.value]);
    } else if (type === 'hidden' && name.toLowerCase() === '_charset_') entries.push([name, 'UTF-8']);
    else if (!['file', 'submit', 'reset', 'button', 'image'].includes(type)) entries.push([name, el.value]);
  }
  return entries;
}

/** A form's values, every value of a repeated field in order, with line breaks as a submission sends them (files left out). */
export function formPairs(form: HTMLFormElement, read: (form: HTMLFormElement) => Entries = formEntries): FormPairs {
  const pairs: FormPairs = [];
  for (const [name, value] of read(form)) if (typeof value === 'string') pairs.push([asSentLineBreaks(name), asSentLineBreaks(value)]);
  return pairs;
}

/** Snapshots every form of `doc` when it is parsed (at once, if it is already); returns a form's values then, or null. */
export function snapshotForms(doc: Document, ctx: Pick<ContentScriptContext, 'addEventListener'>, read: (form: HTMLFormElement) => FormPairs = formPairs): (form: HTMLFormElement) => FormPairs | null {
  const taken = new WeakMap<HTMLFormElement, FormPairs>();
  const take = () => {
    for (const form of doc.querySelectorAll('form')) taken.set(form, read(form));
  };
  if (doc.readyState === 'loading') ctx.addEventListener(doc, 'DOMContentLoaded', take, { once: true });
  else take();
  return (form) => taken.get(form) ?? null;
}
