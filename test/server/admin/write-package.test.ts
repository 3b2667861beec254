// writePackage on the real builds (CRX3 parsed and its signature checked without the crx3 library, zips read back, update manifests, reproducibility, refusals), readPackageInfo, and the signing key file.
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID, EXTENSION_KEY, GECKO_ID } from '../../../lib/extension-identity';
import { artifactNames, BaseUrl, PackageInfo, signerIdentity } from '../../../server/admin/extension-package';
import { DEFAULT_KEY_PATH, ensureSigningKey, signingKeyPath } from '../../../server/admin/signing-key';
import { readPackageInfo, writePackage } from '../../../server/admin/write-package';

const CHROME = resolve('.output/chrome-mv3');
const FIREFOX = resolve('.output/firefox-mv3');
const BASE = 'http://127.0.0.1:8123/kit/';

const root = mkdtempSync(join(tmpdir(), 'cs-write-package-'));
const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SPKI = signer.publicKey.export({ type: 'spki', format: 'der' });
const keyPath = join(root, 'fleet-key.pem');
writeFileSync(keyPath, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** The id the key gives, computed here: SHA-256 of the SPKI, first 16 bytes, each nibble 0–15 as a–p. */
const SIGNER_ID = [...createHash('sha256').update(SPKI).digest().subarray(0, 16)].map((b) => String.fromCharCode(97 + (b >> 4), 97 + (b & 15))).join('');

const builtChrome = JSON.parse(readFileSync(join(CHROME, 'manifest.json'), 'utf8')) as Record<string, unknown>;
const builtFirefox = JSON.parse(readFileSync(join(FIREFOX, 'manifest.json'), 'utf8')) as { version: string; browser_specific_settings: { gecko: Record<string, unknown> } } & Record<string, unknown>;
const VERSION = builtChrome.version as string;
const names = artifactNames(VERSION);

let n = 0;
const freshDir = (label: string) => join(root, `${label}-${(n += 1)}`);

// ---- Readers, independent of the writers.

/** A protobuf message's length-delimited fields by number (varints skipped); anything else is an error. */
function readProto(buf: Uint8Array): Map<number, Buffer[]> {
  const fields = new Map<number, Buffer[]>();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
    throw new Error('varint too long');
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      varint();
      continue;
    }
    if (wire !== 2) throw new Error(`unexpected wire type ${wire} for field ${field}`);
    const length = varint();
    if (pos + length > buf.length) throw new Error(`field ${field} runs past the message`);
    fields.set(field, [...(fields.get(field) ?? []), Buffer.from(buf.subarray(pos, pos + length))]);
    pos += length;
  }
  return fields;
}

interface Crx {
  publicKey: Buffer;
  signature: Buffer;
  signedHeaderData: Buffer;
  crxId: Buffer;
  archive: Buffer;
  headerFields: number[];
}

/** A CRX3 file: "Cr24", version 3, header length (LE), the CrxFileHeader, then the zip. */
function readCrx(file: Buffer): Crx {
  expect(file.subarray(0, 4).toString('latin1')).toBe('Cr24');
  expect(file.readUInt32LE(4)).toBe(3);
  const headerLength = file.readUInt32LE(8);
  expect(12 + headerLength).toBeLessThan(file.length);
  const header = readProto(file.subarray(12, 12 + headerLength));
  const proofs = header.get(2) ?? [];
  expect(proofs).toHaveLength(1);
  const proof = readProto(proofs[0]!);
  const signed = header.get(10000) ?? [];
  expect(signed).toHaveLength(1);
  const signedData = readProto(signed[0]!);
  return {
    publicKey: proof.get(1)![0]!,
    signature: proof.get(2)![0]!,
    signedHeaderData: signed[0]!,
    crxId: signedData.get(1)![0]!,
    archive: file.subarray(12 + headerLength),
    headerFields: [...header.keys()].sort((a, b) => a - b),
  };
}

/** What a CRX3 proof signs: the context string, the signed header's length (LE) and bytes, then the archive. */
function signedBytes(crx: Crx): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(crx.signedHeaderData.length);
  return Buffer.concat([Buffer.from('CRX3 SignedData\x00', 'latin1'), length, crx.signedHeaderData, crx.archive]);
}

