// Types for crx3 (https://github.com/ahwayakchih/crx3), which ships none: the subset write-package.ts uses.
declare module 'crx3' {
  import type { Readable } from 'node:stream';

  interface Crx3Options {
    /** PEM of the RSA signing key; crx3 creates one there if the file is missing (write-package.ts never lets it). */
    keyPath: string;
    crxPath: string;
    zipPath?: string;
    xmlPath?: string;
    crxURL?: string;
  }
  /** Signs a zip stream (or a list of files) as a CRX3; resolves with the id it signed for. */
  export default function crx3(files: Readable | string[], options: Crx3Options): Promise<{ appId: string } & Record<string, unknown>>;
}
