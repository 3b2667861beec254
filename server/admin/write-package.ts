// Writes the deployment kit from the two WXT builds (.output/chrome-mv3, .output/firefox-mv3): a CRX3
// signed with the fleet's key and its update manifest, the Chrome Web Store zip, the Firefox XPI and its
// updates.json, and package.json describing them. Node only (fs, crx3, yazl).
import { createHash, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import crx3 from 'crx3';
import yazl from 'yazl';
import {
  artifactNames,
  chromiumManifest,
  chromiumUpdateManifest,
  ExtensionVersion,
  firefoxManifest,
  firefoxUpdateManifest,
  PackageInfo,
  signerIdentity,
  webStoreManifest,
} from './extension-package';
import type { BaseUrl } from './extension-package';

export interface PackageOptions {
  chromiumDir: string;
  firefoxDir: string;
  outDir: string;
  /** PEM (PKCS#8 or PKCS#1) of the fleet's RSA signing key: the Chromium id follows it. */
  keyPath: string;
  /** Where the kit is served from, or null when it is not self-hosted (no update URLs written). */
  baseUrl: BaseUrl | null;
  /** Every zip entry's time, so the same build packs to the same bytes. */
  mtime?: Date;
}

/** Entries of a built extension, sorted by path, with `manifest.json` as given. */
function entries(dir: string, manifest: Record<string, unknown>): Array<{ name: string; data: Buffer }> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort();
  if (!files.includes('manifest.json')) throw new Error(`${dir} holds no manifest.json: build the extension first (npm run build:all)`);
  return files.map((name) => ({ name, data: name === 'manifest.json' ? Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) : readFileSync(join(dir, name)) }));
}

function zip(files: Array<{ name: string; data: Buffer }>, mtime: Date): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const f of files) archive.addBuffer(f.data, f.name, { mtime, mode: 0o100644, compress: true });
  archive.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    archive.outputStream.on('data', (c: Buffer) => chunks.push(c));
    archive.outputStream.once('error', reject);
    archive.outputStream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function readManifest(dir: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${dir}/manifest.json cannot be read (build the extension first: npm run build:all): ${(error as Error).message}`);
  }
}

/**
 * Packs both builds into `outDir`; returns what package.json says. Everything is checked and written
 * in a staging folder beside it first, which then replaces `outDir` whole: a pack that fails leaves
 * the old kit as it was, and a new one never keeps an old file (an update.xml naming another CRX).
 * An `outDir` that holds anything but a kit is refused, never replaced.
 */
export async function writePackage(o: PackageOptions): Promise<PackageInfo> {
  const mtime = o.mtime ?? new Date('2026-01-01T00:00:00Z');
  const builtChromium = readManifest(o.chromiumDir);
  const builtFirefox = readManifest(o.firefoxDir);
  const version = ExtensionVersion.parse(builtChromium.version);
  if (builtFirefox.version !== version) throw new Error(`the Chromium build is version ${version}, the Firefox build ${String(builtFirefox.version)}: build both from one checkout`);
  const signer = signerIdentity(createPrivateKey(readFileSync(o.keyPath)));
  const names = artifactNames(version);
  const at = (file: string) => (o.baseUrl ? new URL(file, o.baseUrl).href : null);
  // Every manifest is made (and the Firefox build's add-on id checked) before anything is written.
  const manifests = {
    crx: chromiumManifest(builtChromium, signer, at(names.chromiumUpdateManifest)),
    store: webStoreManifest(builtChromium),
    xpi: firefoxManifest(builtFirefox, at(names.firefoxUpdateManifest)),
  };
  const target = resolve(o.outDir);
  if (existsSync(target) && readdirSync(target).length > 0 && !isKit(target)) throw new Error(`${o.outDir} holds files that are not a kit from npm run package: refusing to replace them (choose another --out)`);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}-staging-`));
  try {
    const write = (file: string, data: Buffer | string) => writeFileSync(join(staging, file), data);

    // Chromium: the CRX's own zip carries the signer's key (so an unpacked copy keeps the id) and the update URL.
    const crxZip = await zip(entries(o.chromiumDir, manifests.crx), mtime);
    const crxPath = join(staging, names.crx);
    const made = (await crx3(Readable.from([crxZip]), { keyPath: o.keyPath, crxPath })) as { appId?: string } | undefined;
    if (made?.appId !== signer.id) throw new Error(`the CRX was signed for ${String(made?.appId)}, not ${signer.id}: the key could not be used`);
    const crx = readFileSync(crxPath);
    const storeZip = await zip(entries(o.chromiumDir, manifests.store), mtime);
    write(names.webStoreZip, storeZip);
    const codebase = at(names.crx);
    if (codebase) write(names.chromiumUpdateManifest, chromiumUpdateManifest({ id: signer.id, version, codebase }));

    // Firefox: the add-on id is fixed in the build; the update URL points at updates.json beside the XPI.
    const xpi = await zip(entries(o.firefoxDir, manifests.xpi), mtime);
    write(names.xpi, xpi);
    const link = at(names.xpi);
    if (link) write(names.firefoxUpdateManifest, firefoxUpdateManifest({ version, link, sha256: sha256(xpi) }));

    const info = PackageInfo.parse({
      version,
      chromium: {
        id: signer.id,
        crx: { file: names.crx, sha256: sha256(crx) },
        webStoreZip: { file: names.webStoreZip, sha256: sha256(storeZip) },
        updateManifest: codebase ? names.chromiumUpdateManifest : null,
        updateUrl: at(names.chromiumUpdateManifest),
      },
      firefox: {
        id: (builtFirefox.browser_specific_settings as { gecko: { id: string } }).gecko.id,
        xpi: { file: names.xpi, sha256: sha256(xpi) },
        updateManifest: link ? names.firefoxUpdateManifest : null,
        installUrl: link,
        signed: false,
      },
    });
    write(names.info, `${JSON.stringify(info, null, 2)}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    return info;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A folder npm run package wrote (its package.json describes a kit). */
function isKit(dir: string): boolean {
  try {
    readPackageInfo(dir);
    return true;
  } catch {
    return false;
  }
}

/** Reads a kit's package.json (for policy-template --package). */
export function readPackageInfo(dir: string): PackageInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, artifactNames('0').info), 'utf8'));
  } catch (error) {
    throw new Error(`${dir} is not a package made by npm run package: ${(error as Error).message}`);
  }
  const parsed = PackageInfo.safeParse(raw);
  if (!parsed.success) throw new Error(`${dir}/package.json is not a package description: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
