// Tells whether the driver's socket file is still the one we connected to.
//
// A connection to a unix socket outlives the file: a driver whose socket was
// deleted (or replaced by a new driver instance) still answers on the old
// connection. Upstream asks that a removed socket fail the very next check
// (https://github.com/kubernetes-csi/livenessprobe/issues/68), so every check
// compares the file's identity (inode and change time) with the one it saw last.

import { type Stats, statSync } from 'node:fs';

export type SocketFileState =
  | { readonly kind: 'present' }
  | { readonly kind: 'replaced' }
  | { readonly kind: 'missing'; readonly errno: string }
  | { readonly kind: 'not-a-socket' };

export class SocketFile {
  /**
   * Identity of the file seen by the last check: inode and change time
   * (invariant: knownIno is undefined until the file has been seen). The inode
   * alone is not enough: Linux hands a just-freed inode number to the next
   * file, so a driver that removes its socket and listens again often gets the
   * same one (seen with the grpc-go test driver, which restarts in milliseconds).
   */
  private knownIno: number | undefined;
  private knownCtimeMs = 0;
  /** Identity of the last file seen present; unlike knownIno, kept while the file is missing. */
  private lastSeenIno = -1;
  private lastSeenCtimeMs = -1;
  /**
   * How many different files have been seen at the path: a driver binds a
   * new socket file each time it starts, so a new number is a new driver
   * process (0 until a file has been seen).
   */
  generation = 0;

  constructor(readonly socketPath: string) {}

  /** Stats the file (one cheap syscall) and reports how it changed since the last call. */
  check(): SocketFileState {
    let stats: Stats | undefined;
    try {
      stats = statSync(this.socketPath, { throwIfNoEntry: false });
    } catch (err) {
      return { kind: 'missing', errno: (err as NodeJS.ErrnoException).code ?? 'EIO' };
    }
    if (stats === undefined) {
      this.knownIno = undefined;
      return { kind: 'missing', errno: 'ENOENT' };
    }
    if (!stats.isSocket()) return { kind: 'not-a-socket' };
    const replaced = this.knownIno !== undefined && (this.knownIno !== stats.ino || this.knownCtimeMs !== stats.ctimeMs);
    if (stats.ino !== this.lastSeenIno || stats.ctimeMs !== this.lastSeenCtimeMs) {
      this.lastSeenIno = stats.ino;
      this.lastSeenCtimeMs = stats.ctimeMs;
      this.generation++;
    }
    this.knownIno = stats.ino;
    this.knownCtimeMs = stats.ctimeMs;
    return replaced ? { kind: 'replaced' } : { kind: 'present' };
  }
}
