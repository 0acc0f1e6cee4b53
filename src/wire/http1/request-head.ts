// Reads an HTTP/1.x request head (request line and header fields, RFC 9112)
// from the bytes a connection has buffered. Written by hand, with the server
// in http-connection.ts, because Node's HTTP server parses every request of a received
// chunk before the application can stop it: 64 KiB of pipelined requests cost
// 141 ms of CPU on Node 24 (217 ms on Node 20) and a request and a response
// object each (measured), so a client that never reads could stall the
// kubelet's probe and grow memory.
// Here a connection is read one request at a time, as Go's net/http does.

export interface RequestHead {
  readonly method: string;
  /** The path of the request target, without the query ("/healthz"). */
  readonly path: string;
  /** The query without "?", or "" ("verbose=1"). */
  readonly query: string;
  readonly minorVersion: 0 | 1;
  /** Field names in lower case; repeated fields joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
}

/** A head that cannot be served: the status to answer with, and why (for the body). */
export interface HeadError {
  readonly status: 400 | 431 | 505;
  readonly reason: string;
}

export type HeadResult =
  | { readonly head: RequestHead; readonly consumedBytes: number }
  | { readonly error: HeadError }
  /** The head is not complete yet; read more. */
  | { readonly incomplete: true };

/** RFC 9110 token characters (method and field names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, spaces and tabs, obs-text; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REQUEST_LINE = /^(\S+) (\S+) HTTP\/(\d)\.(\d)$/;
/** "http://host[:port]" at the start of an absolute-form target (RFC 9112 section 3.2.2). */
const ABSOLUTE_FORM_PREFIX = /^https?:\/\/[^/?#]*/i;

/**
 * Looks for a complete head at the start of `buffer` (at most `maxHeadBytes`
 * long; longer is 431). Lines may end in CRLF or a bare LF, as Go accepts.
 */
export function readRequestHead(buffer: Buffer, maxHeadBytes: number): HeadResult {
  const end = findHeadEnd(buffer, maxHeadBytes);
  if (end === undefined) {
    return buffer.length > maxHeadBytes ? { error: { status: 431, reason: 'request header fields too large' } } : { incomplete: true };
  }
  const lines = buffer.toString('latin1', end.headStart, end.headEnd).split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? '');
  if (!requestLine || !TOKEN.test(requestLine[1])) return { error: { status: 400, reason: 'malformed request line' } };
  const [, method, target, major, minor] = requestLine;
  if (major !== '1' || (minor !== '0' && minor !== '1')) return { error: { status: 505, reason: `HTTP version ${major}.${minor} not supported` } };

  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return { error: { status: 400, reason: 'malformed header field' } };
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return { error: { status: 400, reason: 'invalid character in a header field value' } };
    const key = name.toLowerCase();
    const earlier = headers.get(key);
    headers.set(key, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  const pathAndQuery = originFormOf(target);
  if (pathAndQuery === undefined) return { error: { status: 400, reason: 'malformed request target' } };
  const queryStart = pathAndQuery.indexOf('?');
  return {
    head: {
      method,
      path: queryStart < 0 ? pathAndQuery : pathAndQuery.slice(0, queryStart),
      query: queryStart < 0 ? '' : pathAndQuery.slice(queryStart + 1),
      minorVersion: minor === '1' ? 1 : 0,
      headers,
    },
    consumedBytes: end.consumedBytes,
  };
}

/** "/a?b" for "/a?b", "http://host/a?b" (absolute form) or "*"; undefined when neither. */
function originFormOf(target: string): string | undefined {
  if (target.startsWith('/') || target === '*') return target;
  const prefix = ABSOLUTE_FORM_PREFIX.exec(target);
  if (!prefix) return undefined;
  const rest = target.slice(prefix[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Where the head starts (after empty lines, which RFC 9112 section 2.2 says to
 * ignore), where it ends (at the "\n" before the empty line), and where the
 * next bytes start; undefined while no empty line has arrived.
 */
function findHeadEnd(buffer: Buffer, maxHeadBytes: number): { headStart: number; headEnd: number; consumedBytes: number } | undefined {
  let headStart = 0;
  while (headStart < buffer.length && (buffer[headStart] === 0x0d || buffer[headStart] === 0x0a)) headStart++;
  const limit = Math.min(buffer.length, headStart + maxHeadBytes);
  for (let from = headStart; ; ) {
    const newline = buffer.indexOf(0x0a, from);
    if (newline < 0 || newline >= limit) return undefined;
    if (buffer[newline + 1] === 0x0a) return { headStart, headEnd: newline, consumedBytes: newline + 2 };
    if (buffer[newline + 1] === 0x0d && buffer[newline + 2] === 0x0a) return { headStart, headEnd: newline, consumedBytes: newline + 3 };
    from = newline + 1;
  }
}
