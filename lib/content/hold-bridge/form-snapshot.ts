// The page's forms as it loaded: each form's values once the document is parsed, the "before" of an
// adapter's `before: {form}` (DESIGN.md, "Site adapters"). By the time a submission is held the form
// shows what is being sent — the assistant's text, the box the person ticked — so the diff's before
// side is read from here. A form the page adds later has no snapshot. Isolated content script only
// (handed the document and the script's context).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { asSentLineBreaks } from '../page-hooks/form-request';

export type FormPairs = Array<[string, string]>;

/** A form's values, every value of a repeated field in order, with line breaks as a submission sends them (files left out). */
export function formPairs(form: HTMLFormElement, Data: new (form: HTMLFormElement) => Iterable<[string, FormDataEntryValue]> = FormData): FormPairs {
  const pairs: FormPairs = [];
  for (const [name, value] of new Data(form)) if (typeof value === 'string') pairs.push([asSentLineBreaks(name), asSentLineBreaks(value)]);
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
