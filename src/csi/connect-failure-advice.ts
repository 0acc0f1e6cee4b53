// What a failed connection to the driver means and what to do about it, for
// the warning start-up repeats while the driver cannot be reached.
//
// Upstream's warning names only the address, so an operator whose sidecar is
// refused the socket (a non-root sidecar and a root-owned 0755 socket: a
// unix-socket connect() needs write permission on the file) sees a restart
// loop and no cause. Here the system error is turned into its meaning, and for
// a permission problem the file's owner and mode are read and set against the
// sidecar's own user and groups, since that is what decides the fix.

import { accessSync, constants, existsSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import type { CsiAddress } from './address';

/** Supplementary groups named in the advice; a process rarely has more, and the line stays short. */
const MAX_GROUPS_NAMED = 16;

/**
 * One sentence or two on what `systemCode` (a connect, stat or getaddrinfo
 * error code such as "EACCES") means for `address`, and what to do. For
 * EACCES on a unix socket it reads the socket's and its directories' owners
 * and modes (a few stat and access calls; none throw out of here). Returns ''
 * for an undefined code, and the system's own text for codes it has no advice for.
 */
export function adviseOnConnectFailure(address: CsiAddress, systemCode: string | undefined): string {
  if (systemCode === undefined) return '';
  const socketPath = address.socketPath;
  if (socketPath !== undefined) {
    switch (systemCode) {
      case 'EACCES':
      case 'EPERM':
        return advisePermissionDenied(socketPath);
      case 'ENOENT':
        return adviseMissingSocket(socketPath);
      case 'ECONNREFUSED':
        return 'the socket file exists but no process accepts connections on it: the CSI driver exited or has not begun listening yet (a stale socket left by a driver that stopped); look at the driver container\'s state and log';
      case 'ENOTSOCK':
        return `${socketPath} exists but is not a unix socket: --csi-address names another file than the one the driver listens on`;
      case 'ENOTDIR':
        return `a parent of ${socketPath} is not a directory: --csi-address or the volume mount point is wrong`;
    }
  } else {
    const target = address.tcp ? `${address.tcp.host}:${address.tcp.port}` : address.display;
    switch (systemCode) {
      case 'ECONNREFUSED':
        return `nothing accepts connections at ${target}: the CSI driver is not running, or listens on another address or port`;
      case 'ETIMEDOUT':
        return `connecting to ${target} timed out: the host does not answer (down, or a firewall drops the packets)`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `no route to ${target}: the host is down or on a network this one cannot reach; check the address and the network`;
      case 'ENOTFOUND':
        return `the host name in ${address.display} does not resolve: check the name in --csi-address`;
      case 'EAI_AGAIN':
        return `the name lookup for ${address.display} failed for now (the DNS server did not answer); it is retried`;
    }
  }
  if (systemCode === 'ECONNRESET') return 'the connection was reset as it opened: the driver may be restarting, or is not a gRPC server';
  return systemErrorText(systemCode);
}

/** libuv's text for an error code ("EMFILE" -> "EMFILE: too many open files"), or the code alone. */
function systemErrorText(systemCode: string): string {
  for (const [name, text] of getSystemErrorMap().values()) {
    if (name === systemCode) return `${systemCode}: ${text}`;
  }
  return systemCode;
}

function adviseMissingSocket(socketPath: string): string {
  const linkTarget = finalLinkTarget(socketPath);
  if (linkTarget !== undefined) {
    return `${socketPath} is a symbolic link to ${linkTarget}, which does not exist: the CSI driver has not created its socket there (yet), or the link names another file than the one the driver listens on`;
  }
  const directory = dirname(socketPath);
  if (!existsSync(directory)) {
    return `the socket's directory ${directory} does not exist: the volume shared with the CSI driver is not mounted there in this container; check the volume mount and --csi-address`;
  }
  return 'the socket does not exist (yet): the CSI driver has not created it (still starting, or exited before listening), or the driver listens elsewhere: --csi-address and both containers\' volume mounts must name the same file';
}

function advisePermissionDenied(socketPath: string): string {
  const sidecar = describeSidecarIdentity();
  const linkTarget = finalLinkTarget(socketPath);
  const directory = firstUnsearchableDirectory(socketPath) ?? (linkTarget === undefined ? undefined : firstUnsearchableDirectory(linkTarget));
  if (directory !== undefined) {
    const via = linkTarget === undefined ? '' : ` (${socketPath} is a symbolic link to ${linkTarget})`;
    return (
      `permission denied${via}: the directory ${directory.path} (owner ${describeOwnerAndMode(directory.stats)}) does not let the sidecar (${sidecar}) search it (x permission), so the socket in it cannot be reached; ` +
      "give one of the sidecar's groups x on it, or run the sidecar as the directory's owner"
    );
  }
  let socketStats: Stats;
  try {
    socketStats = statSync(socketPath);
  } catch (err) {
    return `permission denied, and the socket could not be examined (${(err as NodeJS.ErrnoException).code ?? String(err)}); the sidecar runs as ${sidecar}`;
  }
  const facts = `permission denied: the socket is owned by ${describeOwnerAndMode(socketStats)}; the sidecar runs as ${sidecar}`;
  if (!isAccessible(socketPath, constants.W_OK) && process.getuid?.() === 0) {
    // Root is refused only without CAP_DAC_OVERRIDE (a securityContext that drops all capabilities): "run as
    // root" is then no fix, the socket's owner or the capability is.
    return (
      `${facts}, without the capability CAP_DAC_OVERRIDE (the container's capabilities are dropped), so the socket's mode binds root too, and connect() needs write permission on the socket. ` +
      `Run the sidecar as the socket's owner (runAsUser: ${socketStats.uid}), or add CAP_DAC_OVERRIDE to this container's capabilities, ` +
      'or have the driver make the socket group-writable (0660) for a group the sidecar has (the pod\'s supplementalGroups or runAsGroup)'
    );
  }
  if (!isAccessible(socketPath, constants.W_OK)) {
    return (
      `${facts}, and connect() needs write permission on the socket. ` +
      "Run the sidecar as the socket's owner (e.g. as root, as upstream's image does: drop runAsUser/runAsNonRoot from this container's securityContext), " +
      'or have the driver make the socket group-writable (0660) for a group the sidecar has (the pod\'s supplementalGroups or runAsGroup)'
    );
  }
  return `${facts}, whose mode allows it to write, so a security module (SELinux, AppArmor) or a seccomp profile refused connect(); look at the node's audit log`;
}

/** Symbolic links followed at most, as Linux's path walk follows at most 40 (path_resolution(7)). */
const MAX_LINKS_FOLLOWED = 40;

/**
 * Where `socketPath` leads when it is a symbolic link (or a chain of them), as an absolute path;
 * undefined when it is none. Only the last component is followed: readlink needs the search permission
 * on the link's own directory only, so the target is found even when its directory may not be searched
 * (the case worth naming). Stops at the first link that cannot be read.
 */
function finalLinkTarget(socketPath: string): string | undefined {
  let current = socketPath;
  for (let hop = 0; hop < MAX_LINKS_FOLLOWED; hop++) {
    let target: string;
    try {
      target = readlinkSync(current);
    } catch {
      break; // not a link (EINVAL), or gone
    }
    current = resolve(dirname(current), target);
  }
  return current === socketPath ? undefined : current;
}

/** "0:0, mode 0755": owner uid:gid and the permission bits in octal. */
function describeOwnerAndMode(stats: Stats): string {
  return `${stats.uid}:${stats.gid}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** "uid 65532, gid 65532, no supplementary groups" or "..., supplementary groups 10,1000" */
function describeSidecarIdentity(): string {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const groups = (process.getgroups?.() ?? []).filter((group) => group !== gid);
  const named = groups.slice(0, MAX_GROUPS_NAMED).join(',') + (groups.length > MAX_GROUPS_NAMED ? `,... (${groups.length} in all)` : '');
  return `uid ${uid}, gid ${gid}, ${groups.length === 0 ? 'no supplementary groups' : `supplementary groups ${named}`}`;
}

/**
 * The first directory on the way to `socketPath`, from the root down, that
 * the sidecar may not search (access(2) X_OK fails with EACCES), with its
 * stats; undefined when every one may be searched or the walk stops at a
 * missing one.
 */
function firstUnsearchableDirectory(socketPath: string): { readonly path: string; readonly stats: Stats } | undefined {
  const parts = dirname(socketPath).split('/').filter((part) => part !== '');
  let directory = '/';
  for (let index = 0; index <= parts.length; index++) {
    if (index > 0) directory = join(directory, parts[index - 1]);
    try {
      accessSync(directory, constants.X_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EACCES') return undefined;
      try {
        return { path: directory, stats: statSync(directory) };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function isAccessible(filePath: string, mode: number): boolean {
  try {
    accessSync(filePath, mode);
    return true;
  } catch {
    return false;
  }
}
