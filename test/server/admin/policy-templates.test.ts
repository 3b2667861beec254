// Admin policy templates: each target read back as the browser reads it, every schema key with its
// type; refusals (unknown key, wrong type, bad adapter, bad update URL); the CLI without a verifier.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, GECKO_ID } from '../../../lib/extension-identity';
import { AdminPolicy } from '../../../lib/protocol/policy';
import { loadManagedSchema } from '../../../server/admin/managed-schema';
import {
  checkPolicy,
  MACOS_EXTENSION_DOMAIN,
  macosExtensionDomain,
  ManagedSchema,
  renderTemplate,
  TemplateTarget,
  UpdateUrl,
  WINDOWS_FORCELIST_KEY,
  WINDOWS_POLICY_KEY,
  windowsPolicyKey,
} from '../../../server/admin/policy-templates';
import type { CheckedPolicy, ManagedSchemaProperty } from '../../../server/admin/policy-templates';
import { artifactNames } from '../../../server/admin/extension-package';
import type { PackageInfo } from '../../../server/admin/extension-package';
import { runCli } from '../../../server/cli';

const schema = loadManagedSchema();
const UPDATE_URL = 'https://updates.corp.example/countersign/update.xml';

const ADAPTERS = [
  {
    id: 'forum',
    match: ['https://forum.corp.example/*'],
    actions: [{ scope: 'forum.post', request: { method: 'POST', url: '/api/posts' }, form: 'form[action="/posts"]' }],
    // Non-ASCII and a quote: the .reg writer must fall back to hex(1), the plist writer must escape.
    posts: { container: 'article.café', author: '.author', body: '.body & .text' },
  },
];

/** Every key the schema has, each with a value AdminPolicy accepts. */
const FULL_POLICY = {
  verifierUrl: 'https://verifier.corp.example',
  protectedSites: ['https://forum.corp.example/*', 'https://wiki.corp.example:8443/*'],
  blockedSites: ['https://payroll.corp.example/*'],
  assistantAccounts: ['assistant-bot', 'agent:forum-helper'],
  approvalTtlSeconds: 300,
  killSwitch: false,
  strictMode: true,
  verifierPolicy: 'off',
  // Pretty-printed, as an admin writes it: a newline the .reg and plist writers must carry.
  adapters: JSON.stringify(ADAPTERS, null, 2),
} as const;

function checked(input: unknown): CheckedPolicy {
  const result = checkPolicy(schema, input);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.policy;
}

/** Asserts a read-back policy equals FULL_POLICY key by key, each value of its schema type. */
function expectEveryKeyRoundTrips(readBack: Record<string, unknown>, expected: Record<string, unknown> = FULL_POLICY): void {
  expect(Object.keys(readBack).sort()).toEqual(Object.keys(schema.properties).sort());
  for (const [key, prop] of Object.entries(schema.properties)) {
    const value = readBack[key];
    expect(value, key).toEqual(expected[key]);
    const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    expect(type, key).toBe(prop.type);
  }
  // And the extension's own parse takes it as is.
  expect(AdminPolicy.parse(readBack)).toEqual(readBack);
}

// ---- Readers, independent of the writers: each reads the file the way the browser does.

/**
 * A .reg file read as regedit imports it and converted as Chrome's registry loader does
 * (components/policy/core/common/registry_dict.cc): REG_SZ a string, REG_DWORD an integer (a
 * boolean where the schema says so), a subkey of values named 1, 2, … a list.
 */
