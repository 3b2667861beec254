// The canonical action digest: the independent vectors, properties, and refusals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionDigest, canonicalAction, canonicalJson } from '@/lib/protocol/digest';
import { PayloadInvalid } from '@/lib/protocol/errors';
import { readVector } from '../../helpers/vectors';

interface DigestCase {
  name: string;
  request: { method: string; url: string; contentType: string | null; body: string | null };
  canonical: string;
  digest: string;
}
const { cases } = readVector<{ cases: DigestCase[] }>('action-digest.json');

describe('action digest vectors (shared/vectors/action-digest.json)', () => {
  it('has cases to check', () => expect(cases.length).toBeGreaterThanOrEqual(9));

  it.each(cases)('$name: canonical JSON and digest match', async ({ request, canonical, digest }) => {
    expect(canonicalJson(await canonicalAction(request))).toBe(canonical);
    expect(await actionDigest(request)).toBe(digest);
  });
});

describe('action digest refusals', () => {
  const base = { method: 'POST', url: 'https://forum.corp.example/api/posts' };

  it('refuses a body that claims JSON but does not parse (never approvable)', async () => {
    await expect(actionDigest({ ...base, contentType: 'application/json', body: '{"a":' })).rejects.toMatchObject({
      code: 'payload_invalid',
      field: 'request.body',
    });
  });

  it('refuses JSON with a duplicate key, which two parsers could read two ways', async () => {
    const body = '{"visibility":"team-only","visibility":"all-employees"}';
    await expect(actionDigest({ ...base, contentType: 'application/json', body })).rejects.toBeInstanceOf(PayloadInvalid);
  });

  it('refuses a relative URL', async () => {
    await expect(actionDigest({ method: 'POST', url: '/api/posts', contentType: null, body: null })).rejects.toMatchObject({
      code: 'payload_invalid',
      field: 'request.url',
    });
  });

  it('refuses a JSON body that is not UTF-8', async () => {
    const body = new Uint8Array([0x22, 0xff, 0x22]);
    await expect(actionDigest({ ...base, contentType: 'application/json', body })).rejects.toBeInstanceOf(PayloadInvalid);
  });

  it('treats multipart without files as a form, equal to the urlencoded form', async () => {
    const boundary = 'XyZ';
    const multipart =
      `--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nb\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\nHello world!\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="countersign_approval"\r\n\r\nx.y.z\r\n` +
      `--${boundary}--\r\n`;
    const fromMultipart = await actionDigest({ ...base, contentType: `multipart/form-data; boundary=${boundary}`, body: multipart });
    const fromUrlencoded = await actionDigest({ ...base, contentType: 'application/x-www-form-urlencoded', body: 'tag=b&body=Hello+world%21' });
    expect(fromMultipart).toBe(fromUrlencoded);
  });

  it('treats multipart with a file as opaque bytes', async () => {
    const multipart =
      '--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n';
    const action = await canonicalAction({ ...base, contentType: 'multipart/form-data; boundary=B', body: multipart });
    expect(action.body).toHaveProperty('sha256');
  });

  it('digests raw bytes and the same text identically', async () => {
    const text = '{"a":"ü"}';
    const a = await actionDigest({ ...base, contentType: 'application/json', body: text });
    const b = await actionDigest({ ...base, contentType: 'application/json', body: new TextEncoder().encode(text) });
    expect(a).toBe(b);
  });
});

