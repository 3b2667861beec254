// Admin policy templates: one admin policy written in each form an admin deploys it (Chromium and
// Chrome on Linux, Windows .reg, macOS .mobileconfig, Firefox policies.json), every key as
// public/managed_schema.json types it. Pure (no I/O); Node only (node:crypto for stable profile UUIDs).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EXTENSION_ID, GECKO_ID } from '../../lib/extension-identity';
import { AdminPolicy, parseAdapters } from '../../lib/protocol/policy';
import { servedUrlIssues } from './extension-package';

const Described = { title: z.string().min(1), description: z.string().min(1) };

/**
 * One key of the managed-storage schema, in the subset of JSON Schema that every writer below can
 * write. A key of another shape (an object, a number, an array of integers) is refused here, so a
 * schema change no writer handles fails loudly instead of producing a template Chrome ignores.
 */
export const ManagedSchemaProperty = z.discriminatedUnion('type', [
  z.strictObject({ ...Described, type: z.literal('string'), enum: z.array(z.string()).min(1).optional() }),
  z.strictObject({ ...Described, type: z.literal('boolean') }),
  z.strictObject({ ...Described, type: z.literal('integer'), minimum: z.int().optional(), maximum: z.int().optional() }),
  z.strictObject({ ...Described, type: z.literal('array'), items: z.strictObject({ type: z.literal('string') }) }),
]);
export type ManagedSchemaProperty = z.infer<typeof ManagedSchemaProperty>;

/** `public/managed_schema.json`: key names are plain identifiers (registry value names, plist keys). */
export const ManagedSchema = z.strictObject({
  type: z.literal('object'),
  properties: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, 'a plain identifier'), ManagedSchemaProperty),
});
export type ManagedSchema = z.infer<typeof ManagedSchema>;

export const TemplateTarget = z.enum(['chromium-linux', 'chrome-linux', 'windows', 'macos', 'firefox']);
export type TemplateTarget = z.infer<typeof TemplateTarget>;

/**
 * Where browsers fetch the extension from: Chrome's update manifest (the `ExtensionInstallForcelist`
 * entry `<id>;<url>`) or Firefox's XPI (`install_url`), checked as every served URL is
 * (servedUrlIssues), and with no fragment.
 */
export const UpdateUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .superRefine((value, ctx) => {
    const url = servedUrlIssues(value, ctx, 'update URL', 'every machine gets a copy of this file');
    if (url?.hash) ctx.addIssue({ code: 'custom', message: 'the update URL must not have a #fragment' });
  });
export type UpdateUrl = z.infer<typeof UpdateUrl>;

/** A checked policy value, typed as the schema types its key. */
export type ManagedValue = string | boolean | number | string[];
/** A checked policy: only schema keys, in the schema's order. */
export type CheckedPolicy = Array<{ key: string; type: ManagedSchemaProperty['type']; value: ManagedValue }>;

export type PolicyCheck = { ok: true; policy: CheckedPolicy } | { ok: false; problems: string[] };

/** Why `value` does not fit the schema's key, or null when it does. */
function schemaProblem(key: string, prop: ManagedSchemaProperty, value: unknown): string | null {
  switch (prop.type) {
    case 'string':
      if (typeof value !== 'string') return `${key} must be a string (the schema's type), not ${describe(value)}`;
      if (prop.enum && !prop.enum.includes(value)) return `${key} must be one of ${prop.enum.map((e) => JSON.stringify(e)).join(', ')}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${key} must be true or false (the schema's type), not ${describe(value)}`;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${key} must be an integer (the schema's type), not ${describe(value)}`;
      if (prop.minimum !== undefined && value < prop.minimum) return `${key} must be at least ${prop.minimum}`;
      if (prop.maximum !== undefined && value > prop.maximum) return `${key} must be at most ${prop.maximum}`;
      return null;
    case 'array':
      if (!Array.isArray(value)) return `${key} must be an array of strings (the schema's type), not ${describe(value)}`;
      return value.every((v) => typeof v === 'string') ? null : `${key} must hold only strings`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks an admin's policy document against the schema (each key's type) and the protocol's
 * AdminPolicy (match patterns, URLs, limits), and each adapter one by one. `adapters` may be given as
 * a JSON array for convenience: it is written as the JSON string the schema says.
 */
export function checkPolicy(schema: ManagedSchema, input: unknown): PolicyCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problems: ['the policy must be a JSON object of managed keys'] };
  const document: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (Array.isArray(document.adapters)) document.adapters = JSON.stringify(document.adapters);
  const known = Object.keys(schema.properties);
  const problems: string[] = [];
  for (const key of Object.keys(document)) {
    const prop = schema.properties[key];
    if (!prop) {
      problems.push(`unknown key ${JSON.stringify(key)}: public/managed_schema.json has ${known.join(', ')}`);
      continue;
    }
    const problem = schemaProblem(key, prop, document[key]);
    if (problem) problems.push(problem);
  }
  if (problems.length) return { ok: false, problems };
  const parsed = AdminPolicy.safeParse(document);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(policy)'}: ${i.message}`) };
  if (parsed.data.adapters !== undefined) {
    for (const p of parseAdapters(parsed.data.adapters).problems) {
      problems.push(p.index < 0 ? p.message : `adapters[${p.index}]${p.id ? ` (adapter ${p.id})` : ''} ${p.field}: ${p.message}`);
    }
    if (problems.length) return { ok: false, problems };
  }
  const data = parsed.data as Record<string, ManagedValue | undefined>;
  const policy: CheckedPolicy = [];
  for (const [key, prop] of Object.entries(schema.properties)) {
    const value = data[key];
    if (value !== undefined) policy.push({ key, type: prop.type, value });
  }
  return { ok: true, policy };
}

