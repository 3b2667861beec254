// The deployment kit's pure parts: Chromium id of a key, signer checks, BaseUrl/ExtensionVersion, packaged manifests, update manifests read back by a real XML parser.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, EXTENSION_KEY, GECKO_ID } from '../../../lib/extension-identity';
import {
  artifactNames,
  BaseUrl,
  chromiumIdOf,
  chromiumManifest,
  chromiumUpdateManifest,
  ExtensionVersion,
  firefoxManifest,
  firefoxUpdateManifest,
  PackageInfo,
  signerIdentity,
  webStoreManifest,
} from '../../../server/admin/extension-package';

// ---- A strict XML reader (sax, strict mode, namespaces on): independent of the writer's escaping.
interface SaxTag {
  name: string;
  uri: string;
  attributes: Record<string, { value: string }>;
}
interface SaxParser {
  onerror: (error: Error) => void;
  onopentag: (tag: SaxTag) => void;
  onclosetag: (name: string) => void;
  write(s: string): SaxParser;
  close(): SaxParser;
}
const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean, options: { xmlns: boolean }): SaxParser };

interface XmlElement {
  path: string;
  uri: string;
  attributes: Record<string, string>;
}

/** Every element of the document, in order, with its path from the root and its attributes as decoded. */
function readXml(text: string): XmlElement[] {
  const parser = sax.parser(true, { xmlns: true });
  const stack: string[] = [];
  const elements: XmlElement[] = [];
  parser.onerror = (error) => {
    throw error;
  };
  parser.onopentag = (tag) => {
    stack.push(tag.name);
    elements.push({ path: stack.join('/'), uri: tag.uri, attributes: Object.fromEntries(Object.entries(tag.attributes).map(([k, v]) => [k, v.value])) });
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  parser.write(text).close();
  return elements;
}

/** The Chromium id computed another way: SHA-256 bytes, each nibble high then low, 0 → a … 15 → p. */
function independentId(spki: Buffer): string {
  const digest = createHash('sha256').update(spki).digest().subarray(0, 16);
  let id = '';
  for (const byte of digest) id += 'abcdefghijklmnop'[byte >> 4]! + 'abcdefghijklmnop'[byte & 15]!;
  return id;
}

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ID = 'abcdefghijklmnopabcdefghijklmnop';

describe('the Chromium id of a signing key', () => {
  it('the development key gives the development id (lib/extension-identity.ts agrees with itself)', () => {
    expect(chromiumIdOf(Buffer.from(EXTENSION_KEY, 'base64'))).toBe(EXTENSION_ID);
  });

  it('a generated RSA 2048 key: the manifest key is its SPKI DER in base64, and the id matches an independent computation', () => {
    const spki = rsa2048.publicKey.export({ type: 'spki', format: 'der' });
    const signer = signerIdentity(rsa2048.privateKey);
    expect(signer.key).toBe(spki.toString('base64'));
    expect(signer.id).toBe(independentId(spki));
    expect(signer.id).toMatch(/^[a-p]{32}$/);
    expect(signer.id).not.toBe(EXTENSION_ID);
  });

  it('one changed byte of the key gives another id', () => {
    const spki = Buffer.from(EXTENSION_KEY, 'base64');
    spki[spki.length - 1] = spki[spki.length - 1]! ^ 1;
    expect(chromiumIdOf(spki)).not.toBe(EXTENSION_ID);
    expect(chromiumIdOf(spki)).toBe(independentId(spki));
  });

  it('attack: an EC key is refused (a CRX proof Chromium checks for a developer key is RSA)', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signerIdentity(ec.privateKey)).toThrow(/signed with an RSA key; this key is ec/);
    const ed = generateKeyPairSync('ed25519');
    expect(() => signerIdentity(ed.privateKey)).toThrow(/RSA key; this key is ed25519/);
  });

  it('attack: an RSA-PSS key is refused (its SPKI is not rsaEncryption)', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 1024 });
    expect(() => signerIdentity(pss.privateKey)).toThrow(/this key is rsa-pss/);
  });

  it('attack: an RSA key under 2048 bits is refused, naming its size', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => signerIdentity(weak.privateKey)).toThrow('the signing key has 1024 bits; 2048 at least');
  });
});

