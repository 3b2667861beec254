// What the popup shows the owner: every value of a repeated field, in the order the tool receives them
// (before, it showed the last while the tool applied the first), in a post's other fields and in a
// config change's rows; a post's text found at its JSON pointer is not shown twice. Rendered to static
// markup. Node only (tests).
import { parseHTML } from 'linkedom';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ActionDiff } from '@/components/ActionDiff';

const render = (el: React.ReactElement) => parseHTML(`<html><body>${renderToStaticMarkup(el)}</body></html>`).document;

describe('ActionDiff', () => {
  it('a post\'s other fields: each value of a repeated field, in order, labelled which of them it is', () => {
    const body = 'body=Deploy+now&notify=team&notify=everyone';
    const doc = render(<ActionDiff diff={{ kind: 'text', before: null, after: 'Deploy now' }} body={body} contentType="application/x-www-form-urlencoded" contentField="body" />);
    const rows = [...doc.querySelectorAll('dl.other-fields > div')].map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent]);
    expect(rows).toEqual([
      ['notify (1 of 2)', 'team'],
      ['notify (2 of 2)', 'everyone'],
    ]);
  });

  it('a config change with a repeated field: one row per value, in order', () => {
    const fields = [
      { name: 'group', before: 'payroll', after: 'everyone' },
      { name: 'group', before: 'hr', after: 'payroll' },
      { name: 'mode', before: 'read', after: 'read' },
    ];
    const doc = render(<ActionDiff diff={{ kind: 'fields', fields }} body="group=everyone&group=payroll&mode=read" contentType="application/x-www-form-urlencoded" />);
    const rows = [...doc.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ['group (1 of 2)', 'payroll', 'everyone'],
      ['group (2 of 2)', 'hr', 'payroll'],
      ['mode', 'read', 'read'],
    ]);
  });

  it('a post at a JSON pointer: the text once, and the rest of its member beside it', () => {
    const body = '{"post":{"title":"Runbook","text":"Rotate the keys."}}';
    const doc = render(<ActionDiff diff={{ kind: 'text', before: null, after: 'Rotate the keys.' }} body={body} contentType="application/json" contentField="/post/text" />);
    expect(doc.querySelector('[aria-label="Post text"]')!.textContent).toBe('Rotate the keys.');
    expect(doc.querySelector('dl.other-fields dd')!.textContent).toBe('{"title":"Runbook"}');
  });
});
