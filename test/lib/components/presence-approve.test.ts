// Where the popup asks for the person's presence: in a tab or a window of its own, right there; in the
// toolbar popup (which closes when an authenticator's prompt takes focus), in a window opened for that
// one approval, which says so at its top. Node only (tests; WebAuthn itself runs in test/e2e/presence.test.ts).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { ContinuedInWindow, confirmBanner, presenceFor } from '@/components/presence-approve';

const NONE = async () => ({ presence: 'none' as const });
const UV = async () => ({ presence: 'uv' as const, challenge: 'Y2hhbGxlbmdl', credentialId: 'Y3JlZA', rpId: 'leelpbfgmamkjjkciaifjeihgadjnmgj' });

describe('presenceFor', () => {
  beforeEach(() => fakeBrowser.reset());

  it('an approval that needs no presence asks nothing and opens nothing', async () => {
    const before = (await fakeBrowser.windows.getAll()).length;
    expect(await presenceFor({ kind: 'held', id: 'a1' }, NONE)).toBeUndefined();
    expect(await fakeBrowser.windows.getAll()).toHaveLength(before);
  });

  it('from the toolbar popup (no tab of its own), opens a window for that one approval and says so, asking no authenticator there', async () => {
    const before = (await fakeBrowser.windows.getAll()).length;
    const create = vi.spyOn(fakeBrowser.windows, 'create');
    const error = await presenceFor({ kind: 'proposal', id: 'prp_1' }, UV).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuedInWindow);
    const windows = await fakeBrowser.windows.getAll({ populate: true });
    expect(windows).toHaveLength(before + 1);
    expect(windows.at(-1)).toMatchObject({ type: 'popup', width: 440 });
    const url = new URL(String(create.mock.calls[0]![0]!.url));
    expect(url.pathname).toBe('/popup.html');
    expect(confirmBanner(url.search)).not.toBeNull();
  });
});

describe('confirmBanner', () => {
  it('a page opened to confirm one approval says how; the plain popup and a malformed parameter say nothing', () => {
    expect(confirmBanner('?confirm=held%3Aa1')).toMatch(/Confirm your presence/);
    expect(confirmBanner('?confirm=proposal%3Aprp_1')).toMatch(/Confirm your presence/);
    expect(confirmBanner('')).toBeNull();
    expect(confirmBanner('?confirm=%3Cscript%3E')).toBeNull();
    expect(confirmBanner('?confirm=other%3Ax')).toBeNull();
  });
});