describe('form pairs keep the order sent (a tool reads the first or the last of a repeated field)', () => {
  const base = { method: 'POST', url: 'https://forum.corp.example/api/posts', contentType: 'application/x-www-form-urlencoded' };
  const digest = (body: string) => actionDigest({ ...base, body });

  it('tag=a&tag=b and tag=b&tag=a are different actions', async () => {
    expect(await digest('tag=a&tag=b')).not.toBe(await digest('tag=b&tag=a'));
  });

  it('body=A&body=B and body=B&body=A are different actions (the token for one never releases the other)', async () => {
    expect(await digest('body=A&body=B')).not.toBe(await digest('body=B&body=A'));
  });

  it('distinct fields in another order are another action too', async () => {
    expect(await digest('title=T&body=B')).not.toBe(await digest('body=B&title=T'));
  });

  it('the canonical form lists the pairs as sent, without the approval field wherever it is', async () => {
    const action = await canonicalAction({ ...base, body: 'tag=b&countersign_approval=x.y.z&tag=a&body=Hi' });
    expect(action.body).toEqual({ form: [['tag', 'b'], ['tag', 'a'], ['body', 'Hi']] });
    expect(await digest('countersign_approval=x.y.z&tag=b&tag=a&body=Hi')).toBe(await digest('tag=b&tag=a&body=Hi'));
  });

  it('multipart keeps the order too, and equals the urlencoded form in the same order', async () => {
    const part = (name: string, value: string) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const multipart = (pairs: Array<[string, string]>) => ({ ...base, contentType: 'multipart/form-data; boundary=XyZ', body: `${pairs.map(([n, v]) => part(n, v)).join('')}--XyZ--\r\n` });
    const ab = await actionDigest(multipart([['tag', 'a'], ['tag', 'b']]));
    const ba = await actionDigest(multipart([['tag', 'b'], ['tag', 'a']]));
    expect(ab).not.toBe(ba);
    expect(ab).toBe(await digest('tag=a&tag=b'));
  });

  it('any reordering of a form with a repeated name changes the digest (fast-check)', async () => {
    const pairs = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(pairs, async (values) => {
        const forward = values.map((v) => `tag=${encodeURIComponent(v)}`).join('&');
        const backward = [...values].reverse().map((v) => `tag=${encodeURIComponent(v)}`).join('&');
        expect(await digest(forward)).not.toBe(await digest(backward));
      }),
      { numRuns: 100 },
    );
  });
});

describe('action digest properties (fast-check)', () => {
  const method = fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE');
  const url = fc.webUrl({ withQueryParameters: true });
  const json = fc.jsonValue();

  it('equal requests give equal digests, whatever the JSON key order and spacing', async () => {
    await fc.assert(
      fc.asyncProperty(method, url, fc.dictionary(fc.string(), json), async (m, u, obj) => {
        const keys = Object.keys(obj);
        const reordered = Object.fromEntries([...keys].reverse().map((k) => [k, obj[k]]));
        const a = await actionDigest({ method: m, url: u, contentType: 'application/json', body: JSON.stringify(obj) });
        const b = await actionDigest({
          method: m.toLowerCase(),
          url: u,
          contentType: 'application/json; charset=utf-8',
          body: JSON.stringify(reordered, null, 2),
        });
        expect(a).toBe(b);
      }),
      { numRuns: 200 },
    );
  });

  it('any change of method, URL or body changes the digest', async () => {
    const request = fc.record({ method, url, body: fc.string() });
    await fc.assert(
      fc.asyncProperty(request, request, async (x, y) => {
        const a = await canonicalAction({ ...x, contentType: 'text/plain' });
        const b = await canonicalAction({ ...y, contentType: 'text/plain' });
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        const da = await actionDigest({ ...x, contentType: 'text/plain' });
        const db = await actionDigest({ ...y, contentType: 'text/plain' });
        expect(da).not.toBe(db);
      }),
      { numRuns: 300 },
    );
  });

  it('changing one JSON value changes the digest', async () => {
    await fc.assert(
      fc.asyncProperty(url, fc.string({ minLength: 1 }), json, json, async (u, key, v1, v2) => {
        fc.pre(canonicalJson(v1) !== canonicalJson(v2));
        const a = await actionDigest({ method: 'PUT', url: u, contentType: 'application/json', body: JSON.stringify({ [key]: v1 }) });
        const b = await actionDigest({ method: 'PUT', url: u, contentType: 'application/json', body: JSON.stringify({ [key]: v2 }) });
        expect(a).not.toBe(b);
      }),
      { numRuns: 300 },
    );
  });
});