export interface Template {
  target: TemplateTarget;
  /** A file name for `--out`, e.g. `countersign.json`. */
  fileName: string;
  /** Where the file goes (or how it is applied) on a managed machine. */
  installTo: string;
  text: string;
  /** What the admin should know before deploying it (stderr, never part of the file). */
  notes: string[];
}

/**
 * Writes a checked policy for one target. `updateUrl` (already an UpdateUrl) adds the force-install
 * entry; `extensionId` is the Chromium id the policy is keyed on: the development id, or the one a
 * fleet's own signing key gives (npm run package).
 */
export function renderTemplate(target: TemplateTarget, policy: CheckedPolicy, updateUrl?: UpdateUrl, extensionId: string = EXTENSION_ID): Template {
  const notes: string[] = [];
  if (updateUrl === undefined) notes.push('no --update-url: this file sets the policy but does not install the extension');
  switch (target) {
    case 'chromium-linux':
    case 'chrome-linux': {
      if (updateUrl !== undefined) notes.push('Chrome takes ExtensionInstallForcelist from one source only: if another managed file sets it too, merge the entries into one list');
      const dir = target === 'chromium-linux' ? '/etc/chromium/policies/managed' : '/etc/opt/chrome/policies/managed';
      return { target, fileName: 'countersign.json', installTo: `${dir}/countersign.json`, text: chromeJson(policy, updateUrl, extensionId), notes };
    }
    case 'windows':
      notes.push('Chrome reads a list subkey in value-name order (1, 10, 11, 2, …): order does not matter for these keys');
      return { target, fileName: 'countersign.reg', installTo: 'reg import countersign.reg (as an administrator), or the same keys by GPO or Intune', text: windowsReg(policy, updateUrl, extensionId), notes };
    case 'macos':
      return { target, fileName: 'countersign.mobileconfig', installTo: 'an MDM (Jamf, Kandji, Intune) as a custom configuration profile', text: macosProfile(policy, updateUrl, extensionId), notes };
    case 'firefox':
      notes.push('Firefox reads one policies.json: if the machine has one, merge these entries into it');
      return { target, fileName: 'policies.json', installTo: '/etc/firefox/policies/policies.json (Linux), or distribution/policies.json beside the Firefox binary', text: firefoxJson(policy, updateUrl), notes };
  }
}

/** The policy as JSON: checkPolicy already gave each value its schema type, which is its JSON type. */
function jsonObject(policy: CheckedPolicy): Record<string, ManagedValue> {
  return Object.fromEntries(policy.map(({ key, value }) => [key, value]));
}

