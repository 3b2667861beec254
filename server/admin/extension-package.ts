// The deployment kit's pure parts: the Chromium id a signing key gives, each browser's manifest as it is
// packaged (key, update URL), the update manifests a fleet polls (Chrome's gupdate XML, Firefox's
// updates.json), and the kit's own description. No I/O; Node only (node:crypto).
import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { GECKO_ID } from '../../lib/extension-identity';

/** A Chromium extension id: 32 letters a–p. */
export const ChromiumExtensionId = z.string().regex(/^[a-p]{32}$/, 'a Chromium extension id is 32 letters a–p');
export type ChromiumExtensionId = z.infer<typeof ChromiumExtensionId>;

/** The Chromium id of a public key (SPKI DER): the first 128 bits of its SHA-256, hex digits mapped to a–p. */
export function chromiumIdOf(spkiDer: Uint8Array): ChromiumExtensionId {
  const hex = createHash('sha256').update(spkiDer).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join('');
}

/** The signing key's public half as the manifest's `key` (SPKI DER, base64) and the id it fixes. */
export function signerIdentity(privateKey: KeyObject): { key: string; id: ChromiumExtensionId } {
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`a CRX is signed with an RSA key; this key is ${privateKey.asymmetricKeyType ?? privateKey.type}`);
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error(`the signing key has ${bits} bits; 2048 at least`);
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { key: der.toString('base64'), id: chromiumIdOf(der) };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The checks every URL browsers fetch the extension from shares (the kit's base URL, a policy's
 * update URL): no credentials, since every machine gets a copy; https, or http on loopback only (a
 * test rig). `name` and `why` word the messages. Runs after z.url's own check: an unparsable value
 * is already refused.
 */
export function servedUrlIssues(value: string, ctx: z.RefinementCtx, name: string, why: string): URL | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: `the ${name} must not carry credentials: ${why}` });
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) ctx.addIssue({ code: 'custom', message: `the ${name} must be https (http only on loopback)` });
  return url;
}

/**
 * Where the kit is served from (servedUrlIssues), with no query or fragment either: the file names
 * are appended to it. Always ends with `/`.
 */
export const BaseUrl = z
  .url({ protocol: /^https?$/ })
  .max(1800)
  .superRefine((value, ctx) => {
    const url = servedUrlIssues(value, ctx, 'base URL', 'every browser fetches it');
    if (url && (url.search || url.hash || /[?#]/.test(value))) ctx.addIssue({ code: 'custom', message: 'the base URL must not have a ?query or #fragment: file names are appended to it' });
  })
  .transform((value) => {
    const url = new URL(value);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url.href;
  });
export type BaseUrl = z.infer<typeof BaseUrl>;

/** A version Chrome and Firefox both accept: one to four dot-separated integers 0–65535, no leading zeros. */
export const ExtensionVersion = z
  .string()
  .regex(/^(0|[1-9]\d{0,4})(\.(0|[1-9]\d{0,4})){0,3}$/, 'a version is 1–4 dot-separated integers')
  .refine((v) => v.split('.').every((part) => Number(part) <= 65535), 'each part of a version is at most 65535');

type Manifest = Record<string, unknown>;

/** The Chromium manifest as packaged: the signer's key (the id follows it), and the update URL when self-hosted. */
export function chromiumManifest(built: Manifest, signer: { key: string }, updateUrl: string | null): Manifest {
  return { ...webStoreManifest(built), key: signer.key, ...(updateUrl ? { update_url: updateUrl } : {}) };
}

/** The manifest for the Chrome Web Store, which refuses `key` and `update_url` (the store owns both). */
export function webStoreManifest(built: Manifest): Manifest {
  const { update_url: _u, key: _k, ...rest } = built;
  return rest;
}

/** The Firefox manifest as packaged: its fixed add-on id, and the update URL when self-hosted. */
export function firefoxManifest(built: Manifest, updateUrl: string | null): Manifest {
  const settings = (built.browser_specific_settings ?? {}) as { gecko?: Record<string, unknown> };
  const gecko = settings.gecko ?? {};
  if (gecko.id !== GECKO_ID) throw new Error(`the Firefox build's add-on id is ${JSON.stringify(gecko.id)}, not ${GECKO_ID}: build it with wxt build -b firefox`);
  const { update_url: _old, ...geckoRest } = gecko;
  return { ...built, browser_specific_settings: { ...settings, gecko: { ...geckoRest, ...(updateUrl ? { update_url: updateUrl } : {}) } } };
}

function xmlAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Chrome's update manifest (gupdate, protocol 2.0) for one extension and version. */
export function chromiumUpdateManifest(a: { id: ChromiumExtensionId; version: string; codebase: string; minimumChromeVersion?: string }): string {
  const min = a.minimumChromeVersion ? ` prodversionmin="${xmlAttribute(a.minimumChromeVersion)}"` : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gupdate xmlns="http://www.google.com/update2/response" protocol="2.0">',
    `  <app appid="${xmlAttribute(a.id)}">`,
    `    <updatecheck codebase="${xmlAttribute(a.codebase)}" version="${xmlAttribute(a.version)}"${min} />`,
    '  </app>',
    '</gupdate>',
    '',
  ].join('\n');
}

/** Firefox's update manifest (updates.json) for the add-on: where this version's XPI is, and its hash. */
export function firefoxUpdateManifest(a: { version: string; link: string; sha256: string; minimumFirefoxVersion?: string }): string {
  const update = {
    version: a.version,
    update_link: a.link,
    update_hash: `sha256:${a.sha256}`,
    ...(a.minimumFirefoxVersion ? { applications: { gecko: { strict_min_version: a.minimumFirefoxVersion } } } : {}),
  };
  return `${JSON.stringify({ addons: { [GECKO_ID]: { updates: [update] } } }, null, 2)}\n`;
}

const Artifact = z.strictObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** `package.json` of the kit: what was packed, the ids, and where browsers fetch it (null: not self-hosted). */
export const PackageInfo = z.strictObject({
  version: ExtensionVersion,
  chromium: z.strictObject({
    id: ChromiumExtensionId,
    crx: Artifact,
    webStoreZip: Artifact,
    updateManifest: z.string().nullable(),
    updateUrl: z.string().nullable(),
  }),
  firefox: z.strictObject({
    id: z.literal(GECKO_ID),
    xpi: Artifact,
    updateManifest: z.string().nullable(),
    installUrl: z.string().nullable(),
    signed: z.literal(false),
  }),
});
export type PackageInfo = z.infer<typeof PackageInfo>;

/** The kit's file names for a version. */
export function artifactNames(version: string) {
  return {
    crx: `countersign-${version}.crx`,
    webStoreZip: `countersign-${version}-chrome-webstore.zip`,
    xpi: `countersign-${version}.xpi`,
    chromiumUpdateManifest: 'update.xml',
    firefoxUpdateManifest: 'updates.json',
    info: 'package.json',
  } as const;
}