/** A zip read through its central directory: every entry inflated, its size and CRC-32 checked. */
function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  expect(eocd).toBeGreaterThanOrEqual(0);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  expect(cdOffset + cdSize).toBe(eocd);
  const files = new Map<string, Buffer>();
  let p = cdOffset;
  for (let i = 0; i < count; i += 1) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLength);
    p += 46 + nameLength + extraLength + commentLength;
    expect(buf.readUInt32LE(local)).toBe(0x04034b50);
    const localNameLength = buf.readUInt16LE(local + 26);
    expect(buf.toString('utf8', local + 30, local + 30 + localNameLength)).toBe(name);
    const start = local + 30 + localNameLength + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressedSize);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : null;
    if (!data) throw new Error(`${name}: compression method ${method}`);
    expect(data.length, name).toBe(size);
    expect(crc32(data) >>> 0, name).toBe(crc);
    expect(files.has(name), `duplicate entry ${name}`).toBe(false);
    files.set(name, data);
  }
  expect(p).toBe(cdOffset + cdSize);
  return files;
}

/** A build directory's files by zip path. */
function readTree(dir: string): Map<string, Buffer> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f))]));
}

/** The zip has exactly the build's files, each byte for byte, except manifest.json (returned parsed). */
function expectBuildFiles(zipFiles: Map<string, Buffer>, dir: string): Record<string, unknown> {
  const tree = readTree(dir);
  expect([...zipFiles.keys()].sort()).toEqual([...tree.keys()]);
  for (const [name, data] of tree) if (name !== 'manifest.json') expect(zipFiles.get(name)!.equals(data), name).toBe(true);
  return JSON.parse(zipFiles.get('manifest.json')!.toString('utf8')) as Record<string, unknown>;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('writePackage with a base URL (the real builds, a fresh RSA 2048 key)', () => {
  const kit = freshDir('kit');
  let info: PackageInfo;
  const file = (name: string) => readFileSync(join(kit, name));
  beforeAll(async () => {
    expect(builtFirefox.version).toBe(VERSION);
    info = await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: kit, keyPath, baseUrl: BaseUrl.parse(BASE) });
  });

  it('the kit holds exactly the six files, named for the version', () => {
    expect(readdirSync(kit).sort()).toEqual([names.crx, names.webStoreZip, names.xpi, 'package.json', 'update.xml', 'updates.json'].sort());
  });

  it('the id is the signing key’s, not the development id', () => {
    expect(info.chromium.id).toBe(SIGNER_ID);
    expect(info.chromium.id).not.toBe(EXTENSION_ID);
  });

  it('CRX3: "Cr24", version 3, one RSA proof whose public key is the signer’s SPKI, crx_id the first 16 bytes of its SHA-256', () => {
    const crx = readCrx(file(names.crx));
    expect(crx.headerFields).toEqual([2, 10000]);
    expect(crx.publicKey.equals(SPKI)).toBe(true);
    expect(crx.crxId.equals(createHash('sha256').update(SPKI).digest().subarray(0, 16))).toBe(true);
    expect(readProto(crx.signedHeaderData).size).toBe(1);
  });

  it('attack: the CRX3 signature verifies (RSA PKCS#1 v1.5, SHA-256) over context, signed header and the whole archive, and not over a changed archive', () => {
    const crx = readCrx(file(names.crx));
    const key = createPublicKey({ key: crx.publicKey, format: 'der', type: 'spki' });
    const message = signedBytes(crx);
    expect(verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, crx.signature)).toBe(true);
    const tampered = Buffer.from(message);
    tampered[tampered.length - 100] = tampered[tampered.length - 100]! ^ 1;
    expect(verify('sha256', tampered, { key, padding: constants.RSA_PKCS1_PADDING }, crx.signature)).toBe(false);
    // And the proof is the signer's: another key does not verify it.
    const other = createPublicKey({ key: Buffer.from(EXTENSION_KEY, 'base64'), format: 'der', type: 'spki' });
    expect(verify('sha256', message, { key: other, padding: constants.RSA_PKCS1_PADDING }, crx.signature)).toBe(false);
  });

  it('the CRX’s zip: manifest key is the signer’s SPKI, update_url the kit’s update.xml; every other file byte-identical to the build', () => {
    const manifest = expectBuildFiles(readZip(readCrx(file(names.crx)).archive), CHROME);
    expect(manifest.key).toBe(SPKI.toString('base64'));
    expect(manifest.update_url).toBe('http://127.0.0.1:8123/kit/update.xml');
    // Nothing else changed: the build's manifest with its development key replaced.
    expect(builtChrome.key).toBe(EXTENSION_KEY);
    expect(manifest).toEqual({ ...builtChrome, key: SPKI.toString('base64'), update_url: 'http://127.0.0.1:8123/kit/update.xml' });
  });

  it('the Web Store zip: manifest without key or update_url, every other file as built', () => {
    const manifest = expectBuildFiles(readZip(file(names.webStoreZip)), CHROME);
    expect('key' in manifest).toBe(false);
    expect('update_url' in manifest).toBe(false);
    const { key: _key, ...rest } = builtChrome;
    expect(manifest).toEqual(rest);
  });

  it('the XPI: the fixed gecko id and update_url at the kit’s updates.json, every other file as the Firefox build', () => {
    const manifest = expectBuildFiles(readZip(file(names.xpi)), FIREFOX) as { browser_specific_settings: { gecko: Record<string, unknown> } };
    expect(manifest.browser_specific_settings.gecko.id).toBe(GECKO_ID);
    expect(manifest.browser_specific_settings.gecko.update_url).toBe('http://127.0.0.1:8123/kit/updates.json');
    expect(manifest).toEqual({
      ...builtFirefox,
      browser_specific_settings: { ...builtFirefox.browser_specific_settings, gecko: { ...builtFirefox.browser_specific_settings.gecko, update_url: 'http://127.0.0.1:8123/kit/updates.json' } },
    });
  });

  it('updates.json: this version, the XPI’s URL, and the sha256 of the XPI file as written', () => {
    const updates = JSON.parse(file('updates.json').toString('utf8')) as { addons: Record<string, { updates: unknown[] }> };
    expect(Object.keys(updates.addons)).toEqual([GECKO_ID]);
    expect(updates.addons[GECKO_ID]!.updates).toEqual([{ version: VERSION, update_link: `${BASE}${names.xpi}`, update_hash: `sha256:${sha256(file(names.xpi))}` }]);
  });

  it('update.xml: appid is the kit’s id, codebase the CRX’s URL, version this version', () => {
    const xml = file('update.xml').toString('utf8');
    expect([...xml.matchAll(/<app appid="([^"]*)">/g)].map((m) => m[1])).toEqual([SIGNER_ID]);
    expect([...xml.matchAll(/<updatecheck codebase="([^"]*)" version="([^"]*)"/g)].map((m) => [m[1], m[2]])).toEqual([[`${BASE}countersign-${VERSION}.crx`, VERSION]]);
  });

  it('package.json: parses as PackageInfo, equals what writePackage returned, hashes the files written; readPackageInfo reads it', () => {
    const written = PackageInfo.parse(JSON.parse(file('package.json').toString('utf8')));
    expect(written).toEqual(info);
    expect(written).toEqual({
      version: VERSION,
      chromium: {
        id: SIGNER_ID,
        crx: { file: names.crx, sha256: sha256(file(names.crx)) },
        webStoreZip: { file: names.webStoreZip, sha256: sha256(file(names.webStoreZip)) },
        updateManifest: 'update.xml',
        updateUrl: `${BASE}update.xml`,
      },
      firefox: { id: GECKO_ID, xpi: { file: names.xpi, sha256: sha256(file(names.xpi)) }, updateManifest: 'updates.json', installUrl: `${BASE}${names.xpi}`, signed: false },
    });
    expect(readPackageInfo(kit)).toEqual(info);
  });

  it('packed again with the same key and builds, every artifact is byte-identical (reproducible)', async () => {
    const again = freshDir('kit-again');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: again, keyPath, baseUrl: BaseUrl.parse(BASE) });
    for (const name of [names.xpi, names.webStoreZip, names.crx, 'package.json', 'update.xml', 'updates.json']) {
      expect(readFileSync(join(again, name)).equals(file(name)), name).toBe(true);
    }
  });

  it('another mtime gives other zip bytes (the fixed time is what makes it reproducible)', async () => {
    const other = freshDir('kit-mtime');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: other, keyPath, baseUrl: BaseUrl.parse(BASE), mtime: new Date('2030-06-01T12:00:00Z') });
    expect(readFileSync(join(other, names.xpi)).equals(file(names.xpi))).toBe(false);
  });
});

