// "host:port" listen addresses as Go's net.Listen("tcp", ...) takes them
// (":9808", "0.0.0.0:9808", "[::1]:9808", "localhost:9808", ":http"), and the
// address Go would bind for them:
// - an unspecified host (empty, 0.0.0.0, ::, ::ffff:0.0.0.0) listens on every
//   interface, IPv6 and IPv4 both (Go's favoriteAddrFamily: a wildcard listen
//   address takes an AF_INET6 socket with IPV6_V6ONLY off when the kernel maps
//   IPv4 into IPv6; without IPv6, an IPv4 one: Node's listen() with no host
//   does the same);
// - an IPv4 literal, or an IPv4-mapped IPv6 one, binds that IPv4 address;
// - an IPv6 literal (with its zone, "fe80::1%eth0") binds that address;
// - a host name resolves, and the first IPv4 address among the answers is
//   bound, else the first address (Go's Listen: addrs.first(isIPv4)).

import { promises as dns } from 'node:dns';
import { closeSync, openSync, readSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  /** Host to bind; undefined means every interface (Go's ":port"). */
  readonly host: string | undefined;
  readonly port: number;
}

/** Where a listener binds: `host` for Node's listen(), undefined for every interface (IPv6 and IPv4). */
export interface BindHost {
  readonly host: string | undefined;
}

/** Go's own table of TCP service names, used when /etc/services lacks one (net/lookup.go). */
const GO_BUILTIN_TCP_SERVICES: ReadonlyMap<string, number> = new Map([
  ['ftp', 21], ['ftps', 990], ['gopher', 70], ['http', 80], ['https', 443], ['imap2', 143], ['imap3', 220],
  ['imaps', 993], ['pop3', 110], ['pop3s', 995], ['smtp', 25], ['submissions', 465], ['ssh', 22], ['telnet', 23],
]);
/** What glibc's inet_aton reads as an IPv4 address: one to four parts, decimal, octal (0...) or hex (0x...). */
const INET_ATON_FORM = /^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)(\.(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)){0,3}$/;
/** /etc/services is a few KiB; more than this is not a services file worth reading. */
const MAX_SERVICES_FILE_BYTES = 1024 * 1024;

/** Parses "host:port" as Go's net.SplitHostPort; returns what is wrong as a string so flag parsing can word the error. */
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

/**
 * A TCP port as Go's net.LookupPort reads it: decimal with an optional sign
 * and leading zeros ("09808", "+80"), empty for 0 (the system picks one), or a
 * service name ("http") from /etc/services or Go's built-in table, in any case.
 * Returns what is wrong as a string.
 */
export function parsePortNumber(text: string): number | string {
  // Go's parsePort: a sign, then digits; "", "+" and "-" are port 0.
  const match = /^([+-]?)([0-9]*)$/.exec(text);
  if (!match) {
    const port = lookupTcpService(text.toLowerCase());
    return port ?? `port ${JSON.stringify(text)} is not a number from 0 to 65535 nor a known TCP service name`;
  }
  const magnitude = match[2] === '' ? 0n : BigInt(match[2]);
  if (magnitude > 65535n || (match[1] === '-' && magnitude !== 0n)) return `port ${text} is out of range 0-65535`;
  return Number(magnitude);
}

function lookupTcpService(name: string): number | undefined {
  let services = '';
  try {
    const fd = openSync('/etc/services', 'r');
    try {
      const buffer = Buffer.alloc(MAX_SERVICES_FILE_BYTES);
      services = buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    // no services file (distroless images): Go's built-in table only
  }
  for (const line of services.split('\n')) {
    const [entry] = line.split('#');
    const [service, portAndProtocol, ...aliases] = entry.trim().split(/\s+/);
    const portMatch = /^([0-9]+)\/tcp$/.exec(portAndProtocol ?? '');
    if (!portMatch) continue;
    if (service.toLowerCase() === name || aliases.some((alias) => alias.toLowerCase() === name)) return Number(portMatch[1]);
  }
  return GO_BUILTIN_TCP_SERVICES.get(name);
}

/** The address as Go would print it: "0.0.0.0:9808", "[::1]:9808", ":9808". */
export function formatListenAddress(address: ListenAddress): string {
  const host = address.host ?? '';
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}

/**
 * An IP literal as Go's listener binds it: "wildcard", an IPv4 address
 * ("127.0.0.1"), an IPv6 one, or undefined for a name. A text without ":" is
 * never given to net.isIPv6: V8 compiles node:net's IPv6 regular expression on
 * its first use, 10-20 ms of CPU at start-up (measured; seconds under a small
 * CPU limit) that an IPv4 address or a host name does not need.
 */
function classifyIpLiteral(host: string): { wildcard: true } | { address: string } | undefined {
  if (isIPv4(host)) return host === '0.0.0.0' ? { wildcard: true } : { address: host };
  if (!host.includes(':') || !isIPv6(host)) return undefined;
  const zoneAt = host.indexOf('%');
  // The WHATWG URL parser writes an IPv6 address in its canonical form ("::ffff:7f00:1").
  const canonical = new URL(`http://[${zoneAt < 0 ? host : host.slice(0, zoneAt)}]/`).hostname.slice(1, -1);
  if (canonical === '::') return { wildcard: true };
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    const ipv4 = [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
    return ipv4 === '0.0.0.0' ? { wildcard: true } : { address: ipv4 };
  }
  return { address: host };
}

/**
 * The host to bind for `host` with Go's net.Listen rules (see the header).
 * Rejects with the resolver's error (code ENOTFOUND, EAI_AGAIN, ...) when a
 * host name does not resolve.
 */
export async function chooseBindHost(host: string | undefined): Promise<BindHost> {
  if (host === undefined || host === '') return { host: undefined };
  const literal = classifyIpLiteral(host);
  if (literal) return 'wildcard' in literal ? { host: undefined } : { host: literal.address };
  // Not a literal to Go, but glibc's getaddrinfo would read it as one ("0", "127.1", "010.0.0.1" in octal, "0x7f.1"):
  // Go's resolver (upstream is built without cgo) looks such a name up in /etc/hosts and DNS, where it is not found.
  if (INET_ATON_FORM.test(host)) {
    throw Object.assign(new Error(`lookup ${host}: no such host`), { code: 'ENOTFOUND' });
  }
  const answers = await dns.lookup(host, { all: true, order: 'verbatim' });
  const chosen = answers.find((answer) => answer.family === 4) ?? answers[0];
  const resolved = classifyIpLiteral(chosen.address)!;
  return 'wildcard' in resolved ? { host: undefined } : { host: resolved.address };
}

/** Which IP versions a bound address (as server.address() gives it) serves, for the start-up log line. */
export function describeBoundStack(bound: { readonly address: string; readonly family: string }, requestedEveryInterface: boolean): string {
  if (!requestedEveryInterface) return bound.family === 'IPv6' ? 'IPv6' : 'IPv4';
  return bound.address === '::' ? 'IPv6 and IPv4' : 'IPv4 only (this host has no IPv6)';
}
