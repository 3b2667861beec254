import { describe, expect, it } from 'vitest';
import { readBodyFields } from '@/lib/protocol';
import { contentTypesAgree, readForm, withoutApprovalField } from '@/server/gateway/form-body';

const enc = new TextEncoder();
const dec = new TextDecoder();
const B = '----WebKitFormBoundaryA1b2C3';
const MP = `multipart/form-data; boundary=${B}`;

function multipart(parts: Array<[string, string] | [string, string, string]>, boundary = B): string {
  return parts.map(([name, value, filename]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: text/plain` : ''}\r\n\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`;
}

describe('gateway form bodies', () => {
  it('reads a browser multipart form as the protocol does, pairs in order', async () => {
    const body = enc.encode(multipart([['wpTextbox1', 'Hello\r\nworld'], ['wpSummary', ''], ['wpSave', 'Save']]));
    const ours = readForm(MP, body);
    const protocol = await readBodyFields(MP, body);
    expect(ours).toEqual({ pairs: [['wpTextbox1', 'Hello\r\nworld'], ['wpSummary', ''], ['wpSave', 'Save']], files: 0 });
    expect(protocol.kind === 'form' && protocol.pairs).toEqual(ours!.pairs);
  });

  it('counts files and still reads the text parts (a tool reads them too)', () => {
    const body = enc.encode(multipart([['action', 'upload'], ['file', 'bytes', 'a.txt']]));
    expect(readForm(MP, body)).toEqual({ pairs: [['action', 'upload']], files: 1 });
  });

  it.each([
    ['a preamble before the first boundary', (b: string) => `junk\r\n${b}`],
    ['an epilogue after the last boundary', (b: string) => `${b}trailing`],
    ['an extra part header', (b: string) => b.replace('name="a"\r\n', 'name="a"\r\nContent-Transfer-Encoding: base64\r\n')],
    ['a second Content-Disposition', (b: string) => b.replace('name="a"\r\n', 'name="a"\r\nContent-Disposition: form-data; name="action"\r\n')],
    ['bare LF line endings', (b: string) => b.replace(/\r\n/g, '\n')],
    ['a name* parameter (RFC 2231)', (b: string) => b.replace('name="a"', 'name*=utf-8\'\'action')],
    ['no closing boundary', (b: string) => b.slice(0, b.lastIndexOf(`--${B}--`))],
  ])('attack: refuses a multipart body that another parser could read differently: %s', (_name, mutate) => {
    const body = mutate(multipart([['a', '1'], ['b', '2']]));
    expect(readForm(MP, enc.encode(body))).toBeNull();
  });

  it('attack: refuses a quoted or parameter-laden boundary (parsers disagree on them)', () => {
    const body = enc.encode(multipart([['a', '1']]));
    expect(readForm(`multipart/form-data; boundary="${B}"`, body)).toBeNull();
    expect(readForm(`multipart/form-data; charset=utf-8; boundary=${B}`, body)).toBeNull();
  });

  it('cuts the approval field out of a urlencoded body, every other byte kept', () => {
    const body = enc.encode('title=X&countersign_approval=tok.en.sig&text=a%20b+c&&x=');
    expect(dec.decode(withoutApprovalField('application/x-www-form-urlencoded', body))).toBe('title=X&text=a%20b+c&&x=');
    expect(dec.decode(withoutApprovalField('application/x-www-form-urlencoded', enc.encode('countersign%5Fapproval=t&a=1')))).toBe('a=1');
    const plain = enc.encode('a=1&b=2');
    expect(withoutApprovalField('application/x-www-form-urlencoded', plain)).toBe(plain);
  });

  it.each([0, 1, 2])('cuts the approval part out of a multipart body at position %i, leaving a body that reads as the other pairs', async (at) => {
    const parts: Array<[string, string]> = [['wpTextbox1', 'Hi'], ['wpSave', 'Save']];
    parts.splice(at, 0, ['countersign_approval', 'a.b.c']);
    const body = enc.encode(multipart(parts));
    const cut = withoutApprovalField(MP, body);
    expect(dec.decode(cut)).toBe(multipart([['wpTextbox1', 'Hi'], ['wpSave', 'Save']]));
    const fields = await readBodyFields(MP, cut);
    expect(fields.kind === 'form' && fields.pairs).toEqual([['wpTextbox1', 'Hi'], ['wpSave', 'Save']]);
  });

  it('cuts a multipart body that held only the approval down to an empty form', async () => {
    const cut = withoutApprovalField(MP, enc.encode(multipart([['countersign_approval', 't']])));
    expect(dec.decode(cut)).toBe(`--${B}--\r\n`);
  });

  it('cuts every approval of a quorum, wherever the parts are (first, last, side by side), multipart and urlencoded, every other byte kept', () => {
    const others: Array<[string, string]> = [['wpTextbox1', 'Hi'], ['wpSummary', ''], ['wpSave', 'Save']];
    // Every way of placing 1–3 approval parts among the other parts, in order.
    for (let mask = 0; mask < 1 << 6; mask++) {
      const approvals = [0, 1, 2, 3, 4, 5].filter((i) => mask & (1 << i));
      if (approvals.length === 0 || approvals.length > 3) continue;
      const mixed: Array<[string, string]> = [];
      let k = 0;
      for (let slot = 0; slot <= others.length; slot++) {
        for (const a of approvals) if (a % (others.length + 1) === slot) mixed.push(['countersign_approval', `t${k++}`]);
        if (slot < others.length) mixed.push(others[slot]!);
      }
      expect(dec.decode(withoutApprovalField(MP, enc.encode(multipart(mixed)))), JSON.stringify(mixed)).toBe(multipart(others));
      const form = mixed.map(([n, v]) => `${n}=${v}`).join('&');
      expect(dec.decode(withoutApprovalField('application/x-www-form-urlencoded', enc.encode(form))), form).toBe(others.map(([n, v]) => `${n}=${v}`).join('&'));
    }
  });

  it('attack: a Content-Type a lenient parser reads as a form while the protocol does not is refused', () => {
    expect(contentTypesAgree('application/x-www-form-urlencoded')).toBe(true);
    expect(contentTypesAgree('multipart/form-data; boundary=x')).toBe(true);
    expect(contentTypesAgree('application/json')).toBe(true);
    expect(contentTypesAgree(null)).toBe(true);
    expect(contentTypesAgree('application/x-www-form-urlencoded, application/json')).toBe(false);
    expect(contentTypesAgree('application/x-www-form-urlencoded text/plain')).toBe(false);
  });
});