describe('writePackage without a base URL', () => {
  const kit = freshDir('kit-no-url');
  let info: PackageInfo;
  beforeAll(async () => {
    info = await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: kit, keyPath, baseUrl: null });
  });

  it('writes no update.xml or updates.json', () => {
    expect(readdirSync(kit).sort()).toEqual([names.crx, names.webStoreZip, names.xpi, 'package.json'].sort());
  });

  it('neither manifest carries an update URL; the CRX’s still carries the signer’s key', () => {
    const crxManifest = expectBuildFiles(readZip(readCrx(readFileSync(join(kit, names.crx))).archive), CHROME);
    expect('update_url' in crxManifest).toBe(false);
    expect(crxManifest.key).toBe(SPKI.toString('base64'));
    const xpiManifest = expectBuildFiles(readZip(readFileSync(join(kit, names.xpi))), FIREFOX) as { browser_specific_settings: { gecko: Record<string, unknown> } };
    expect(xpiManifest.browser_specific_settings.gecko).toEqual(builtFirefox.browser_specific_settings.gecko);
    expect('update_url' in xpiManifest.browser_specific_settings.gecko).toBe(false);
  });

  it('package.json names no URLs and no update manifests', () => {
    const read = readPackageInfo(kit);
    expect(read).toEqual(info);
    expect(read.chromium).toMatchObject({ id: SIGNER_ID, updateManifest: null, updateUrl: null });
    expect(read.firefox).toMatchObject({ updateManifest: null, installUrl: null });
  });
});

