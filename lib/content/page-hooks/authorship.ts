// DESIGN.md's authorship signals for one submission: marker headers, fields and elements, the event
// that sent it, the navigator's state, strict mode; and which form fields script filled. Pure over
// plain data and a passed-in document (the page hooks hand it the page's own); runtime-neutral.
import type { HookConfig } from '../channel';
import { hasFieldValue, readTextBodyFields } from '../../protocol/request-fields';
import type { BodyFields } from '../../protocol/request-fields';

/** A submission's authorship as the hooks propose it: its signals (DESIGN.md), and the agent a marker header names. */
export interface Authorship {
  signals: string[];
  /** A marker header's value: the agent the page says wrote it (the background decides whether to believe it). */
  agentHint: string | null;
}

/** What the hooks know of the form submission behind a request (none for fetch and XHR). */
export interface SubmitFacts {
  trusted: boolean;
  scripted: boolean;
}

/** Where a submission happens (the page's window will do): its document's marker elements, its navigator. */
export interface PageFacts {
  document: ParentNode;
  navigator: { userActivation?: { isActive: boolean } | null; webdriver?: boolean };
}

export type MarkerConfig = Pick<HookConfig, 'markerHeaders' | 'markerFields' | 'markerSelectors' | 'strictMode'>;

const oneNewline = (text: string) => text.replace(/\r\n?/g, '\n').trim();

/** Every string a body carries (form values, a JSON body's strings at any depth): what a marker element's text is compared with. */
export function bodyTexts(fields: BodyFields): string[] {
  if (fields.kind === 'form') return fields.pairs.map(([, v]) => v);
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v.trim());
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  if (fields.kind === 'json') walk(fields.value);
  return out;
}

/**
 * The signals of one submission, each once; its body is read as every part of Countersign reads it.
 * A marker element counts when the body carries its text, wherever (the post's own field is the
 * background's to find); a marker header's value is the agent it may name.
 */
export function authorshipSignals(c: MarkerConfig, headers: Pick<Headers, 'get'>, contentType: string | null, body: string | null, page: PageFacts, event?: SubmitFacts): Authorship {
  const fields = readTextBodyFields(contentType, body);
  const list = new Set<string>();
  let agentHint: string | null = null;
  for (const h of c.markerHeaders) {
    const v = headers.get(h);
    if (v !== null) {
      list.add('assistant-marker');
      const hint = v.trim();
      if (!agentHint && hint && hint.length <= 256) agentHint = hint;
    }
  }
  for (const [name, value] of Object.entries(c.markerFields)) if (hasFieldValue(fields, name, value)) list.add('assistant-marker');
  if (c.markerSelectors.length) {
    // Line breaks compared as one: a form sends them as CRLF (form-request.ts), a field's value holds LF.
    const sent = bodyTexts(fields).map(oneNewline).filter(Boolean);
    for (const el of page.document.querySelectorAll<HTMLElement>(c.markerSelectors.join(','))) {
      if (sent.includes(oneNewline((el as HTMLTextAreaElement).value ?? el.textContent ?? ''))) list.add('assistant-marker');
    }
  }
  if (event && !event.trusted) list.add('untrusted-event');
  if (event?.scripted) list.add('scripted-content');
  const nav = page.navigator;
  if (nav.userActivation && !nav.userActivation.isActive) list.add('no-user-activation');
  if (nav.webdriver) list.add('webdriver');
  if (c.strictMode) list.add('strict-mode');
  return { signals: [...list], agentHint };
}

/**
 * Inputs whose value is not text someone writes: a button's label, a checkbox's or radio's fixed
 * value (`wpGroup-bot=1`), a file, a colour or a range. Their values are the page's own, so none of
 * them says that script wrote the content. Every other type (and an unknown one, as browsers read it
 * as text) is a text field.
 */
const NOT_TEXT = new Set(['hidden', 'submit', 'button', 'reset', 'image', 'checkbox', 'radio', 'file', 'color', 'range']);

/** True when a text field (a form's `elements`: a textarea, or an input one types into) has a value no person typed: script filled it. */
export function scriptedContent(controls: Iterable<Element>, typed: WeakSet<EventTarget>): boolean {
  return [...controls].some((el) => (el as HTMLInputElement).value && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !NOT_TEXT.has((el as HTMLInputElement).type))) && !typed.has(el));
}
