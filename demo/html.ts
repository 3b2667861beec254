// A tiny `html` tagged template: every interpolated value is escaped unless it is already markup
// built by this template, so a post body can never become markup. Node only (server-rendered pages).

/** Markup built by `html` (or trusted as such by `raw`); everything else is text. */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A value that may be interpolated: text, numbers, markup, or lists of them; null/undefined/false render nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Markup from a trusted constant (never from a request or the database). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** An attribute only when it has a value: `attr('data-x', v)` renders ` data-x="v"` or nothing. */
export function attr(name: string, value: string | null | undefined): SafeHtml {
  if (value === null || value === undefined) return new SafeHtml('');
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`not an attribute name: ${name}`);
  return new SafeHtml(` ${name}="${escapeHtml(value)}"`);
}