describe('writePackage refusals', () => {
  it('attack: a key path that does not exist is an error, and nothing is made (no kit, no new key minted there)', async () => {
    const outDir = freshDir('no-key-out');
    const missing = join(root, 'typo-key.pem');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath: missing, baseUrl: null })).rejects.toThrow(/ENOENT|no such file/);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(outDir)).toBe(false);
  });

  it.each([
    ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, /signed with an RSA key; this key is ec/],
    ['a 1024-bit RSA key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /has 1024 bits; 2048 at least/],
  ])('attack: %s is refused before anything is written', async (_, make, message) => {
    const outDir = freshDir('weak-key-out');
    const path = join(root, `weak-${(n += 1)}.pem`);
    writeFileSync(path, make().export({ type: 'pkcs8', format: 'pem' }));
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath: path, baseUrl: null })).rejects.toThrow(message);
    expect(existsSync(outDir)).toBe(false);
  });

  it('a build directory with no manifest.json is a clear error, naming the directory and the build command', async () => {
    const empty = freshDir('empty-build');
    mkdirSync(empty);
    const outDir = freshDir('empty-out');
    await expect(writePackage({ chromiumDir: empty, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: null })).rejects.toThrow(`${empty}/manifest.json cannot be read (build the extension first: npm run build:all)`);
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: empty, outDir, keyPath, baseUrl: null })).rejects.toThrow(/manifest\.json cannot be read/);
    expect(existsSync(outDir)).toBe(false);
  });

  it('attack: Chromium and Firefox builds of different versions are refused', async () => {
    const bumped = freshDir('firefox-bumped');
    cpSync(FIREFOX, bumped, { recursive: true });
    const manifest = { ...builtFirefox, version: `${VERSION}.1` };
    writeFileSync(join(bumped, 'manifest.json'), JSON.stringify(manifest));
    const outDir = freshDir('bumped-out');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: bumped, outDir, keyPath, baseUrl: null })).rejects.toThrow(
      `the Chromium build is version ${VERSION}, the Firefox build ${VERSION}.1: build both from one checkout`,
    );
    expect(existsSync(outDir)).toBe(false);
  });

  it('attack: the Chromium build given as the Firefox build (no fixed add-on id) is refused, and no package.json is written', async () => {
    const outDir = freshDir('chrome-as-firefox-out');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: CHROME, outDir, keyPath, baseUrl: null })).rejects.toThrow(/add-on id is undefined, not countersign@countersign\.dev/);
    expect(existsSync(join(outDir, 'package.json'))).toBe(false);
  });
});