function readReg(text: string): Map<string, Map<string, string | number>> {
  const lines = text.split('\r\n');
  expect(lines[0]).toBe('Windows Registry Editor Version 5.00');
  expect(text.includes('\n') && !/[^\r]\n/.test(text)).toBe(true); // CRLF throughout
  const keys = new Map<string, Map<string, string | number>>();
  let current: Map<string, string | number> | null = null;
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith(';')) continue;
    const deleted = /^\[-(.+)\]$/.exec(line);
    if (deleted) {
      for (const k of [...keys.keys()]) if (k === deleted[1] || k.startsWith(`${deleted[1]}\\`)) keys.delete(k);
      current = null;
      continue;
    }
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = keys.get(section[1]!) ?? new Map();
      keys.set(section[1]!, current);
      continue;
    }
    const value = /^"((?:[^"\\]|\\.)*)"=(.*)$/.exec(line);
    if (!value || !current) throw new Error(`not a .reg line: ${line}`);
    const name = value[1]!.replace(/\\(.)/g, '$1');
    const data = value[2]!;
    if (data.startsWith('"')) {
      expect(data).toMatch(/^"((?:[^"\\]|\\.)*)"$/);
      current.set(name, data.slice(1, -1).replace(/\\(.)/g, '$1'));
    } else if (data.startsWith('dword:')) {
      expect(data).toMatch(/^dword:[0-9a-f]{8}$/);
      current.set(name, parseInt(data.slice(6), 16));
    } else if (data.startsWith('hex(1):')) {
      const bytes = Buffer.from(data.slice(7).split(',').map((b) => parseInt(b, 16)));
      const s = bytes.toString('utf16le');
      expect(s.endsWith('\0')).toBe(true);
      current.set(name, s.slice(0, -1));
    } else {
      throw new Error(`unexpected .reg value type: ${line}`);
    }
  }
  return keys;
}

function chromeFromRegistry(keys: Map<string, Map<string, string | number>>, root: string): Record<string, unknown> {
  const values = keys.get(root);
  if (!values) throw new Error(`${root} is not in the file`);
  const out: Record<string, unknown> = {};
  const convert = (prop: ManagedSchemaProperty, v: string | number): unknown => (prop.type === 'boolean' && typeof v === 'number' ? v !== 0 : v);
  for (const [name, v] of values) {
    const prop = schema.properties[name];
    if (!prop) throw new Error(`value ${name} is not a schema key`);
    out[name] = convert(prop, v);
  }
  for (const [path, sub] of keys) {
    if (!path.startsWith(`${root}\\`)) continue;
    const name = path.slice(root.length + 1);
    expect(schema.properties[name]?.type, name).toBe('array');
    const entries = [...sub.entries()];
    entries.forEach(([n], i) => expect(n).toBe(String(i + 1)));
    out[name] = entries.map(([, v]) => v);
  }
  return out;
}

type Plist = string | number | boolean | Plist[] | { [key: string]: Plist };

/** A strict reader of the XML property-list subset: dict, key, array, string, integer, true, false. */
function readPlist(text: string): Plist {
  expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">')).toBe(true);
  const body = text.slice(text.indexOf('<plist version="1.0">') + '<plist version="1.0">'.length, text.lastIndexOf('</plist>'));
  const tokens = body.match(/<[^>]+>|[^<]+/g)!.filter((t) => t.trim() !== '' || false);
  let i = 0;
  const unescape = (s: string) => {
    expect(s).not.toMatch(/&(?!amp;|lt;|gt;)/);
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  };
  const textUntil = (close: string): string => {
    let s = '';
    while (tokens[i] !== close) {
      if (tokens[i]!.startsWith('<')) throw new Error(`unexpected ${tokens[i]}`);
      s += tokens[i++];
    }
    i += 1;
    return unescape(s);
  };
  const value = (): Plist => {
    const t = tokens[i++]!;
    if (t === '<string>') return textUntil('</string>');
    if (t === '<string/>') return '';
    if (t === '<integer>') {
      const n = textUntil('</integer>');
      expect(n).toMatch(/^-?\d+$/);
      return Number(n);
    }
    if (t === '<true/>') return true;
    if (t === '<false/>') return false;
    if (t === '<array/>') return [];
    if (t === '<dict/>') return {};
    if (t === '<array>') {
      const out: Plist[] = [];
      while (tokens[i] !== '</array>') out.push(value());
      i += 1;
      return out;
    }
    if (t === '<dict>') {
      const out: Record<string, Plist> = {};
      while (tokens[i] !== '</dict>') {
        expect(tokens[i++]).toBe('<key>');
        const key = textUntil('</key>');
        expect(key in out, `duplicate key ${key}`).toBe(false);
        out[key] = value();
      }
      i += 1;
      return out;
    }
    throw new Error(`unexpected plist token ${t}`);
  };
  // Whitespace between elements is layout; inside <string> it is data, so it is kept above and dropped only here.
  const root = value();
  expect(tokens.slice(i).every((t) => t.trim() === '')).toBe(true);
  return root;
}

