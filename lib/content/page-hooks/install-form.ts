// Form submission, hooked: the submit event (a person's press or requestSubmit) and submit() (never a
// person's gesture). A held form is submitted again with the approval field once approved, and only
// if it still sends exactly what was approved. Page MAIN world only; calls only the submit,
// requestSubmit and addEventListener captured at install.
import { APPROVAL_FIELD } from '../../protocol/request-fields';
import { authorshipSignals, scriptedContent } from './authorship';
import { FORM_TYPE, formRequest, hiddenField, readyForRelease } from './form-request';
import type { HookChannel } from './hook-channel';
import { actionFor, isSameOriginWrite, mustHold } from './hold-decision';

/** Called at install, before any page script: the page's HTMLFormElement and its methods are captured here, first; `listen` is the captured addEventListener. */
export function installForms(win: Window & typeof globalThis, channel: HookChannel, listen: Window['addEventListener']): void {
  const Form = win.HTMLFormElement;
  const { submit, requestSubmit } = Form.prototype;
  /** Fields a person typed into (trusted input events): the rest were filled by script. */
  const typed = new WeakSet<EventTarget>();
  listen('input', (e) => e.isTrusted && e.target && typed.add(e.target), true);

  /** Decides a form submission; true when held (the caller must not submit). */
  function holdForm(form: HTMLFormElement, submitter: HTMLElement | null | undefined, trusted: boolean): boolean {
    const c = channel.config;
    if (!c) return false;
    const req = formRequest(form, submitter, win);
    const url = new URL(req.url);
    if (!isSameOriginWrite(win.location, req.method, url)) return false;
    const action = actionFor(c, req.method, url);
    if (!action) return false;
    const sig = authorshipSignals(c, new Headers(), FORM_TYPE, req.body, win, { trusted, scripted: scriptedContent(form.elements, typed) });
    if (!mustHold(action, sig.signals)) return false;
    channel.hold('form', req, sig).then(
      ({ id, tokens }) => {
        const refused = readyForRelease(form, submitter, req, win);
        if (refused) return channel.post({ t: 'outcome', id, outcome: 'failed', reason: refused });
        // One field per approval, in order: a quorum's request carries them all.
        for (const token of tokens) form.append(hiddenField(win.document, APPROVAL_FIELD, token));
        channel.post({ t: 'outcome', id, outcome: 'released' });
        submit.call(form);
      },
      () => undefined,
    );
    return true;
  }

  listen(
    'submit',
    (event: SubmitEvent) => {
      const form = event.target;
      if (!(form instanceof Form)) return;
      if (!channel.settled) {
        // Too early to decide: stop this submission and submit again once the config is here,
        // so that the page's own handlers still run on the retried submit event.
        event.preventDefault();
        event.stopImmediatePropagation();
        void channel.ready.then(() => requestSubmit.call(form, event.submitter ?? undefined));
        return;
      }
      if (holdForm(form, event.submitter, event.isTrusted)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
  Form.prototype.submit = function (this: HTMLFormElement) {
    // submit() fires no submit event and is never a person's gesture.
    if (!channel.settled) {
      void channel.ready.then(() => (holdForm(this, null, false) ? undefined : submit.call(this)));
      return;
    }
    if (!holdForm(this, null, false)) submit.call(this);
  };
}