describe('writePackage replaces a kit whole, or not at all', () => {
  /** Every file of a kit, byte for byte (a kit is flat: no subfolders to miss). */
  const filesOf = (dir: string) => {
    expect(readdirSync(dir, { withFileTypes: true }).every((d) => d.isFile())).toBe(true);
    return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
  };
  /** Staging folders writePackage left beside outDir (it makes `.<name>-staging-*` there). */
  const staging = (outDir: string) => readdirSync(join(outDir, '..')).filter((f) => f.startsWith(`.${outDir.split(sep).pop()}-staging-`));
  const kitFiles = (baseUrl: boolean) => [names.crx, names.webStoreZip, names.xpi, names.info, ...(baseUrl ? [names.chromiumUpdateManifest, names.firefoxUpdateManifest] : [])].sort();

  it('attack: a pack that fails (the Chromium build given as the Firefox one) leaves the previous kit byte for byte, and no staging folder', async () => {
    const outDir = freshDir('kept-kit');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: BASE });
    const before = filesOf(outDir);
    expect(Object.keys(before)).toEqual(kitFiles(true));
    // The failing pack differs in base URL and zip time, so any file it got to write (CRX, Web Store zip,
    // update.xml) would differ from the kit's: the same inputs would rewrite the same bytes and hide it.
    const failing = { chromiumDir: CHROME, firefoxDir: CHROME, outDir, keyPath, baseUrl: BaseUrl.parse('https://updates.corp.example/other/'), mtime: new Date('2027-06-01T00:00:00Z') };
    await expect(writePackage(failing)).rejects.toThrow(/add-on id is undefined, not countersign@countersign\.dev/);
    expect(filesOf(outDir)).toEqual(before);
    expect(readPackageInfo(outDir).chromium.updateUrl).toBe(`${BASE}${names.chromiumUpdateManifest}`);
    expect(staging(outDir)).toEqual([]);
    // And without a base URL either: still nothing of the old kit lost, nothing left beside it.
    await expect(writePackage({ ...failing, baseUrl: null })).rejects.toThrow(/add-on id/);
    expect(filesOf(outDir)).toEqual(before);
    expect(staging(outDir)).toEqual([]);
  });

  it('attack: a pack that fails late (after the CRX, the Web Store zip and update.xml are made) leaves the previous kit byte for byte, and removes its staging folder', async () => {
    const outDir = freshDir('kept-kit-late');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: BASE });
    const before = filesOf(outDir);
    // A Firefox build every check passes (its id, its version) holding a file no zip may name: zipping the XPI throws.
    const firefox = freshDir('firefox-stray-file');
    cpSync(FIREFOX, firefox, { recursive: true });
    writeFileSync(join(firefox, 'C:stray.txt'), 'x');
    await expect(
      writePackage({ chromiumDir: CHROME, firefoxDir: firefox, outDir, keyPath, baseUrl: BaseUrl.parse('https://updates.corp.example/other/'), mtime: new Date('2027-06-01T00:00:00Z') }),
    ).rejects.toThrow(/absolute path: C:stray\.txt/);
    expect(filesOf(outDir)).toEqual(before);
    expect(staging(outDir)).toEqual([]);
    // Into a folder that was not there: still not there, and nothing beside it.
    const missing = freshDir('late-missing');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: firefox, outDir: missing, keyPath, baseUrl: BASE })).rejects.toThrow(/absolute path/);
    expect(existsSync(missing)).toBe(false);
    expect(staging(missing)).toEqual([]);
  });

  it('a re-pack without a base URL keeps no update manifest of the self-hosted kit before it', async () => {
    const outDir = freshDir('repacked-kit');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: BASE });
    expect(readdirSync(outDir).sort()).toEqual(kitFiles(true));
    const info = await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: null });
    expect(readdirSync(outDir).sort()).toEqual(kitFiles(false));
    expect(existsSync(join(outDir, names.chromiumUpdateManifest))).toBe(false);
    expect(existsSync(join(outDir, names.firefoxUpdateManifest))).toBe(false);
    expect(info.chromium.updateManifest).toBeNull();
    expect(info.firefox.updateManifest).toBeNull();
    expect(readPackageInfo(outDir)).toEqual(info);
    expect(staging(outDir)).toEqual([]);
  });

  it('a re-pack with a base URL over a kit with one replaces it (every file the new kit\'s)', async () => {
    const outDir = freshDir('rebased-kit');
    const fresh = freshDir('rebased-fresh');
    const other = BaseUrl.parse('https://updates.corp.example/kit/');
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: BASE });
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: other });
    await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: fresh, keyPath, baseUrl: other });
    expect(filesOf(outDir)).toEqual(filesOf(fresh));
    expect(staging(outDir)).toEqual([]);
  });

  it('attack: an out folder holding anything but a kit is refused, and what it holds is untouched', async () => {
    const outDir = freshDir('not-a-kit');
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'notes.txt'), 'mine');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: null })).rejects.toThrow(
      `${outDir} holds files that are not a kit from npm run package: refusing to replace them (choose another --out)`,
    );
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: BASE })).rejects.toThrow(/refusing to replace them/);
    expect(filesOf(outDir)).toEqual({ 'notes.txt': Buffer.from('mine').toString('base64') });
    expect(staging(outDir)).toEqual([]);
  });

  it('attack: a folder whose package.json is not a kit\'s (a checkout, the builds\' parent) is refused too', async () => {
    const outDir = freshDir('npm-project');
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'package.json'), '{"name": "mine", "version": "1.0.0"}\n');
    writeFileSync(join(outDir, 'index.js'), 'ok\n');
    const before = filesOf(outDir);
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir, keyPath, baseUrl: null })).rejects.toThrow(/refusing to replace them/);
    expect(filesOf(outDir)).toEqual(before);
    expect(staging(outDir)).toEqual([]);
    // --out .output would hold the builds themselves.
    const builds = freshDir('builds');
    cpSync(CHROME, join(builds, 'chrome-mv3'), { recursive: true });
    cpSync(FIREFOX, join(builds, 'firefox-mv3'), { recursive: true });
    await expect(writePackage({ chromiumDir: join(builds, 'chrome-mv3'), firefoxDir: join(builds, 'firefox-mv3'), outDir: builds, keyPath, baseUrl: null })).rejects.toThrow(/refusing to replace them/);
    expect(readdirSync(builds).sort()).toEqual(['chrome-mv3', 'firefox-mv3']);
    expect(readFileSync(join(builds, 'chrome-mv3', 'manifest.json'))).toEqual(readFileSync(join(CHROME, 'manifest.json')));
  });

  it('an empty existing folder and a missing one (its parent too) are fine, and get the whole kit', async () => {
    const empty = freshDir('empty-kit');
    mkdirSync(empty);
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: empty, keyPath, baseUrl: BASE })).resolves.toMatchObject({ version: VERSION });
    expect(readdirSync(empty).sort()).toEqual(kitFiles(true));
    expect(staging(empty)).toEqual([]);
    const missing = join(freshDir('missing-parent'), 'kit');
    await expect(writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: missing, keyPath, baseUrl: null })).resolves.toMatchObject({ version: VERSION });
    expect(readdirSync(missing).sort()).toEqual(kitFiles(false));
    expect(staging(missing)).toEqual([]);
  });
});

