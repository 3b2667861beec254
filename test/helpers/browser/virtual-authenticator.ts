// A person's authenticator (fingerprint, PIN or security key) in a test browser: Chromium's virtual
// authenticator (DevTools WebAuthn domain) on every page of one browser, the pages sharing one set of
// credentials and sign counts as one platform authenticator would. Node only (browser tests).
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

/**
 * A credential as the DevTools protocol carries it (WebAuthn.Credential: id and PKCS#8 private key in
 * standard base64); the fields this helper reads, the others are carried along as they came.
 */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/** A platform authenticator that can verify its user, and does (a fingerprint that matches). */
const OPTIONS = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
} as const;

/** The DevTools protocol's standard base64 credential id as WebAuthn's base64url (`PublicKeyCredential.id`, `wa.id`). */
export function credentialIdBase64url(id: string): string {
  return Buffer.from(id, 'base64').toString('base64url');
}

interface PageAuthenticator {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

/**
 * The authenticator of one browser. Every page it is attached to (all pages of a watched context)
 * gets a virtual authenticator holding the same credentials: a credential registered in the options
 * page can assert in the popup, and each assertion's sign count reaches the other pages, so counts
 * only go up, as on one device, unless a test rewinds them (a clone).
 */
export class Authenticator {
  private readonly credentials = new Map<string, VirtualCredential>();
  private readonly pages = new Map<Page, Promise<PageAuthenticator | null>>();
  private userVerified = true;
  /** A change made for a page's event that failed: the next attach() says so rather than a later assertion failing obscurely. */
  private failure: Error | null = null;
  /** Changes to the pages' authenticators, one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Attaches to every page `context` has and opens from now on. */
  watch(context: BrowserContext): void {
    // A page the test drives itself is attached explicitly (attach() throws); these only cover the rest.
    const quietly = (page: Page) => void this.attach(page).catch((error: unknown) => page.isClosed() || (this.failure ??= error as Error));
    for (const page of context.pages()) quietly(page);
    context.on('page', quietly);
  }

  /** Gives `page` the authenticator (once; later calls wait for the first). Attach before the page calls WebAuthn. */
  async attach(page: Page): Promise<void> {
    if (this.failure) throw new Error(`the virtual authenticator failed to follow a page: ${this.failure.message}`);
    let attached = this.pages.get(page);
    if (!attached) {
      attached = this.serialize(() => this.attachNow(page));
      this.pages.set(page, attached);
      page.once('close', () => this.pages.delete(page));
    }
    await attached;
  }

  /** The credentials registered so far (ids as WebAuthn's base64url). */
  credentialIds(): string[] {
    return [...this.credentials.values()].map((c) => credentialIdBase64url(c.credentialId));
  }

  /** The sign count the authenticator will go on from (the last assertion's, or the registration's). */
  signCount(credentialIdB64url: string): number {
    return this.credential(credentialIdB64url).signCount;
  }

  /** The person's verification (fingerprint, PIN) succeeds, or does not, on every page from now on. */
  async setUserVerified(verified: boolean): Promise<void> {
    this.userVerified = verified;
    await this.serialize(async () => {
      for (const pa of await this.live()) await pa.cdp.send('WebAuthn.setUserVerified', { authenticatorId: pa.authenticatorId, isUserVerified: verified });
    });
  }

  /**
   * A clone of the credential (its private key copied to another authenticator) takes its place, with
   * its own, lower, sign count: the next assertion counts from `signCount`.
   */
  async installClone(credentialIdB64url: string, signCount: number): Promise<void> {
    const clone = { ...this.credential(credentialIdB64url), signCount };
    await this.serialize(() => this.replaceEverywhere(clone, null));
  }

  /** The authenticator is lost: no credential on any page any more. */
  async forgetCredentials(): Promise<void> {
    this.credentials.clear();
    await this.serialize(async () => {
      for (const pa of await this.live()) await pa.cdp.send('WebAuthn.clearCredentials', { authenticatorId: pa.authenticatorId });
    });
  }

  private credential(credentialIdB64url: string): VirtualCredential {
    const found = [...this.credentials.values()].find((c) => credentialIdBase64url(c.credentialId) === credentialIdB64url);
    if (!found) throw new Error(`the authenticator has no credential ${credentialIdB64url}`);
    return found;
  }

  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async live(): Promise<PageAuthenticator[]> {
    const all = await Promise.all(this.pages.values());
    return all.filter((pa): pa is PageAuthenticator => pa !== null && !pa.page.isClosed());
  }

  private async attachNow(page: Page): Promise<PageAuthenticator | null> {
    try {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { ...OPTIONS, isUserVerified: this.userVerified } });
      for (const credential of this.credentials.values()) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
      const pa: PageAuthenticator = { page, cdp, authenticatorId };
      // A registration or an assertion on this page reaches every other page's authenticator.
      const learn = (credential: VirtualCredential) =>
        void this.serialize(() => this.learn(credential, pa)).catch((error: unknown) => void (this.failure ??= error as Error));
      cdp.on('WebAuthn.credentialAdded', (e) => learn(e.credential));
      cdp.on('WebAuthn.credentialAsserted', (e) => learn(e.credential));
      return pa;
    } catch (error) {
      // A page closed before it was attached needs no authenticator.
      if (page.isClosed()) return null;
      throw error;
    }
  }

  private async learn(credential: VirtualCredential, from: PageAuthenticator): Promise<void> {
    const known = this.credentials.get(credential.credentialId);
    // The events carry the private key; keep the one registered if an event ever does not.
    const full = { ...known, ...credential, privateKey: credential.privateKey || known?.privateKey || '' };
    await this.replaceEverywhere(full, from);
  }

  /** Stores `credential` and puts it, as it now is, in every page's authenticator but `except`'s (which has it). */
  private async replaceEverywhere(credential: VirtualCredential, except: PageAuthenticator | null): Promise<void> {
    this.credentials.set(credential.credentialId, credential);
    for (const pa of await this.live()) {
      if (pa === except) continue;
      try {
        await pa.cdp.send('WebAuthn.removeCredential', { authenticatorId: pa.authenticatorId, credentialId: credential.credentialId }).catch(() => undefined);
        await pa.cdp.send('WebAuthn.addCredential', { authenticatorId: pa.authenticatorId, credential });
      } catch (error) {
        if (!pa.page.isClosed()) throw error;
      }
    }
  }
}

/** One authenticator per browser profile: a browser restarted on the same profile keeps its credentials, as a device does. */
const byProfile = new Map<string, Authenticator>();

export function authenticatorFor(profile: string): Authenticator {
  let found = byProfile.get(profile);
  if (!found) byProfile.set(profile, (found = new Authenticator()));
  return found;
}

/** The profile is gone (a fresh profile removed at close): so is its authenticator. */
export function forgetAuthenticator(profile: string): void {
  byProfile.delete(profile);
}
