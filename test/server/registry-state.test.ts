// Two verifier instances on one database (two replicas): the policy made active and the receipt key
// rotated through one are what the other decides and signs with from its next request — through
// POST /v1/verify, the in-process middleware and the admin routes; and a slow read never puts back
// a policy this instance has just set. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app';
import { openDatabase } from '../../server/db/connect';
import { inProcessVerifier } from '../../server/middleware/clients';
import { compilePolicy, defaultPolicyText } from '../../server/policy/engine';
import { registry } from '../../server/registry-state';
import { replacePolicy } from '../../server/store/policies';
import { activeReceiptSigner } from '../../server/store/receipt-keys';
import { ADMIN_TOKEN, DATABASES, FORUM_REQUEST, FORUM_SCOPE, PUBLIC_URL, sameStorage, startVerifier } from '../helpers/verifier';
import type { Device, TestVerifier } from '../helpers/verifier';

const FORBID_ALL = '@id("nobody") forbid (principal, action, resource);\n@id("owner") permit (principal, action, resource);';
const receiptKid = (receipt: string) => (JSON.parse(Buffer.from(receipt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

describe.each(DATABASES)('two verifier instances on one %s database', (kind) => {
  let a: TestVerifier;
  let b: Awaited<ReturnType<typeof buildApp>>;
  let bDatabase: Awaited<ReturnType<typeof openDatabase>>;
  let device: Device;

  beforeAll(async () => {
    a = await startVerifier(kind);
    bDatabase = await openDatabase(sameStorage(a.database));
    b = await buildApp({ database: bDatabase, adminToken: ADMIN_TOKEN, publicUrl: PUBLIC_URL, now: () => a.clock.now });
    device = await a.enroll('alice');
    await a.registerAgent('agent:forum-helper', 'alice');
  });
  afterAll(async () => {
    await b.close();
    await bDatabase.close();
    await a.close();
  });

  const verifyOnB = async () => {
    const { token } = await a.mint(device);
    return b.inject({ method: 'POST', url: '/v1/verify', payload: { token, request: FORUM_REQUEST, scope: FORUM_SCOPE } });
  };

  it('attack: approving through the other instance right after a policy forbidding it was made active on one → refused at once', async () => {
    expect((await verifyOnB()).statusCode).toBe(200);
    expect((await a.admin('PUT', '/v1/admin/policy', { text: FORBID_ALL })).statusCode).toBe(200);
    try {
      const refused = await verifyOnB();
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'approver_not_authorized' } });
      // The in-process middleware decides with the same deps, and refreshes the same way.
      const { token } = await a.mint(device);
      await expect(inProcessVerifier(b.verifier.verifyDeps).verify({ tokens: [token], request: FORUM_REQUEST, scope: FORUM_SCOPE })).rejects.toMatchObject({ code: 'approver_not_authorized' });
      // What the other instance reports is the policy in force.
      const shown = await b.inject({ method: 'GET', url: '/v1/admin/policy', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(shown.json()).toMatchObject({ version: compilePolicy(FORBID_ALL).version });
    } finally {
      expect((await a.admin('PUT', '/v1/admin/policy', { text: defaultPolicyText() })).statusCode).toBe(200);
    }
    expect((await verifyOnB()).statusCode, 'the default policy back, through the first instance').toBe(200);
  });

  it('a receipt key rotated through one instance is the key the other signs with from its next request', async () => {
    const before = receiptKid((await verifyOnB()).json<{ receipt: string }>().receipt);
    const rotated = await a.admin('POST', '/v1/admin/receipt-keys/rotate');
    const { kid } = rotated.json<{ kid: string }>();
    expect(kid).not.toBe(before);
    expect(receiptKid((await verifyOnB()).json<{ receipt: string }>().receipt)).toBe(kid);
  });

  it('a read that began before this instance set a policy never puts the older one back when it ends later', async () => {
    const db = a.database;
    const initial = { policy: compilePolicy(defaultPolicyText()), signer: await activeReceiptSigner(db.db, a.clock.now) };
    const r = registry(db, initial, () => a.clock.now);
    // The database says FORBID_ALL; this instance is about to set a third policy itself.
    await replacePolicy(db.db, FORBID_ALL, a.clock.now);
    const third = compilePolicy(`${FORBID_ALL}\n// third`);
    try {
      const reading = r.refresh();
      // Let the read start (it compiles FORBID_ALL after reading its version), then set the third.
      await new Promise((resolve) => setImmediate(resolve));
      r.setPolicy(third);
      await reading;
      expect(r.current().policy.version).toBe(third.version);
      // A read begun after the set applies what the database says.
      await r.refresh();
      expect(r.current().policy.version).toBe(compilePolicy(FORBID_ALL).version);
    } finally {
      await replacePolicy(db.db, defaultPolicyText(), a.clock.now);
    }
  });

  it('fail closed: when the database cannot be read, the other routes answer 503 verifier_unavailable', async () => {
    const c = await startVerifier(kind);
    try {
      await c.database.close();
      const res = await c.admin('GET', '/v1/admin/policy');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'verifier_unavailable' } });
    } finally {
      await c.close().catch(() => undefined);
    }
  });
});
