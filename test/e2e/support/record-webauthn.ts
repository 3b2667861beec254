// Records test/fixtures/webauthn/chromium-extension.json from real Chromium: a credential registered
// and assertions made in the built extension's options page (origin chrome-extension://<id>) with
// the DevTools virtual authenticator, for the verifier's unit tests. Node only; run by hand, after
// `flock /tmp/wxt.lock npx wxt build`:
//   flock /tmp/wxt.lock npx tsx test/e2e/support/record-webauthn.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import type { ActionRequest, WebAuthnAssertion } from '../../../lib/protocol/index';
import { actionDigest, enrollmentChallenge, exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint, presenceChallenge } from '../../../lib/protocol/index';
import { CHROMIUM, launchWithExtension } from '../../helpers/browser/browser';

const OUT = resolve('test/fixtures/webauthn/chromium-extension.json');

/** An access change on the demo console: what `admin.acl.write` approvals are for. */
const REQUEST: ActionRequest = {
  method: 'PUT',
  url: 'http://localhost:4002/api/datasets/payroll-2026/access',
  contentType: 'application/json',
  body: '{"readers":["alice","bob","mallory"]}',
};
/** 2026-01-01T00:00:00Z; the assertions are over fixed exp values so the fixture is self-describing. */
const IAT = 1767225600;

/** navigator.credentials.create() in the page, with the options the extension's enrollment uses. */
function register(page: Page, challenge: string) {
  // No named function inside: tsx's esbuild would wrap it in a helper the page does not have.
  return page.evaluate(async (challenge) => {
    const credential = (await navigator.credentials.create({
      publicKey: {
        rp: { name: 'Countersign', id: location.hostname },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'fixture device', displayName: 'fixture device' },
        challenge: Uint8Array.from(atob(challenge.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { userVerification: 'required', residentKey: 'discouraged' },
        attestation: 'none',
        timeout: 10_000,
      },
    })) as PublicKeyCredential;
    return { json: credential.toJSON() as unknown, rpIdGiven: location.hostname, origin: location.origin };
  }, challenge);
}

/** navigator.credentials.get() in the page, as the popup asks for an approval's presence. */
async function assertOver(page: Page, challenge: string, credentialId: string, userVerification: UserVerificationRequirement): Promise<WebAuthnAssertion> {
  const r = await page.evaluate(
    async ({ challenge, credentialId, userVerification }) => {
      const [c, id] = [challenge, credentialId].map((s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)));
      const credential = (await navigator.credentials.get({
        publicKey: { challenge: c!, rpId: location.hostname, allowCredentials: [{ type: 'public-key', id: id! }], userVerification, timeout: 10_000 },
      })) as PublicKeyCredential;
      return credential.toJSON() as { id: string; response: { authenticatorData: string; clientDataJSON: string; signature: string } };
    },
    { challenge, credentialId, userVerification },
  );
  return { id: r.id, ad: r.response.authenticatorData, cd: r.response.clientDataJSON, sig: r.response.signature };
}

function describe(wa: WebAuthnAssertion) {
  const ad = Buffer.from(wa.ad, 'base64url');
  const flags = ad[32]!;
  return { counter: ad.readUInt32BE(33), up: (flags & 0x01) !== 0, uv: (flags & 0x04) !== 0 };
}

async function main(): Promise<void> {
  const chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const pair = await generateEs256KeyPair();
  const publicKeyJwk = await exportEs256PublicJwk(pair.publicKey);
  const kid = await jwkThumbprint(publicKeyJwk);
  const dig = await actionDigest(REQUEST);
  const browser = await launchWithExtension();
  try {
    const page = await browser.openExtensionPage('options.html');
    const reg = await register(page, await enrollmentChallenge(kid));
    const credentialId = (reg.json as { id: string }).id;
    const bindings = [
      { name: 'uv', jti: 'fixture-jti-0000000000001', exp: IAT + 120, userVerification: 'required' as const, userVerified: true },
      { name: 'uvNext', jti: 'fixture-jti-0000000000002', exp: IAT + 180, userVerification: 'required' as const, userVerified: true },
      // Chromium refuses a 'required' get() when verification fails; 'discouraged' gives UP without UV.
      { name: 'noUv', jti: 'fixture-jti-0000000000003', exp: IAT + 240, userVerification: 'discouraged' as const, userVerified: false },
    ];
    const assertions: Record<string, unknown> = {};
    for (const b of bindings) {
      await browser.authenticator.setUserVerified(b.userVerified);
      const challenge = await presenceChallenge({ dig, jti: b.jti, exp: b.exp });
      const wa = await assertOver(page, challenge, credentialId, b.userVerification);
      assertions[b.name] = { binding: { dig, jti: b.jti, exp: b.exp }, challenge, userVerification: b.userVerification, ...describe(wa), wa };
    }
    const clientData = JSON.parse(Buffer.from((reg.json as { response: { clientDataJSON: string } }).response.clientDataJSON, 'base64url').toString()) as { origin: string };
    const fixture = {
      recorded: `by test/e2e/support/record-webauthn.ts on ${new Date().toISOString().slice(0, 10)}: ${chromiumVersion}, headless, the built extension's options.html, DevTools WebAuthn virtual authenticator (ctap2, internal, resident keys, user verification), navigator.credentials.create/get with rp.id = location.hostname`,
      origin: clientData.origin,
      rpIdGiven: reg.rpIdGiven,
      rpId: clientData.origin,
      rpIdNote: "Chromium's rpIdHash for an extension page is SHA-256 of the whole origin (rpId below), not of the bare extension id the page passed (rpIdGiven)",
      device: { publicKeyJwk, kid, enrollmentChallenge: await enrollmentChallenge(kid) },
      registration: reg.json,
      request: REQUEST,
      assertions,
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`wrote ${OUT}`);
  } finally {
    await browser.close();
  }
}

await main();
