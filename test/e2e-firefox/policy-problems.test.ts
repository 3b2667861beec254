// Firefox enforces no managed-storage schema: a policies.json value of the wrong type reaches the
// extension as written. Countersign's own parse must refuse it, show it as a policy problem in the
// options page (which field, why), take no guessed value from it, and fail closed where the value
// was protection: a switch it cannot read is on, the site a one-pattern "list" names is held, never
// released. The well-typed fields beside them still apply.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FirefoxOptionsPage } from '../helpers/firefox/pages';
import { demoPolicy, startFirefoxWorld } from '../helpers/firefox/world';
import type { FirefoxWorld } from '../helpers/firefox/world';

let world: FirefoxWorld;

beforeAll(async () => {
  world = await startFirefoxWorld({
    // A pattern where a list belongs, a word and a number for booleans, words for the TTL: Chrome's schema would drop them; Firefox passes them on.
    policy: (stack) => ({ ...demoPolicy(stack), protectedSites: `${stack.forumUrl}/*`, strictMode: 'yes', killSwitch: 0, approvalTtlSeconds: 'two minutes' }),
    awaitProtection: false,
  });
});

afterAll(async () => {
  await world?.close();
});

test('attack: wrong-typed values in policies.json reach storage.managed unchecked by Firefox', async () => {
  const managed = await world.state.managedPolicy();
  expect(managed.protectedSites).toBe(`${world.stack.forumUrl}/*`);
  expect(managed.strictMode).toBe('yes');
  expect(managed.killSwitch).toBe(0);
});

test('each wrong-typed value is shown as a policy problem; nothing is guessed from it, and where it was protection it fails closed', async () => {
  const options = await FirefoxOptionsPage.open(world.firefox);
  const problems = await options.policyProblems();
  expect(problems.map((p) => p.source)).toEqual(['managed', 'managed', 'managed', 'managed']);
  const site = `*://${new URL(world.stack.forumUrl).hostname}/*`;
  expect(problems.map((p) => p.text).sort()).toEqual([
    expect.stringMatching(/^managed approvalTtlSeconds: .*expected number, received string/),
    expect.stringMatching(/^managed killSwitch: .*expected boolean, received number; treated as on until it is true or false \(fail closed\)/),
    expect.stringMatching(new RegExp(`^managed protectedSites: .*expected array, received string \\(a list of match patterns\\); Countersign fails closed on ${site.replace(/[.*/]/g, '\\$&')}`)),
    expect.stringMatching(/^managed strictMode: .*expected boolean, received string; treated as on/),
  ]);
  // No guess at what was meant: the list is not made from the string, the TTL is its default...
  expect(await options.policyRow('protectedSites')).toEqual({ value: '(none)', source: 'default' });
  expect(await options.policyRow('approvalTtlSeconds')).toEqual({ value: '120', source: 'default' });
  // ...but the switches the admin set are on, and the site the string names is held, never released.
  expect(await options.policyRow('strictMode')).toEqual({ value: 'true', source: 'managed' });
  expect(await options.policyRow('killSwitch')).toEqual({ value: 'true', source: 'managed' });
  expect((await world.state.registeredScripts()).map((s) => s.id)).toContain('countersign-hold');
  // The well-typed fields beside them still apply.
  expect(await options.policyRow('verifierUrl')).toEqual({ value: world.stack.verifierUrl, source: 'managed' });
  await options.page.close();
});
