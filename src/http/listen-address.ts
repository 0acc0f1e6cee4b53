// "host:port" listen addresses as Go's net.Listen takes them (":9808",
// "0.0.0.0:9808", "[::1]:9808", "localhost:9808").

export interface ListenAddress {
  /** Host to bind; undefined means every interface (Go's ":port"). */
  readonly host: string | undefined;
  readonly port: number;
}

/** Parses "host:port"; returns what is wrong as a string so flag parsing can word the error. */
export function parseListenAddress(text: string): ListenAddress | string {
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return 'missing port in address (want host:port or :port)';
  let host = text.slice(0, lastColon);
  const portText = text.slice(lastColon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return 'missing "]" in address';
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return 'too many colons in address (write IPv6 hosts as [::1]:port)';
  }
  const port = parsePortNumber(portText);
  if (typeof port === 'string') return port;
  return { host: host === '' ? undefined : host, port };
}

/** A TCP port number, 0 to 65535 (0 lets the system pick one). */
export function parsePortNumber(text: string): number | string {
  if (!/^[0-9]+$/.test(text)) return `port ${JSON.stringify(text)} is not a number from 0 to 65535`;
  const port = Number(text);
  if (port > 65535) return `port ${text} is out of range 0-65535`;
  return port;
}

/** The address as Go would print it: "0.0.0.0:9808", "[::1]:9808", ":9808". */
export function formatListenAddress(address: ListenAddress): string {
  const host = address.host ?? '';
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}