describe('BaseUrl: where the kit is served from', () => {
  const parse = (value: string) => BaseUrl.safeParse(value);

  it('takes https and always ends with a slash, so file names append under it', () => {
    expect(BaseUrl.parse('https://updates.corp.example/kit/')).toBe('https://updates.corp.example/kit/');
    expect(BaseUrl.parse('https://updates.corp.example/kit')).toBe('https://updates.corp.example/kit/');
    expect(BaseUrl.parse('https://updates.corp.example')).toBe('https://updates.corp.example/');
    // Without the slash, "update.xml" would replace "kit" instead of going under it.
    expect(new URL('update.xml', BaseUrl.parse('https://updates.corp.example/kit')).href).toBe('https://updates.corp.example/kit/update.xml');
  });

  it('takes http on loopback only', () => {
    expect(BaseUrl.parse('http://127.0.0.1:8123/kit/')).toBe('http://127.0.0.1:8123/kit/');
    expect(BaseUrl.parse('http://localhost/kit')).toBe('http://localhost/kit/');
    expect(BaseUrl.parse('http://[::1]:8080')).toBe('http://[::1]:8080/');
  });

  it('attack: plain http to any other host is refused, including hosts that start with a loopback name', () => {
    for (const url of ['http://updates.corp.example/kit/', 'http://127.0.0.1.nip.io/kit/', 'http://localhost.evil.example/']) {
      const r = parse(url);
      expect(r.success, url).toBe(false);
      expect(r.error!.issues.map((i) => i.message), url).toContain('the base URL must be https (http only on loopback)');
    }
  });

  it('attack: credentials, a query or a fragment are refused', () => {
    const messages = (url: string) => {
      const r = parse(url);
      expect(r.success, url).toBe(false);
      return r.error!.issues.map((i) => i.message).join('; ');
    };
    expect(messages('https://admin:hunter2@updates.corp.example/kit/')).toMatch(/must not carry credentials/);
    expect(messages('https://admin@updates.corp.example/kit/')).toMatch(/must not carry credentials/);
    expect(messages('https://updates.corp.example/kit/?token=1')).toMatch(/must not have a \?query or #fragment/);
    expect(messages('https://updates.corp.example/kit/#x')).toMatch(/must not have a \?query or #fragment/);
  });

  // The URL parser reads an empty query or fragment as none (search and hash are ''), so only the text shows it.
  it.each(['https://x.example/?', 'https://x.example/#', 'https://x.example/?#', 'https://updates.corp.example/kit/?', 'https://updates.corp.example/kit#'])(
    'attack: an empty query or fragment is refused too: %s',
    (url) => {
      expect(new URL(url).search + new URL(url).hash).toBe('');
      const r = parse(url);
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => i.message)).toEqual(['the base URL must not have a ?query or #fragment: file names are appended to it']);
    },
  );

  it('attack: other schemes and non-URLs are refused', () => {
    for (const url of ['ftp://updates.corp.example/kit/', 'file:///etc/kit/', 'javascript:alert(1)', 'updates.corp.example/kit', '']) {
      expect(parse(url).success, url).toBe(false);
    }
  });
});

describe('ExtensionVersion', () => {
  it.each(['1', '0.1.0', '1.2.3.4', '10.0.0.999', '65535', '0.0.0.65535', '65535.65535.65535.65535'])('accepts %s', (v) => {
    expect(ExtensionVersion.safeParse(v).success).toBe(true);
  });

  // Chrome takes each part 0–65535 only: a larger one would pack a kit no Chromium installs.
  it.each(['65536', '99999', '1.65536', '1.2.3.70000', '100000', '999999999', '4294967296'])('attack: refuses %j (a part over 65535)', (v) => {
    expect(ExtensionVersion.safeParse(v).success).toBe(false);
  });

  it('names the limit when a part is too large', () => {
    expect(ExtensionVersion.safeParse('1.2.3.70000').error!.issues.map((i) => i.message)).toEqual(['each part of a version is at most 65535']);
  });

  it.each(['01', '1.02', '1.2.3.4.5', '', '1.', '.1', '1..2', 'v1', '1.2a', ' 1', '1.2.3-beta'])('refuses %j', (v) => {
    expect(ExtensionVersion.safeParse(v).success).toBe(false);
  });
});