describe('the schema the templates are written from', () => {
  it('public/managed_schema.json parses, and its keys are exactly AdminPolicy’s', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(AdminPolicy.shape).sort());
  });

  it('the test policy sets every schema key (a new key must be added here and so to every round trip)', () => {
    expect(Object.keys(FULL_POLICY).sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it('a schema key of a type no writer can write is refused by name', () => {
    const withObject = { type: 'object', properties: { ...schema.properties, limits: { title: 'Limits', description: 'x', type: 'object' } } };
    const result = ManagedSchema.safeParse(withObject);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['properties', 'limits', 'type']);
    const withNumbers = { type: 'object', properties: { ratios: { title: 'R', description: 'x', type: 'array', items: { type: 'number' } } } };
    expect(ManagedSchema.safeParse(withNumbers).success).toBe(false);
  });
});

describe('each target, read back as its browser reads it', () => {
  const policy = checked(FULL_POLICY);

  it.each(['chromium-linux', 'chrome-linux'] as const)('%s: a managed JSON file with the force-install entry and the 3rdparty policy', (target) => {
    const t = renderTemplate(target, policy, UPDATE_URL);
    expect(t.installTo).toBe(target === 'chromium-linux' ? '/etc/chromium/policies/managed/countersign.json' : '/etc/opt/chrome/policies/managed/countersign.json');
    const file = JSON.parse(t.text) as { ExtensionInstallForcelist: string[]; '3rdparty': { extensions: Record<string, Record<string, unknown>> } };
    expect(Object.keys(file)).toEqual(['ExtensionInstallForcelist', '3rdparty']);
    expect(file.ExtensionInstallForcelist).toEqual([`${EXTENSION_ID};${UPDATE_URL}`]);
    expect(Object.keys(file['3rdparty'].extensions)).toEqual([EXTENSION_ID]);
    expectEveryKeyRoundTrips(file['3rdparty'].extensions[EXTENSION_ID]!);
    expect(typeof file['3rdparty'].extensions[EXTENSION_ID]!.adapters).toBe('string');
  });

  it('firefox: policies.json with ExtensionSettings force_installed from the XPI and 3rdparty.Extensions', () => {
    const xpi = 'https://updates.corp.example/countersign/countersign.xpi';
    const file = JSON.parse(renderTemplate('firefox', policy, xpi).text) as {
      policies: { ExtensionSettings: Record<string, unknown>; '3rdparty': { Extensions: Record<string, Record<string, unknown>> } };
    };
    expect(Object.keys(file)).toEqual(['policies']);
    expect(file.policies.ExtensionSettings).toEqual({ [GECKO_ID]: { installation_mode: 'force_installed', install_url: xpi } });
    expect(Object.keys(file.policies['3rdparty'].Extensions)).toEqual([GECKO_ID]);
    expectEveryKeyRoundTrips(file.policies['3rdparty'].Extensions[GECKO_ID]!);
  });

  it('windows: REG_SZ strings, REG_DWORD booleans and integers, lists as numbered subkeys, and the forcelist', () => {
    const text = renderTemplate('windows', policy, UPDATE_URL).text;
    const keys = readReg(text);
    expectEveryKeyRoundTrips(chromeFromRegistry(keys, WINDOWS_POLICY_KEY));
    expect(text).toContain('"killSwitch"=dword:00000000');
    expect(text).toContain('"strictMode"=dword:00000001');
    expect(text).toContain('"approvalTtlSeconds"=dword:0000012c');
    // The pretty-printed adapters (newlines, "café") cannot be quoted: they go as hex(1), which reads back the same.
    expect(text).toMatch(/^"adapters"=hex\(1\):/m);
    expect([...keys.get(WINDOWS_FORCELIST_KEY)!]).toEqual([['1', `${EXTENSION_ID};${UPDATE_URL}`]]);
    // The policy key is cleared first, so a value an older file set does not linger.
    expect(text.indexOf(`[-${WINDOWS_POLICY_KEY}]`)).toBeLessThan(text.indexOf(`[${WINDOWS_POLICY_KEY}]`));
  });

  it('macos: one profile, com.google.Chrome with the forcelist, com.google.Chrome.extensions.<id> with the policy', () => {
    const text = renderTemplate('macos', policy, UPDATE_URL).text;
    const profile = readPlist(text) as Record<string, Plist>;
    expect(profile.PayloadType).toBe('Configuration');
    const content = profile.PayloadContent as Array<Record<string, Plist>>;
    expect(content.map((p) => p.PayloadType)).toEqual(['com.google.Chrome', MACOS_EXTENSION_DOMAIN]);
    expect(content[0]!.ExtensionInstallForcelist).toEqual([`${EXTENSION_ID};${UPDATE_URL}`]);
    const uuids = [profile.PayloadUUID, ...content.map((p) => p.PayloadUUID)];
    expect(new Set(uuids).size).toBe(3);
    for (const u of uuids) expect(u).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    const settings = Object.fromEntries(Object.entries(content[1]!).filter(([k]) => !k.startsWith('Payload')));
    expectEveryKeyRoundTrips(settings);
    // Regenerated, the profile keeps its identity: an MDM replaces it rather than adding a second one.
    expect(renderTemplate('macos', policy, UPDATE_URL).text).toBe(text);
  });

  it.each(TemplateTarget.options)('%s without --update-url: the policy only, and a note that nothing is installed', (target) => {
    const t = renderTemplate(target, policy);
    expect(t.text).not.toContain('ExtensionInstallForcelist');
    expect(t.text).not.toContain('ExtensionSettings');
    expect(t.text).toContain('approvalTtlSeconds');
    expect(t.notes.join(' ')).toMatch(/does not install the extension/);
  });

  it('adapters given as a JSON array are written as the JSON string the schema says', () => {
    const p = checked({ adapters: ADAPTERS });
    const file = JSON.parse(renderTemplate('chromium-linux', p).text) as { '3rdparty': { extensions: Record<string, { adapters: unknown }> } };
    const written = file['3rdparty'].extensions[EXTENSION_ID]!.adapters;
    expect(typeof written).toBe('string');
    expect(JSON.parse(written as string)).toEqual(ADAPTERS);
  });
});