describe('readPackageInfo', () => {
  it('a directory without package.json: a clear error naming it', () => {
    const dir = freshDir('no-info');
    mkdirSync(dir);
    expect(() => readPackageInfo(dir)).toThrow(`${dir} is not a package made by npm run package`);
  });

  it('a package.json that is not JSON: the same clear error', () => {
    const dir = freshDir('bad-json');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"version": ');
    expect(() => readPackageInfo(dir)).toThrow(`${dir} is not a package made by npm run package`);
  });

  it('attack: a tampered package.json (another id, a claimed signature) is refused, naming each field', async () => {
    const kit = freshDir('tampered');
    const info = await writePackage({ chromiumDir: CHROME, firefoxDir: FIREFOX, outDir: kit, keyPath, baseUrl: null });
    writeFileSync(join(kit, 'package.json'), JSON.stringify({ ...info, chromium: { ...info.chromium, id: 'not-an-id' }, firefox: { ...info.firefox, signed: true } }));
    expect(() => readPackageInfo(kit)).toThrow(`${kit}/package.json is not a package description`);
    expect(() => readPackageInfo(kit)).toThrow(/chromium\.id: a Chromium extension id is 32 letters a–p/);
    expect(() => readPackageInfo(kit)).toThrow(/firefox\.signed: /);
    // npm's own package.json (a checkout's root) is not a kit either.
    expect(() => readPackageInfo(resolve('.'))).toThrow(/package\.json is not a package description/);
  });
});

