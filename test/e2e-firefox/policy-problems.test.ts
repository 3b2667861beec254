// Firefox enforces no managed-storage schema: a policies.json value of the wrong type reaches the
// extension as written. Countersign's own parse must refuse it, show it as a policy problem in the
// options page (which field, why), and take nothing from it, while the well-typed fields still apply.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FirefoxOptionsPage } from '../helpers/firefox/pages';
import { demoPolicy, startFirefoxWorld } from '../helpers/firefox/world';
import type { FirefoxWorld } from '../helpers/firefox/world';

let world: FirefoxWorld;

beforeAll(async () => {
  world = await startFirefoxWorld({
    // A pattern where a list belongs, a word for a boolean, a number for the TTL: Chrome's schema would drop them; Firefox passes them on.
    policy: (stack) => ({ ...demoPolicy(stack), protectedSites: `${stack.forumUrl}/*`, strictMode: 'yes', approvalTtlSeconds: 'two minutes' }),
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
});

test('each wrong-typed value is shown as a policy problem, and the extension takes nothing from it', async () => {
  const options = await FirefoxOptionsPage.open(world.firefox);
  const problems = await options.policyProblems();
  expect(problems.map((p) => p.source)).toEqual(['managed', 'managed', 'managed']);
  expect(problems.map((p) => p.text).sort()).toEqual([
    expect.stringMatching(/^managed approvalTtlSeconds: .*expected number, received string/),
    expect.stringMatching(/^managed protectedSites: .*expected array, received string/),
    expect.stringMatching(/^managed strictMode: .*expected boolean, received string/),
  ]);
  // Nothing is taken from a refused value: each setting is its default, not a guess at what was meant.
  expect(await options.policyRow('protectedSites')).toEqual({ value: '(none)', source: 'default' });
  expect(await options.policyRow('strictMode')).toEqual({ value: 'false', source: 'default' });
  expect(await options.policyRow('approvalTtlSeconds')).toEqual({ value: '120', source: 'default' });
  // The well-typed fields beside them still apply.
  expect(await options.policyRow('verifierUrl')).toEqual({ value: world.stack.verifierUrl, source: 'managed' });
  // No holding scripts are registered from the refused site list.
  expect((await world.state.registeredScripts()).map((s) => s.id)).not.toContain('countersign-hold');
  await options.page.close();
});
