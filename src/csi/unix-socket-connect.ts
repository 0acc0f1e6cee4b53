// Connecting to a unix socket by a path of any length. sockaddr_un holds at
// most 107 bytes of path; a longer one cannot be passed to connect(), and
// libuv used to cut it short silently, which reached whatever socket sat at
// the shortened path. A socket whose path is too long is reached instead
// through a descriptor of its directory: /proc/self/fd/<n>/<name> is short and
// names exactly that file (Linux resolves the descriptor, not a path).

import { close, constants, openSync } from 'node:fs';
import { connect, type OnReadOpts, Socket } from 'node:net';
import { basename, dirname } from 'node:path';

/**
 * Linux's O_PATH (open(2); fs.constants lacks it): a descriptor that only locates the directory, which
 * needs the search permission on it as connect() by path does, where O_RDONLY also needs read permission
 * and would refuse a sidecar a socket in a directory it may search but not list (mode 0711). Elsewhere
 * /proc/self/fd does not exist either, and O_RDONLY is kept.
 */
const O_PATH_LINUX = 0o10000000;
const DIRECTORY_DESCRIPTOR_FLAGS = (process.platform === 'linux' ? O_PATH_LINUX : constants.O_RDONLY) | constants.O_DIRECTORY;

/** The longest socket path connect() takes: sockaddr_un.sun_path is 108 bytes with its NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** "/proc/self/fd/" and a descriptor number of up to 7 digits, and "/". */
const DIRECTORY_DESCRIPTOR_PREFIX_BYTES = '/proc/self/fd/'.length + 7 + 1;
/** The longest file name a socket reached through its directory's descriptor may have. */
const MAX_SOCKET_NAME_BYTES = MAX_SOCKET_PATH_BYTES - DIRECTORY_DESCRIPTOR_PREFIX_BYTES;

/** What is wrong with a socket path no connect can reach, or undefined when it can be reached. */
export function unreachableSocketPathReason(socketPath: string): string | undefined {
  const nameBytes = Buffer.byteLength(basename(socketPath));
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES || nameBytes <= MAX_SOCKET_NAME_BYTES) return undefined;
  return `the socket's file name is ${nameBytes} bytes; a unix socket path longer than ${MAX_SOCKET_PATH_BYTES} bytes can only be reached when its file name has at most ${MAX_SOCKET_NAME_BYTES}`;
}

/**
 * Connects to exactly `socketPath`, whatever its length; failures arrive as
 * the socket's 'error' (syscall "connect"). `onread` as net.connect takes it.
 */
export function connectUnixSocket(socketPath: string, onread?: OnReadOpts): Socket {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES) return connect({ path: socketPath, onread });
  let directoryFd: number;
  try {
    directoryFd = openSync(dirname(socketPath), DIRECTORY_DESCRIPTOR_FLAGS);
  } catch (err) {
    // Reported as connect() would report the socket missing, so the check's text is the same.
    const failure = Object.assign(new Error(`connect ${(err as NodeJS.ErrnoException).code} ${socketPath}`), {
      code: (err as NodeJS.ErrnoException).code,
      syscall: 'connect',
      cause: err,
    });
    const socket = new Socket();
    process.nextTick(() => socket.destroy(failure));
    return socket;
  }
  const socket = connect({ path: `/proc/self/fd/${directoryFd}/${basename(socketPath)}`, onread });
  // The descriptor is needed only until connect() has resolved the path.
  let directoryClosed = false;
  const closeDirectory = () => {
    if (directoryClosed) return;
    directoryClosed = true;
    close(directoryFd, () => undefined);
  };
  socket.once('connect', closeDirectory);
  socket.once('close', closeDirectory);
  return socket;
}
