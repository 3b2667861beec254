// Two people, two browsers: a second Chromium with its own profile and the extension (the fixture's
// managed policy applies to both), enrolled as its user and signed in to the Access console; the
// organisation's Cedar policy uploaded to the verifier; a device of the test's own for an attacker's
// calls; and what each extension logged. Node only (browser tests).
import type { ActionRequest } from '@/lib/protocol/index';
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, mintDeviceProof } from '@/lib/protocol/index';
import { launchWithExtension } from './browser';
import type { ExtensionBrowser } from './browser';
import { ConsolePage } from './pages/demo-pages';
import { enrollAs, waitForProtection } from './protection';
import type { Stack } from './stack';

export { TWO_PERSON_POLICY } from '../policies';

export async function uploadPolicy(stack: Stack, text: string): Promise<void> {
  const res = await stack.admin('PUT', '/v1/admin/policy', { text });
  if (res.status !== 200) throw new Error(`the policy upload was refused: HTTP ${res.status} ${await res.text()}`);
}

/** A person in a browser of their own: enrolled, signed in to the console (the session a "before" is read in), on the payroll dataset. */
export interface Person {
  userId: string;
  browser: ExtensionBrowser;
  console: ConsolePage;
}

/** Enrolls `browser` as `userId` and opens the console's payroll page signed in as them. */
export async function personIn(browser: ExtensionBrowser, stack: Stack, userId: string): Promise<Person> {
  await enrollAs(browser, stack, userId);
  const console = new ConsolePage(await browser.context.newPage(), stack.consoleUrl);
  await console.signIn(userId);
  await console.openDataset('payroll-2026');
  return { userId, browser, console };
}

/** A second Chromium, with a fresh profile of its own and the extension, protecting what the first does. */
export async function secondBrowser(): Promise<ExtensionBrowser> {
  const browser = await launchWithExtension();
  await waitForProtection(browser);
  return browser;
}

/** A device key of the test's own, enrolled as `userId`: what an attacker holding that person's second device could sign. */
export async function testDevice(stack: Stack, userId: string) {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId })).json()) as { code: string };
  const pair = await generateEs256KeyPair();
  const res = await fetch(new URL('/v1/enroll', stack.verifierUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: `${userId}'s other device` }),
  });
  if (res.status !== 201) throw new Error(`enroll failed: ${await res.text()}`);
  const { kid, deviceId } = (await res.json()) as { kid: string; deviceId: string };
  const device = { kid, deviceId, userId, privateKey: pair.privateKey };
  return {
    ...device,
    mint: (request: ActionRequest, agent: string, scope: string, traceId: string) =>
      mintApprovalToken({ ...device, request, agent, scope, traceId, ttlSeconds: 120, now: Math.floor(Date.now() / 1000) }).then((m) => m.token),
    /** A device-authenticated call to the verifier. */
    async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
      const url = new URL(path, stack.verifierUrl).href;
      const authorization = await mintDeviceProof({ privateKey: pair.privateKey, kid, method, url });
      return fetch(url, { method, headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    },
  };
}

/** The held actions in a browser's extension database, as stored. */
export function heldRows(browser: ExtensionBrowser) {
  return browser.context.serviceWorkers().at(-1)!.evaluate(async () => {
    const open = indexedDB.open('countersign');
    const database = await new Promise<IDBDatabase>((resolve, reject) => ((open.onsuccess = () => resolve(open.result)), (open.onerror = () => reject(open.error))));
    const all = database.transaction('actions').objectStore('actions').getAll();
    return new Promise<Array<{ id: string; state: string; token: string | null; tokens?: string[]; published?: string; quorum?: number; reason: string | null; spec: { trc: string } }>>((resolve) => (all.onsuccess = () => resolve(all.result)));
  });
}
