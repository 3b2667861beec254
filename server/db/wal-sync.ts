// Makes a SQLite write-ahead log durable off the event loop: fsync of the `-wal` file on libuv's
// thread pool, through a descriptor kept open and reopened if the file was replaced. Node only.
import { closeSync, fstatSync, fsync, openSync, statSync } from 'node:fs';

export interface WalSync {
  /** Resolves once everything written to the WAL before the call is on stable storage. */
  sync(): Promise<void>;
  close(): void;
}

export function walSync(walPath: string): WalSync {
  let fd: number | undefined;
  let inode: number | undefined;
  // Descriptors of a WAL file that was replaced stay open until close(): an fsync queued on one may
  // still be pending, and closing it could hand its number to another file.
  const retired: number[] = [];

  /** The descriptor of the WAL file now at walPath; throws (ENOENT…) when there is none. */
  const current = (): number => {
    const onDisk = statSync(walPath).ino;
    if (fd !== undefined && inode === onDisk) return fd;
    if (fd !== undefined) retired.push(fd);
    fd = undefined;
    // Linux syncs a file through any descriptor of it, read-only included: this one never writes.
    const opened = openSync(walPath, 'r');
    fd = opened;
    inode = fstatSync(opened).ino;
    return opened;
  };

  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        let descriptor: number;
        try {
          descriptor = current();
        } catch (error) {
          reject(error);
          return;
        }
        fsync(descriptor, (error) => (error ? reject(error) : resolve()));
      }),
    close: () => {
      for (const old of retired.splice(0)) closeSync(old);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
