// Devices' WebAuthn credentials in the store, on SQLite and PostgreSQL: found by device and the key
// they were registered with, and a sign count that only goes up — once per token, the same token
// admitted again, a count that went back or stayed refused (a clone), two zeros accepted. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRUNE_MARGIN_SECONDS, pruneConsumed } from '../../../server/store/decisions';
import { admitSignCount, credentialOf } from '../../../server/store/webauthn-credentials';
import { DATABASES, startVerifier } from '../../helpers/verifier';
import type { Device, TestVerifier } from '../../helpers/verifier';
import { EXTENSION_ORIGIN } from '../../helpers/webauthn';

describe.each(DATABASES)('webauthn credentials (%s)', (kind) => {
  let v: TestVerifier;
  let n = 0;
  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  const admit = (device: Device, signCount: number, jti = `jti-${++n}`) => admitSignCount(v.database.db, { iss: device.deviceId, jti, signCount, expiresAt: v.seconds() + 180 });
  const stored = async (device: Device) => (await credentialOf(v.database.db, device.deviceId, device.kid))!.signCount;

  it('finds a device\'s credential by device id and the key it was registered with, and nothing for another key or a device without one', async () => {
    const alice = await v.enroll('alice');
    const plain = await v.enroll('alice', { credential: false });
    expect(await credentialOf(v.database.db, alice.deviceId, alice.kid)).toMatchObject({ credentialId: alice.authenticator!.credentialId, origin: EXTENSION_ORIGIN, rpId: EXTENSION_ORIGIN, signCount: 0 });
    expect(await credentialOf(v.database.db, alice.deviceId, plain.kid)).toBeUndefined();
    expect(await credentialOf(v.database.db, plain.deviceId, plain.kid)).toBeUndefined();
  });

  it('a higher count is admitted and stored; the same token with the same count passes again, with another count it does not', async () => {
    const d = await v.enroll('bob');
    expect(await admit(d, 5, 'jti-a')).toBe(true);
    expect(await stored(d)).toBe(5);
    expect(await admit(d, 5, 'jti-a')).toBe(true);
    expect(await admit(d, 6, 'jti-a')).toBe(false);
    expect(await stored(d)).toBe(5);
  });

  it('attack: cloned authenticator — a lower count, or the same count under another token, is refused and the stored count stays', async () => {
    const d = await v.enroll('carol');
    expect(await admit(d, 3)).toBe(true);
    expect(await admit(d, 2)).toBe(false);
    expect(await admit(d, 3)).toBe(false);
    expect(await stored(d)).toBe(3);
    expect(await admit(d, 4)).toBe(true);
  });

  it('an authenticator without a counter: 0 after 0 is admitted each time; after a count above 0, a 0 is refused', async () => {
    const d = await v.enroll('dave', { authenticator: { counting: 'zero' } });
    expect(await admit(d, 0)).toBe(true);
    expect(await admit(d, 0)).toBe(true);
    expect(await admit(d, 1)).toBe(true);
    expect(await admit(d, 0)).toBe(false);
  });

  it('attack: two assertions checked at once with the same count under different tokens — exactly one is admitted', async () => {
    const d = await v.enroll('erin');
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => admit(d, 7, `race-${i}`)));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await stored(d)).toBe(7);
  });

  it('one token\'s assertion checked twice at once (a replay racing the original) is admitted both times: consume, not presence, then refuses the replay', async () => {
    const d = await v.enroll('grace');
    const answers = await Promise.all(Array.from({ length: 4 }, () => admit(d, 9, 'same-token')));
    expect(answers).toEqual([true, true, true, true]);
    expect(await stored(d)).toBe(9);
  });

  it('a count for a device that has no credential is never admitted', async () => {
    const d = await v.enroll('frank', { credential: false });
    expect(await admit(d, 1)).toBe(false);
  });

  it('admitted entries are forgotten with the consumed tokens, once their tokens can no longer verify', async () => {
    const alice = await v.enroll('alice');
    const expiresAt = v.seconds() + 180;
    expect(await admitSignCount(v.database.db, { iss: alice.deviceId, jti: 'prune-me', signCount: 1, expiresAt })).toBe(true);
    const count = async () => (await v.database.db.selectFrom('presence_admitted').select('jti').where('jti', '=', 'prune-me').execute()).length;
    await pruneConsumed(v.database.db, expiresAt);
    expect(await count()).toBe(1);
    await pruneConsumed(v.database.db, expiresAt + PRUNE_MARGIN_SECONDS + 1);
    expect(await count()).toBe(0);
  });
});