describe('the signing key file', () => {
  it('signingKeyPath: the flag wins over the environment, the environment over the default; each resolved', () => {
    const env = { COUNTERSIGN_CRX_KEY: 'env/key.pem' };
    expect(signingKeyPath('flag/key.pem', env)).toEqual({ path: resolve('flag/key.pem'), chosen: 'flag' });
    expect(signingKeyPath(undefined, env)).toEqual({ path: resolve('env/key.pem'), chosen: 'env' });
    expect(signingKeyPath(undefined, {})).toEqual({ path: resolve(DEFAULT_KEY_PATH), chosen: 'default' });
    expect(resolve(DEFAULT_KEY_PATH)).toBe(join(process.cwd(), '.keys', 'countersign-crx.pem'));
  });

  // An empty value (`--key "$UNSET"`) must never fall through to the environment or the default, where a new key (a new extension id) would be made.
  it.each(['', ' ', '  \t\n'])('attack: an empty or blank --key %j is refused, with or without the environment set', (empty) => {
    expect(() => signingKeyPath(empty, { COUNTERSIGN_CRX_KEY: 'env/key.pem' })).toThrow("--key is empty: name the fleet's signing key file");
    expect(() => signingKeyPath(empty, {})).toThrow(/--key is empty/);
    expect(() => signingKeyPath(empty, { COUNTERSIGN_CRX_KEY: '' })).toThrow(/--key is empty/);
  });

  it.each(['', ' ', '  \t\n'])('attack: an empty or blank COUNTERSIGN_CRX_KEY %j is refused, not taken as unset', (empty) => {
    expect(() => signingKeyPath(undefined, { COUNTERSIGN_CRX_KEY: empty })).toThrow("COUNTERSIGN_CRX_KEY is set but empty: name the fleet's signing key file, or unset it");
  });

  it('a given --key still wins over an empty COUNTERSIGN_CRX_KEY', () => {
    expect(signingKeyPath('flag/key.pem', { COUNTERSIGN_CRX_KEY: '' })).toEqual({ path: resolve('flag/key.pem'), chosen: 'flag' });
  });

  it('ensureSigningKey makes a PKCS#8 RSA key, mode 0600, in a new 0700 directory when allowed to', () => {
    const dir = join(freshDir('keys'), '.keys');
    const path = join(dir, 'countersign-crx.pem');
    expect(ensureSigningKey(path, true)).toEqual({ created: true });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const pem = readFileSync(path, 'utf8');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails!.modulusLength).toBeGreaterThanOrEqual(2048);
    expect(signerIdentity(key).id).toMatch(/^[a-p]{32}$/);
  });

  it('attack: ensureSigningKey refuses a missing key it may not create (a --key typo), and makes nothing', () => {
    const dir = join(freshDir('no-create'), 'sub');
    const path = join(dir, 'key.pem');
    expect(() => ensureSigningKey(path, false)).toThrow(`no signing key at ${path}`);
    expect(existsSync(dir)).toBe(false);
  });

  it('attack: ensureSigningKey never overwrites an existing file', () => {
    const path = join(root, 'existing.pem');
    writeFileSync(path, 'the fleet key\n', { mode: 0o644 });
    expect(ensureSigningKey(path, true)).toEqual({ created: false });
    expect(ensureSigningKey(path, false)).toEqual({ created: false });
    expect(readFileSync(path, 'utf8')).toBe('the fleet key\n');
  });
});