describe('refusals', () => {
  const problems = (input: unknown) => {
    const r = checkPolicy(schema, input);
    if (r.ok) throw new Error('accepted');
    return r.problems.join('\n');
  };

  it('an unknown key is refused, naming it and the keys there are', () => {
    expect(problems({ killswitch: true })).toMatch(/unknown key "killswitch": public\/managed_schema.json has verifierUrl, .*killSwitch/);
  });

  it('a value of the wrong type is refused, naming the key and the schema type', () => {
    expect(problems({ killSwitch: 'true' })).toBe("killSwitch must be true or false (the schema's type), not a string");
    expect(problems({ approvalTtlSeconds: '300' })).toBe("approvalTtlSeconds must be an integer (the schema's type), not a string");
    expect(problems({ approvalTtlSeconds: 30.5 })).toMatch(/approvalTtlSeconds must be an integer/);
    expect(problems({ protectedSites: 'https://forum.corp.example/*' })).toMatch(/protectedSites must be an array of strings/);
    expect(problems({ blockedSites: ['https://a.example/*', 7] })).toBe('blockedSites must hold only strings');
    expect(problems({ verifierUrl: ['https://v.example'] })).toMatch(/verifierUrl must be a string .* not an array/);
    expect(problems({ verifierPolicy: 'sometimes' })).toBe('verifierPolicy must be one of "on", "off"');
    expect(problems({ approvalTtlSeconds: 5 })).toBe('approvalTtlSeconds must be at least 10');
    expect(problems({ adapters: { id: 'forum' } })).toMatch(/adapters must be a string/);
    expect(problems([])).toBe('the policy must be a JSON object of managed keys');
  });

  it('a value of the right type that the protocol refuses is refused too (AdminPolicy)', () => {
    expect(problems({ protectedSites: ['forum.corp.example'] })).toMatch(/^protectedSites\.0: not a match pattern/);
    expect(problems({ verifierUrl: 'ftp://verifier.corp.example' })).toMatch(/^verifierUrl: /);
  });

  it('a bad adapter is refused by index, id and field', () => {
    const bad = [{ ...ADAPTERS[0], id: 'forum', match: [] }];
    expect(problems({ adapters: bad })).toMatch(/^adapters\[0\] \(adapter forum\) match: /);
    expect(problems({ adapters: '[{"id": "forum",' })).toMatch(/^adapters is /);
  });

  it('attack: an update URL that would leak credentials or install from plain http is refused', () => {
    expect(UpdateUrl.safeParse('https://admin:hunter2@updates.corp.example/u.xml').success).toBe(false);
    expect(UpdateUrl.safeParse('http://updates.corp.example/u.xml').success).toBe(false);
    expect(UpdateUrl.safeParse('https://updates.corp.example/u.xml#x').success).toBe(false);
    expect(UpdateUrl.safeParse('javascript:alert(1)').success).toBe(false);
    expect(UpdateUrl.safeParse('not a url').success).toBe(false);
    expect(UpdateUrl.safeParse('http://127.0.0.1:8099/update.xml').success).toBe(true);
    expect(UpdateUrl.safeParse(UPDATE_URL).success).toBe(true);
  });

  it.each([
    ['quoted (printable ASCII)', 'x\\" "killSwitch"=dword:00000001 </string><true/>'],
    ['a JSON-escaped line break', 'x"\r\n"killSwitch"=dword:00000001\r\n</string><true/>'],
  ])('attack: a string that would break out of its .reg value or plist element stays inside it: %s', (_, sneaky) => {
    const p = checked({ adapters: JSON.stringify([{ ...ADAPTERS[0], posts: { container: sneaky, body: '.b' } }]) });
    const regText = renderTemplate('windows', p).text;
    const reg = chromeFromRegistry(readReg(regText), WINDOWS_POLICY_KEY);
    expect(Object.keys(reg)).toEqual(['adapters']);
    expect(reg.adapters).toBe(p[0]!.value);
    const plist = readPlist(renderTemplate('macos', p).text) as { PayloadContent: Array<Record<string, Plist>> };
    expect(Object.keys(plist.PayloadContent[0]!).filter((k) => !k.startsWith('Payload'))).toEqual(['adapters']);
    expect(plist.PayloadContent[0]!.adapters).toBe(p[0]!.value);
  });
});