describe('the manifests as packaged', () => {
  const built = { manifest_version: 3, name: 'Countersign', version: '1.2.3', key: EXTENSION_KEY, update_url: 'https://old.example/update.xml', permissions: ['storage'] };

  it('chromium: the build’s key and update URL are replaced by the signer’s key and the kit’s update URL; the build is not changed', () => {
    const copy = structuredClone(built);
    const m = chromiumManifest(built, { key: 'SIGNER' }, 'https://updates.corp.example/kit/update.xml');
    expect(m).toEqual({ manifest_version: 3, name: 'Countersign', version: '1.2.3', permissions: ['storage'], key: 'SIGNER', update_url: 'https://updates.corp.example/kit/update.xml' });
    expect(built).toEqual(copy);
  });

  it('chromium without an update URL: the build’s old update_url is dropped, not kept', () => {
    const m = chromiumManifest(built, { key: 'SIGNER' }, null);
    expect(m.key).toBe('SIGNER');
    expect('update_url' in m).toBe(false);
  });

  it('web store: neither key nor update_url (the store refuses both), everything else kept', () => {
    expect(webStoreManifest(built)).toEqual({ manifest_version: 3, name: 'Countersign', version: '1.2.3', permissions: ['storage'] });
  });

  const firefoxBuilt = {
    manifest_version: 3,
    version: '1.2.3',
    browser_specific_settings: { gecko: { id: GECKO_ID, strict_min_version: '142.0', update_url: 'https://old.example/updates.json' }, gecko_android: {} },
  };

  it('firefox: the fixed add-on id and other gecko settings kept, the update URL set to the kit’s', () => {
    const m = firefoxManifest(firefoxBuilt, 'https://updates.corp.example/kit/updates.json');
    expect(m).toEqual({
      manifest_version: 3,
      version: '1.2.3',
      browser_specific_settings: { gecko: { id: GECKO_ID, strict_min_version: '142.0', update_url: 'https://updates.corp.example/kit/updates.json' }, gecko_android: {} },
    });
    expect(firefoxBuilt.browser_specific_settings.gecko.update_url).toBe('https://old.example/updates.json');
  });

  it('firefox without an update URL: the build’s old update_url is dropped', () => {
    const m = firefoxManifest(firefoxBuilt, null) as { browser_specific_settings: { gecko: Record<string, unknown> } };
    expect(m.browser_specific_settings.gecko).toEqual({ id: GECKO_ID, strict_min_version: '142.0' });
  });

  it('attack: a Firefox build with another add-on id, or none (a Chromium build), is refused', () => {
    expect(() => firefoxManifest({ ...firefoxBuilt, browser_specific_settings: { gecko: { id: 'evil@example.com' } } }, null)).toThrow(/add-on id is "evil@example.com", not countersign@countersign.dev/);
    expect(() => firefoxManifest({ manifest_version: 3, version: '1.2.3', key: EXTENSION_KEY }, null)).toThrow(/add-on id is undefined/);
  });
});

describe('chromiumUpdateManifest (gupdate XML)', () => {
  it('reads back as one app of the given id with one updatecheck at the codebase and version', () => {
    const text = chromiumUpdateManifest({ id: ID, version: '1.2.3', codebase: 'https://updates.corp.example/kit/countersign-1.2.3.crx' });
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(readXml(text)).toEqual([
      { path: 'gupdate', uri: 'http://www.google.com/update2/response', attributes: { xmlns: 'http://www.google.com/update2/response', protocol: '2.0' } },
      { path: 'gupdate/app', uri: 'http://www.google.com/update2/response', attributes: { appid: ID } },
      { path: 'gupdate/app/updatecheck', uri: 'http://www.google.com/update2/response', attributes: { codebase: 'https://updates.corp.example/kit/countersign-1.2.3.crx', version: '1.2.3' } },
    ]);
  });

  it('a minimum Chrome version becomes prodversionmin', () => {
    const els = readXml(chromiumUpdateManifest({ id: ID, version: '1', codebase: 'https://x.example/a.crx', minimumChromeVersion: '120.0' }));
    expect(els[2]!.attributes).toEqual({ codebase: 'https://x.example/a.crx', version: '1', prodversionmin: '120.0' });
  });

  it('attack: a codebase that closes its attribute and opens a second app stays inside the attribute', () => {
    const sneaky = 'https://x/a"><app appid="evil';
    const text = chromiumUpdateManifest({ id: ID, version: '1', codebase: sneaky });
    const els = readXml(text);
    expect(els.map((e) => e.path)).toEqual(['gupdate', 'gupdate/app', 'gupdate/app/updatecheck']);
    expect(els[1]!.attributes.appid).toBe(ID);
    expect(els[2]!.attributes.codebase).toBe(sneaky);
    expect(text).toContain('codebase="https://x/a&quot;&gt;&lt;app appid=&quot;evil"');
  });

  it('attack: & < > in any attribute are escaped, so the XML stays well-formed and reads back exactly', () => {
    const codebase = 'https://x.example/a.crx?x=1&y=<2>&amp;';
    const text = chromiumUpdateManifest({ id: ID, version: '1', codebase, minimumChromeVersion: '1"&<>' });
    const els = readXml(text);
    expect(els[2]!.attributes).toEqual({ codebase, version: '1', prodversionmin: '1"&<>' });
    expect(text).toContain('codebase="https://x.example/a.crx?x=1&amp;y=&lt;2&gt;&amp;amp;"');
  });
});

