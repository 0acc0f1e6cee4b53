// --csi-address forms, normalised in one place:
//   /run/csi/socket, unix:///run/csi/socket, unix:/run/csi/socket  -> a unix socket
//   host:port, dns:///host:port, ipv4:..., ipv6:...                 -> a gRPC TCP target

import * as path from 'node:path';

export interface CsiAddress {
  /** What the user typed, for messages. */
  readonly original: string;
  /** Target handed to grpc-js. */
  readonly grpcTarget: string;
  /** Socket file for unix addresses (absolute); undefined for TCP targets. */
  readonly socketPath: string | undefined;
  /** The form upstream logs: "unix:///run/csi/socket" or the TCP target. */
  readonly display: string;
}

const GRPC_TCP_SCHEMES = ['dns:', 'ipv4:', 'ipv6:'];

/** Returns the normalised address, or what is wrong with it. */
export function normalizeCsiAddress(original: string): CsiAddress | string {
  const unixSocket = (socketPath: string): CsiAddress => ({
    original,
    grpcTarget: `unix://${socketPath}`,
    socketPath,
    display: `unix://${socketPath}`,
  });
  if (original === '') return 'the address is empty; give the driver socket path, e.g. /csi/csi.sock';
  if (original.startsWith('/')) return unixSocket(path.normalize(original));
  if (original.startsWith('unix://')) {
    const rest = original.slice('unix://'.length);
    if (!rest.startsWith('/')) return 'unix:// addresses need an absolute path, e.g. unix:///csi/csi.sock';
    return unixSocket(path.normalize(rest));
  }
  if (original.startsWith('unix:')) {
    const rest = original.slice('unix:'.length);
    if (!rest.startsWith('/')) return 'unix: addresses need an absolute path, e.g. unix:/csi/csi.sock';
    return unixSocket(path.normalize(rest));
  }
  if (GRPC_TCP_SCHEMES.some((scheme) => original.startsWith(scheme))) {
    return { original, grpcTarget: original, socketPath: undefined, display: original };
  }
  if (/^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):[0-9]+$/.test(original)) {
    return { original, grpcTarget: `dns:${original}`, socketPath: undefined, display: original };
  }
  return 'not an absolute socket path, a unix:// address, nor host:port';
}