function chromeJson(policy: CheckedPolicy, updateUrl: string | undefined, id: string): string {
  const document = {
    ...(updateUrl !== undefined ? { ExtensionInstallForcelist: [`${id};${updateUrl}`] } : {}),
    '3rdparty': { extensions: { [id]: jsonObject(policy) } },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function firefoxJson(policy: CheckedPolicy, updateUrl: string | undefined): string {
  const document = {
    policies: {
      ...(updateUrl !== undefined ? { ExtensionSettings: { [GECKO_ID]: { installation_mode: 'force_installed', install_url: updateUrl } } } : {}),
      '3rdparty': { Extensions: { [GECKO_ID]: jsonObject(policy) } },
    },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

// ---- Windows: a .reg file as Chrome's registry loader reads 3rdparty policy (components/policy/core/common/registry_dict.cc):
// strings REG_SZ, booleans and integers REG_DWORD, a list a subkey of values named 1, 2, … .

const CHROME_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Google\\Chrome';
/** The registry key Chrome reads an extension's managed storage from. */
export function windowsPolicyKey(id: string = EXTENSION_ID): string {
  return `${CHROME_KEY}\\3rdparty\\extensions\\${id}\\policy`;
}
export const WINDOWS_POLICY_KEY = windowsPolicyKey();
export const WINDOWS_FORCELIST_KEY = `${CHROME_KEY}\\ExtensionInstallForcelist`;

/** A REG_SZ value: quoted when it is printable ASCII, else `hex(1):` (UTF-16LE with its NUL), which any regedit reads the same. */
export function regString(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const bytes: string[] = [];
  for (let i = 0; i <= s.length; i += 1) {
    const unit = i < s.length ? s.charCodeAt(i) : 0;
    bytes.push((unit & 0xff).toString(16).padStart(2, '0'), (unit >> 8).toString(16).padStart(2, '0'));
  }
  return `hex(1):${bytes.join(',')}`;
}

function regDword(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${n} does not fit a REG_DWORD`);
  return `dword:${n.toString(16).padStart(8, '0')}`;
}

function windowsReg(policy: CheckedPolicy, updateUrl: string | undefined, id: string): string {
  const policyKey = windowsPolicyKey(id);
  const lines = [
    'Windows Registry Editor Version 5.00',
    '',
    '; Countersign admin policy for Google Chrome on Windows, from public/managed_schema.json (npm run admin -- policy-template windows).',
    '; The policy key is replaced as a whole: values this file does not set are removed. Check it at chrome://policy.',
    '',
    `[-${policyKey}]`,
    '',
    `[${policyKey}]`,
  ];
  const lists: string[] = [];
  for (const { key, type, value } of policy) {
    switch (type) {
      case 'string':
        lines.push(`"${key}"=${regString(value as string)}`);
        break;
      case 'boolean':
        lines.push(`"${key}"=${regDword(value ? 1 : 0)}`);
        break;
      case 'integer':
        lines.push(`"${key}"=${regDword(value as number)}`);
        break;
      case 'array':
        lists.push('', `[${policyKey}\\${key}]`, ...(value as string[]).map((item, i) => `"${i + 1}"=${regString(item)}`));
        break;
      default:
        return unreachable(type);
    }
  }
  lines.push(...lists);
  if (updateUrl !== undefined) {
    lines.push('', '; Force-install from the self-hosted update manifest. Value "1": renumber it if another forced extension uses 1.', `[${WINDOWS_FORCELIST_KEY}]`, `"1"=${regString(`${id};${updateUrl}`)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

// ---- macOS: a configuration profile. Chrome on macOS reads an extension's managed storage from the
// preference domain com.google.Chrome.extensions.<id> (not from a 3rdparty key), and its own policies
// (ExtensionInstallForcelist) from com.google.Chrome: one payload each.

/** The preference domain Chrome on macOS reads an extension's managed storage from. */
export function macosExtensionDomain(id: string = EXTENSION_ID): string {
  return `com.google.Chrome.extensions.${id}`;
}
export const MACOS_EXTENSION_DOMAIN = macosExtensionDomain();

type Plist = string | number | boolean | Plist[] | { [key: string]: Plist };

function xmlText(s: string): string {
  // XML 1.0 cannot carry most control characters at all: refuse rather than write a profile macOS rejects.
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) throw new Error('a value holds a control character a property list cannot carry');
  }
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function plist(value: Plist, indent: string): string {
  if (typeof value === 'string') return `${indent}<string>${xmlText(value)}</string>`;
  if (typeof value === 'boolean') return `${indent}<${value}/>`;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${value} is not an integer`);
    return `${indent}<integer>${value}</integer>`;
  }
  if (Array.isArray(value)) return value.length ? [`${indent}<array>`, ...value.map((v) => plist(v, `${indent}  `)), `${indent}</array>`].join('\n') : `${indent}<array/>`;
  const entries = Object.entries(value).flatMap(([k, v]) => [`${indent}  <key>${xmlText(k)}</key>`, plist(v, `${indent}  `)]);
  return [`${indent}<dict>`, ...entries, `${indent}</dict>`].join('\n');
}

/** A name-based (version 5 layout) UUID: the same profile regenerated keeps its identity, so an MDM replaces it in place. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`countersign:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function payload(type: string, identifier: string, name: string, settings: Record<string, Plist>): Record<string, Plist> {
  return { PayloadType: type, PayloadIdentifier: identifier, PayloadUUID: stableUuid(identifier), PayloadVersion: 1, PayloadDisplayName: name, ...settings };
}

function macosProfile(policy: CheckedPolicy, updateUrl: string | undefined, id: string): string {
  // Every schema type is a plist type as it is: the same values as the JSON targets.
  const settings: Record<string, Plist> = jsonObject(policy);
  const content: Plist[] = [];
  if (updateUrl !== undefined) {
    content.push(payload('com.google.Chrome', 'dev.countersign.policy.chrome', 'Google Chrome: install Countersign', { ExtensionInstallForcelist: [`${id};${updateUrl}`] }));
  }
  content.push(payload(macosExtensionDomain(id), 'dev.countersign.policy.extension', 'Countersign admin policy', settings));
  const profile: Record<string, Plist> = {
    PayloadContent: content,
    PayloadDescription: 'Countersign admin policy, from public/managed_schema.json (npm run admin -- policy-template macos).',
    PayloadDisplayName: 'Countersign',
    PayloadIdentifier: 'dev.countersign.policy',
    PayloadScope: 'System',
    PayloadType: 'Configuration',
    PayloadUUID: stableUuid('dev.countersign.policy'),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    plist(profile, ''),
    '</plist>',
    '',
  ].join('\n');
}

function unreachable(type: never): never {
  throw new Error(`the schema type ${String(type)} has no writer`);
}