describe('firefoxUpdateManifest (updates.json)', () => {
  const sha = 'ab'.repeat(32);

  it('one update for the fixed add-on id: version, link, and the hash with its sha256: prefix', () => {
    const text = firefoxUpdateManifest({ version: '1.2.3', link: 'https://updates.corp.example/kit/countersign-1.2.3.xpi', sha256: sha });
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      addons: { [GECKO_ID]: { updates: [{ version: '1.2.3', update_link: 'https://updates.corp.example/kit/countersign-1.2.3.xpi', update_hash: `sha256:${sha}` }] } },
    });
  });

  it('a minimum Firefox version is written as applications.gecko.strict_min_version', () => {
    const parsed = JSON.parse(firefoxUpdateManifest({ version: '1', link: 'https://x.example/a.xpi', sha256: sha, minimumFirefoxVersion: '142.0' })) as {
      addons: Record<string, { updates: Array<Record<string, unknown>> }>;
    };
    expect(parsed.addons[GECKO_ID]!.updates[0]!.applications).toEqual({ gecko: { strict_min_version: '142.0' } });
  });
});

describe('the kit’s description', () => {
  const names = artifactNames('1.2.3');
  const artifact = (file: string) => ({ file, sha256: 'c'.repeat(64) });
  const info = {
    version: '1.2.3',
    chromium: { id: ID, crx: artifact(names.crx), webStoreZip: artifact(names.webStoreZip), updateManifest: 'update.xml', updateUrl: 'https://x.example/kit/update.xml' },
    firefox: { id: GECKO_ID, xpi: artifact(names.xpi), updateManifest: null, installUrl: null, signed: false },
  };

  it('artifact names carry the version', () => {
    expect(names).toEqual({
      crx: 'countersign-1.2.3.crx',
      webStoreZip: 'countersign-1.2.3-chrome-webstore.zip',
      xpi: 'countersign-1.2.3.xpi',
      chromiumUpdateManifest: 'update.xml',
      firefoxUpdateManifest: 'updates.json',
      info: 'package.json',
    });
  });

  it('PackageInfo takes a well-formed description', () => {
    expect(PackageInfo.parse(info)).toEqual(info);
  });

  it('attack: PackageInfo refuses a bad id, a claimed signature, another add-on id, a bad hash and unknown keys', () => {
    expect(PackageInfo.safeParse({ ...info, chromium: { ...info.chromium, id: 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' } }).success).toBe(false);
    expect(PackageInfo.safeParse({ ...info, firefox: { ...info.firefox, signed: true } }).success).toBe(false);
    expect(PackageInfo.safeParse({ ...info, firefox: { ...info.firefox, id: 'evil@example.com' } }).success).toBe(false);
    expect(PackageInfo.safeParse({ ...info, chromium: { ...info.chromium, crx: { file: names.crx, sha256: 'C'.repeat(64) } } }).success).toBe(false);
    expect(PackageInfo.safeParse({ ...info, extra: 1 }).success).toBe(false);
    expect(PackageInfo.safeParse({ ...info, version: '01' }).success).toBe(false);
  });
});
