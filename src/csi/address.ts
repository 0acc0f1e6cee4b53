// --csi-address forms, normalised in one place:
//   /run/csi/socket, unix:///run/csi/socket, unix:/run/csi/socket  -> a unix socket
//   host:port, dns:///host:port, ipv4:..., ipv6:...                 -> a gRPC TCP target
//
// gRPC target syntax (dns:[//authority/]host[:port], ipv4:addr[:port][,...],
// ipv6:[addr][:port][,...]) is parsed here by hand: the HTTP/2 transport dials
// host and port itself, and no maintained package parses gRPC target names.

import { normalize } from 'node:path';
import { unreachableSocketPathReason } from './unix-socket-connect';

export interface CsiAddress {
  /** What the user typed, for messages. */
  readonly original: string;
  /** Socket file for unix addresses (absolute); undefined for TCP targets. */
  readonly socketPath: string | undefined;
  /** The form upstream logs: "unix:///run/csi/socket" or the TCP target. */
  readonly display: string;
  /** Host and port to dial for TCP targets; undefined for unix sockets. */
  readonly tcp: TcpEndpoint | undefined;
}

export interface TcpEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * The longest address taken, in bytes: Linux resolves no path longer than PATH_MAX (4096 with its NUL),
 * so a longer socket path is never reached, and a host name has at most 253. The bound also keeps the
 * "Still connecting" line, which names the address, far below the 16 KiB at which runtimes split lines.
 */
const MAX_ADDRESS_BYTES = 4095;

/** gRPC's port when a target names none. */
const GRPC_DEFAULT_PORT = 443;

/** Returns the normalised address, or what is wrong with it. */
export function normalizeCsiAddress(original: string): CsiAddress | string {
  const tooLong = (bytes: number) => `the address is ${bytes} bytes; at most ${MAX_ADDRESS_BYTES} are taken (Linux's PATH_MAX); give a shorter --csi-address`;
  const unixSocket = (socketPath: string): CsiAddress | string =>
    (Buffer.byteLength(socketPath) > MAX_ADDRESS_BYTES ? tooLong(Buffer.byteLength(socketPath)) : undefined) ??
    unreachableSocketPathReason(socketPath) ?? {
      original,
      socketPath,
      display: `unix://${socketPath}`,
      tcp: undefined,
    };
  const tcpTarget = (hostPort: string): CsiAddress | string => {
    if (Buffer.byteLength(original) > MAX_ADDRESS_BYTES) return tooLong(Buffer.byteLength(original));
    const tcp = parseHostPort(hostPort);
    if (tcp === undefined) return `"${hostPort}" is not host:port`;
    return { original, socketPath: undefined, display: original, tcp };
  };
  if (original === '') return 'the address is empty; give the driver socket path, e.g. /csi/csi.sock';
  if (original.startsWith('/')) return unixSocket(normalize(original));
  if (original.startsWith('unix://')) {
    const rest = original.slice('unix://'.length);
    if (!rest.startsWith('/')) return 'unix:// addresses need an absolute path, e.g. unix:///csi/csi.sock';
    return unixSocket(normalize(rest));
  }
  if (original.startsWith('unix:')) {
    const rest = original.slice('unix:'.length);
    if (!rest.startsWith('/')) return 'unix: addresses need an absolute path, e.g. unix:/csi/csi.sock';
    return unixSocket(normalize(rest));
  }
  if (original.startsWith('dns:')) {
    // dns:host:port, dns:///host:port, dns://resolver/host:port
    const rest = original.slice('dns:'.length);
    return tcpTarget(rest.startsWith('//') ? rest.slice(rest.indexOf('/', 2) + 1) : rest);
  }
  if (original.startsWith('ipv4:') || original.startsWith('ipv6:')) {
    // An address list: the first one is dialled.
    return tcpTarget(original.slice('ipv4:'.length).split(',')[0]);
  }
  if (/^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):[0-9]+$/.test(original)) return tcpTarget(original);
  return 'not an absolute socket path, a unix:// address, nor host:port';
}

/** "host:port", "[v6]:port", "host" (gRPC's default port) -> endpoint; undefined when malformed. */
function parseHostPort(hostPort: string): TcpEndpoint | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/\s\[\]]+))(?::([0-9]{1,5}))?$/.exec(hostPort);
  if (!match) return undefined;
  const port = match[3] === undefined ? GRPC_DEFAULT_PORT : Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}