describe('npm run admin -- policy-template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-policy-template-'));
  const policyFile = join(dir, 'policy.json');
  const given = { ...FULL_POLICY, adapters: ADAPTERS };
  writeFileSync(policyFile, JSON.stringify(given));

  /** No verifier, no admin token: fetch fails the test if the command ever calls it. */
  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, {
      fetch: () => Promise.reject(new Error('policy-template must not call the verifier')),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints the template to stdout without a verifier or an admin token', async () => {
    const r = await cli('policy-template', 'firefox', '--policy', policyFile, '--update-url', 'https://updates.corp.example/countersign.xpi');
    expect(r.err).toBe('note: Firefox reads one policies.json: if the machine has one, merge these entries into it');
    expect(r.code).toBe(0);
    const file = JSON.parse(r.out) as { policies: { '3rdparty': { Extensions: Record<string, { adapters: string }> } } };
    expect(JSON.parse(file.policies['3rdparty'].Extensions[GECKO_ID]!.adapters)).toEqual(ADAPTERS);
  });

  it('--out writes the file and says where it goes', async () => {
    const out = join(dir, 'countersign.reg');
    const r = await cli('policy-template', 'windows', '--policy', policyFile, '--update-url', UPDATE_URL, '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/wrote .*countersign\.reg: install it as reg import/);
    expectEveryKeyRoundTrips(chromeFromRegistry(readReg(readFileSync(out, 'utf8')), WINDOWS_POLICY_KEY), { ...given, adapters: JSON.stringify(ADAPTERS) });
  });

  it('an unknown target, a refused policy and a bad update URL each exit 1 with why', async () => {
    const target = await cli('policy-template', 'safari', '--policy', policyFile);
    expect(target.code).toBe(1);
    expect(target.err).toBe('error: unknown target "safari": one of chromium-linux, chrome-linux, windows, macos, firefox');
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ killSwitch: 'yes', colour: 'red' }));
    const refused = await cli('policy-template', 'chromium-linux', '--policy', badFile);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is refused:');
    expect(refused.err).toContain("killSwitch must be true or false (the schema's type), not a string");
    expect(refused.err).toContain('unknown key "colour"');
    expect(refused.out).toBe('');
    const url = await cli('policy-template', 'chromium-linux', '--policy', policyFile, '--update-url', 'http://updates.corp.example/u.xml');
    expect(url.code).toBe(1);
    expect(url.err).toBe('error: --update-url is refused: the update URL must be https (http only on loopback)');
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'killSwitch: true');
    expect((await cli('policy-template', 'macos', '--policy', notJson)).err).toMatch(/not\.json is not a JSON file/);
  });

  // ---- --package <kit> and --extension-id <id>: the id a fleet's own signing key gives.

  const KIT_ID = 'kjihgfedcbaponmlkjihgfedcbaponml';
  const KIT_BASE = 'https://updates.corp.example/kit/';
  /** A kit directory holding only package.json, as npm run package writes it (with or without --base-url). */
  function kit(selfHosted: boolean): string {
    const kitDir = mkdtempSync(join(dir, 'kit-'));
    const names = artifactNames('1.2.3');
    const artifact = (file: string) => ({ file, sha256: 'd'.repeat(64) });
    const info: PackageInfo = {
      version: '1.2.3',
      chromium: {
        id: KIT_ID,
        crx: artifact(names.crx),
        webStoreZip: artifact(names.webStoreZip),
        updateManifest: selfHosted ? 'update.xml' : null,
        updateUrl: selfHosted ? `${KIT_BASE}update.xml` : null,
      },
      firefox: { id: GECKO_ID, xpi: artifact(names.xpi), updateManifest: selfHosted ? 'updates.json' : null, installUrl: selfHosted ? `${KIT_BASE}${names.xpi}` : null, signed: false },
    };
    writeFileSync(join(kitDir, 'package.json'), JSON.stringify(info));
    return kitDir;
  }

  it('--package: the policy is keyed on the kit’s id, and the forcelist entry is <id>;<the kit’s update.xml URL>', async () => {
    const r = await cli('policy-template', 'chromium-linux', '--policy', policyFile, '--package', kit(true));
    expect(r.code).toBe(0);
    const file = JSON.parse(r.out) as { ExtensionInstallForcelist: string[]; '3rdparty': { extensions: Record<string, Record<string, unknown>> } };
    expect(file.ExtensionInstallForcelist).toEqual([`${KIT_ID};${KIT_BASE}update.xml`]);
    expect(Object.keys(file['3rdparty'].extensions)).toEqual([KIT_ID]);
    expectEveryKeyRoundTrips(file['3rdparty'].extensions[KIT_ID]!, { ...given, adapters: JSON.stringify(ADAPTERS) });
    expect(r.out).not.toContain(EXTENSION_ID);
  });

  it('--package for firefox: the XPI’s URL is the install_url', async () => {
    const r = await cli('policy-template', 'firefox', '--policy', policyFile, '--package', kit(true));
    expect(r.code).toBe(0);
    const file = JSON.parse(r.out) as { policies: { ExtensionSettings: Record<string, unknown> } };
    expect(file.policies.ExtensionSettings).toEqual({ [GECKO_ID]: { installation_mode: 'force_installed', install_url: `${KIT_BASE}countersign-1.2.3.xpi` } });
  });

  it('--package for windows and macos: the registry key and the preference domain are the kit’s id', async () => {
    const kitDir = kit(true);
    const reg = await cli('policy-template', 'windows', '--policy', policyFile, '--package', kitDir);
    expect(reg.code).toBe(0);
    const keys = readReg(`${reg.out}\r\n`);
    expect(keys.has(windowsPolicyKey(KIT_ID))).toBe(true);
    expect(keys.has(WINDOWS_POLICY_KEY)).toBe(false);
    expect([...keys.get(WINDOWS_FORCELIST_KEY)!]).toEqual([['1', `${KIT_ID};${KIT_BASE}update.xml`]]);
    const mac = await cli('policy-template', 'macos', '--policy', policyFile, '--package', kitDir);
    expect(mac.code).toBe(0);
    const content = (readPlist(`${mac.out}\n`) as { PayloadContent: Array<Record<string, Plist>> }).PayloadContent;
    expect(content.map((p) => p.PayloadType)).toEqual(['com.google.Chrome', macosExtensionDomain(KIT_ID)]);
    expect(content[0]!.ExtensionInstallForcelist).toEqual([`${KIT_ID};${KIT_BASE}update.xml`]);
  });

  it('attack: --package with --update-url or --extension-id is refused (one source for the id and the URL)', async () => {
    const kitDir = kit(true);
    for (const extra of [['--update-url', UPDATE_URL], ['--extension-id', KIT_ID]]) {
      const r = await cli('policy-template', 'chromium-linux', '--policy', policyFile, '--package', kitDir, ...extra);
      expect(r.code, extra[0]).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toBe('error: --package names the id and the update URL itself: leave out --update-url and --extension-id');
    }
  });

  it('--package with a kit packed without a base URL is refused, naming --base-url', async () => {
    const kitDir = kit(false);
    for (const target of ['chromium-linux', 'firefox']) {
      const r = await cli('policy-template', target, '--policy', policyFile, '--package', kitDir);
      expect(r.code, target).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/was packed without --base-url, so it names no URL to install from: npm run package -- --base-url/);
    }
  });

  it('--package naming a directory that is not a kit is refused', async () => {
    const notKit = join(dir, 'not-a-kit');
    mkdirSync(notKit, { recursive: true });
    const r = await cli('policy-template', 'chromium-linux', '--policy', policyFile, '--package', notKit);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${notKit} is not a package made by npm run package`);
  });

  it('attack: a kit whose update URL is plain http to a remote host is refused like --update-url', async () => {
    const kitDir = kit(true);
    const info = JSON.parse(readFileSync(join(kitDir, 'package.json'), 'utf8')) as PackageInfo;
    writeFileSync(join(kitDir, 'package.json'), JSON.stringify({ ...info, chromium: { ...info.chromium, updateUrl: 'http://updates.corp.example/kit/update.xml' } }));
    const r = await cli('policy-template', 'chromium-linux', '--policy', policyFile, '--package', kitDir);
    expect(r.code).toBe(1);
    expect(r.err).toBe("error: the package's update manifest URL is refused: the update URL must be https (http only on loopback)");
  });

  it.each(['LEELPBFGMAMKJJKCIAIFJEIHGADJNMGJ', 'qeelpbfgmamkjjkciaifjeihgadjnmgj', 'leelpbfgmamkjjkciaifjeihgadjnmg', 'leelpbfgmamkjjkciaifjeihgadjnmgj\\evil', ''])(
    'attack: --extension-id %j is refused (it would become a registry path and a preference domain)',
    async (id) => {
      const r = await cli('policy-template', 'windows', '--policy', policyFile, '--extension-id', id);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toBe('error: --extension-id is refused: a Chromium extension id is 32 letters a–p');
    },
  );

  it('--extension-id keys the windows .reg key path and the macOS domain on that id', async () => {
    const reg = await cli('policy-template', 'windows', '--policy', policyFile, '--extension-id', KIT_ID, '--update-url', UPDATE_URL);
    expect(reg.code).toBe(0);
    const keys = readReg(`${reg.out}\r\n`);
    expectEveryKeyRoundTrips(chromeFromRegistry(keys, windowsPolicyKey(KIT_ID)), { ...given, adapters: JSON.stringify(ADAPTERS) });
    expect(windowsPolicyKey(KIT_ID)).toBe(`HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Google\\Chrome\\3rdparty\\extensions\\${KIT_ID}\\policy`);
    expect(keys.has(WINDOWS_POLICY_KEY)).toBe(false);
    expect([...keys.get(WINDOWS_FORCELIST_KEY)!]).toEqual([['1', `${KIT_ID};${UPDATE_URL}`]]);
    const mac = await cli('policy-template', 'macos', '--policy', policyFile, '--extension-id', KIT_ID);
    expect(mac.code).toBe(0);
    const content = (readPlist(`${mac.out}\n`) as { PayloadContent: Array<Record<string, Plist>> }).PayloadContent;
    expect(content.map((p) => p.PayloadType)).toEqual([macosExtensionDomain(KIT_ID)]);
    expect(macosExtensionDomain(KIT_ID)).toBe(`com.google.Chrome.extensions.${KIT_ID}`);
    expect(mac.out).not.toContain(EXTENSION_ID);
  });

  it('without --extension-id or --package the development id keys the policy', async () => {
    const r = await cli('policy-template', 'macos', '--policy', policyFile);
    expect(r.code).toBe(0);
    const content = (readPlist(`${r.out}\n`) as { PayloadContent: Array<Record<string, Plist>> }).PayloadContent;
    expect(content.map((p) => p.PayloadType)).toEqual([MACOS_EXTENSION_DOMAIN]);
  });
});
