// `npm run admin -- …`: the admin CLI over the verifier's HTTP admin API. Node only.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ErrorBody, EventsResponse } from '../lib/protocol';
import { AgentKeyCreated } from '../lib/protocol/api';
import { loadManagedSchema } from './admin/managed-schema';
import { EXTENSION_ID } from '../lib/extension-identity';
import { ChromiumExtensionId } from './admin/extension-package';
import { checkPolicy, renderTemplate, TemplateTarget, UpdateUrl } from './admin/policy-templates';
import { readPackageInfo } from './admin/write-package';

export interface CliIo {
  fetch: typeof fetch;
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
}

/**
 * The id a policy template is keyed on and its force-install URL: from a kit (--package), or from
 * --extension-id and --update-url, each checked. A kit and either flag together is refused: one source.
 */
function templateInstall(target: TemplateTarget, o: { updateUrl?: string; package?: string; extensionId?: string }): { updateUrl: UpdateUrl | undefined; extensionId: string } {
  const checkedUrl = (value: string, flag: string): UpdateUrl => {
    const parsed = UpdateUrl.safeParse(value);
    if (!parsed.success) throw new Error(`${flag} is refused: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return parsed.data;
  };
  if (o.package !== undefined) {
    if (o.updateUrl !== undefined || o.extensionId !== undefined) throw new Error('--package names the id and the update URL itself: leave out --update-url and --extension-id');
    const kit = readPackageInfo(o.package);
    const url = target === 'firefox' ? kit.firefox.installUrl : kit.chromium.updateUrl;
    if (url === null) throw new Error(`${o.package} was packed without --base-url, so it names no URL to install from: npm run package -- --base-url <https://…/>`);
    return { updateUrl: checkedUrl(url, `the package's ${target === 'firefox' ? 'XPI' : 'update manifest'} URL`), extensionId: kit.chromium.id };
  }
  let extensionId: string = EXTENSION_ID;
  if (o.extensionId !== undefined) {
    const parsed = ChromiumExtensionId.safeParse(o.extensionId);
    if (!parsed.success) throw new Error(`--extension-id is refused: ${parsed.error.issues[0]!.message}`);
    extensionId = parsed.data;
  }
  return { updateUrl: o.updateUrl === undefined ? undefined : checkedUrl(o.updateUrl, '--update-url'), extensionId };
}

/** Runs one CLI command; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('countersign-admin')
    .description('Administer a Countersign verifier: enrollment codes, agents and their keys, kill switch, revocation, events.')
    .option('--url <url>', 'verifier base URL', io.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8787')
    .option('--token <token>', 'admin bearer token (default: from $COUNTERSIGN_ADMIN_TOKEN; never printed)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const { url, token: given } = program.opts<{ url: string; token?: string }>();
    // Read here, not as the option's default: commander prints defaults in --help.
    const token = given ?? io.env.COUNTERSIGN_ADMIN_TOKEN;
    if (!token) throw new Error('no admin token: pass --token or set COUNTERSIGN_ADMIN_TOKEN');
    const res = await io.fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const parsed = ErrorBody.safeParse(json);
      throw new Error(parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : `HTTP ${res.status}`);
    }
    return json;
  }
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  const killBody = (scope: string, target?: string) => (scope === 'global' ? { scope } : { scope, target });

  const codes = program.command('codes').description('one-time enrollment codes');
  codes.command('create').requiredOption('--user <id>', 'the user the device will belong to').action(async (o: { user: string }) => {
    print(await call('POST', '/v1/admin/enrollment-codes', { userId: o.user }));
  });

  const agents = program.command('agents').description('the agent registry');
  agents
    .command('put <agentId>')
    .requiredOption('--owner <id>', 'the user who approves this agent')
    .option('--scope <scope...>', 'scopes it may act in', [])
    .option('--site <origin...>', 'tool origins it may act on', [])
    .action(async (agentId: string, o: { owner: string; scope: string[]; site: string[] }) => {
      print(await call('PUT', `/v1/admin/agents/${encodeURIComponent(agentId)}`, { owner: o.owner, scopes: o.scope, sites: o.site }));
    });

  const agentKeys = program.command('agent-keys').description("agents' API keys (Authorization: Bearer <key>; the gateway's X-Countersign-Agent-Key)");
  agentKeys
    .command('create <agentId>')
    .description('make a key for a registered agent; it is printed once and cannot be shown again')
    .action(async (agentId: string) => {
      const created = AgentKeyCreated.parse(await call('POST', `/v1/admin/agents/${encodeURIComponent(agentId)}/keys`));
      print({ agentId, keyId: created.keyId, key: created.key });
      io.err('Store the key now: the verifier keeps only its hash and cannot show it again.');
    });
  agentKeys
    .command('revoke <agentId> <keyId>')
    .description("revoke one key (the agent's other keys stay valid)")
    .action(async (agentId: string, keyId: string) => {
      print(await call('DELETE', `/v1/admin/agents/${encodeURIComponent(agentId)}/keys/${encodeURIComponent(keyId)}`));
    });

  program.command('kill <scope> [target]').description('engage the kill switch: global, or agent|user|site <target>').action(async (scope: string, target?: string) => {
    print(await call('POST', '/v1/admin/kill', killBody(scope, target)));
  });
  program.command('unkill <scope> [target]').description('lift a kill (tokens issued before it stay void)').action(async (scope: string, target?: string) => {
    print(await call('DELETE', '/v1/admin/kill', killBody(scope, target)));
  });
  program
    .command('devices <userId>')
    .description("a user's devices (kid, label, revoked, presence): to replace a lost authenticator, revoke the old device and issue a new code")
    .action(async (userId: string) => {
      print(await call('GET', `/v1/admin/devices?user=${encodeURIComponent(userId)}`));
    });
  program.command('revoke <kid>').description('revoke a device key (its presence credential goes with it)').action(async (kid: string) => {
    print(await call('POST', `/v1/admin/devices/${encodeURIComponent(kid)}/revoke`));
  });
  program.command('status').description('kill switch and policy version').action(async () => {
    print(await call('GET', '/v1/status'));
  });
  program
    .command('events')
    .description('export one action\'s log events and verifier decisions as JSON Lines')
    .requiredOption('--trace <traceId>', 'the W3C trace id of the action')
    .action(async (o: { trace: string }) => {
      const parsed = EventsResponse.parse(await call('GET', `/v1/admin/events?trace=${encodeURIComponent(o.trace)}`));
      for (const event of parsed.events) io.out(JSON.stringify({ kind: 'event', ...event }));
      for (const decision of parsed.decisions) io.out(JSON.stringify({ kind: 'decision', ...decision }));
    });
  const policy = program.command('policy').description('the Cedar policy set');
  policy.command('get').action(async () => {
    const answer = (await call('GET', '/v1/admin/policy')) as { version: string; text: string };
    io.out(answer.text);
  });
  policy.command('set <file>').action(async (file: string) => {
    print(await call('PUT', '/v1/admin/policy', { text: readFileSync(file, 'utf8') }));
  });

  const receiptKeys = program.command('receipt-keys').description("the verifier's receipt signing keys (published at /.well-known/jwks.json)");
  receiptKeys
    .command('rotate')
    .description('sign new receipts with a new key; older keys stay published, so receipts signed before still verify')
    .action(async () => {
      print(await call('POST', '/v1/admin/receipt-keys/rotate'));
    });

  const bots = program.command('bots').description('policy bots (their rules are in the Cedar policy)');
  bots
    .command('rotate <name>')
    .description("give a bot a new signing key; its older keys are revoked at once (tokens they signed stop verifying)")
    .action(async (name: string) => {
      print(await call('POST', `/v1/admin/policy-bots/${encodeURIComponent(name)}/rotate`));
    });

  const extensionPolicy = program.command('extension-policy').description("the organisation's extension policy (adds protection to every enrolled browser)");
  extensionPolicy.command('get').action(async () => {
    print(await call('GET', '/v1/admin/extension-policy'));
  });
  extensionPolicy
    .command('set <file>')
    .description('a JSON file with the managed keys (protectedSites, blockedSites, assistantAccounts, approvalTtlSeconds, killSwitch, strictMode, adapters as a JSON array)')
    .action(async (file: string) => {
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new Error(`${file} is not a JSON file: ${error instanceof Error ? error.message : String(error)}`);
      }
      print(await call('PUT', '/v1/admin/extension-policy', document));
    });

  program
    .command('policy-template <target>')
    .description(
      `write the admin policy as a fleet deploys it (${TemplateTarget.options.join(', ')}), from public/managed_schema.json; needs no verifier or admin token`,
    )
    .requiredOption('--policy <file>', 'a JSON file of managed keys (adapters as a JSON array, or the JSON string the schema says)')
    .option('--update-url <url>', "where browsers install the extension from: Chrome's self-hosted update manifest (ExtensionInstallForcelist), Firefox's XPI (install_url)")
    .option('--package <dir>', 'a kit made by npm run package --base-url: its Chromium id keys the policy, and its update manifest (or XPI, for firefox) is the force-install entry')
    .option('--extension-id <id>', `the Chromium id to key the policy on (default: the development id ${EXTENSION_ID}; a fleet's own key gives another)`)
    .option('--out <file>', 'write the template to this file (else to stdout)')
    .action((target: string, o: { policy: string; updateUrl?: string; package?: string; extensionId?: string; out?: string }) => {
      const parsedTarget = TemplateTarget.safeParse(target);
      if (!parsedTarget.success) throw new Error(`unknown target ${JSON.stringify(target)}: one of ${TemplateTarget.options.join(', ')}`);
      const install = templateInstall(parsedTarget.data, o);
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(o.policy, 'utf8'));
      } catch (error) {
        throw new Error(`${o.policy} is not a JSON file: ${error instanceof Error ? error.message : String(error)}`);
      }
      const checked = checkPolicy(loadManagedSchema(), document);
      if (!checked.ok) throw new Error(`the policy in ${o.policy} is refused:\n${checked.problems.map((p) => `  - ${p}`).join('\n')}`);
      const template = renderTemplate(parsedTarget.data, checked.policy, install.updateUrl, install.extensionId);
      for (const note of template.notes) io.err(`note: ${note}`);
      if (o.out === undefined) {
        io.out(template.text.replace(/\r?\n$/, ''));
        return;
      }
      writeFileSync(o.out, template.text);
      io.err(`wrote ${o.out}: install it as ${template.installTo}`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
  }
  return exitCode;
}
