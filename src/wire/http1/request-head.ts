// Reads an HTTP/1.x request head (request line and header fields, RFC 9112)
// from the bytes a connection has buffered, and decides what Go's net/http
// server (the server upstream livenessprobe runs) decides about it: 400, 501
// or 505, how the body is delimited, and whether the connection stays open.
// Written by hand, with the server in server-connection.ts, because Node's
// HTTP server parses every request of a received chunk before the
// application can stop it: 64 KiB of pipelined requests cost 141 ms of CPU on
// Node 24 (217 ms on Node 20) and a request and a response object each
// (measured), so a client that never reads could stall the kubelet's probe
// and grow memory. Here a connection is read one request at a time, as Go's
// net/http does.
//
// Go's order of checks is kept (it decides which status a request with two
// faults gets): each line as it completes (request line, then a field line
// without a colon: 400 before the head ends), then two Host fields (400),
// Transfer-Encoding (501), Content-Length (400), Trailer (400), the version
// (505), a missing or malformed Host (400), field names and values (400);
// then the server's Expect rule (417). Go's net/http server.go readRequest, request.go readRequest,
// transfer.go readTransfer, net/textproto reader.go ReadMIMEHeader.

import { hasControlChar, hasInvalidFieldValueChar, isDigitAt, isToken } from '../http-semantics/field-chars';

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent ("/healthz?verbose", "http://host/healthz", "*"). */
  readonly target: string;
  /** The path of the request target, without the query ("/healthz"), as sent (not percent-decoded). */
  readonly path: string;
  /** The query without "?", or "" ("verbose=1"). */
  readonly query: string;
  /** From "HTTP/<major>.<minor>"; only major 1 is served (and Go's "PRI * HTTP/2.0"). */
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** Field names in lower case; repeated fields joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
}

/** How the request's body is delimited (RFC 9112 section 6.3, as Go's transfer.go reads it). */
export type RequestBody = { readonly kind: 'none' } | { readonly kind: 'length'; readonly bytes: bigint } | { readonly kind: 'chunked' };

/** What the head says about the connection and the answer, as Go's server decides it. */
export interface RequestSemantics {
  readonly body: RequestBody;
  /** The connection closes after the answer (HTTP/1.0 without keep-alive, "Connection: close", the h2 preface). */
  readonly closeAfterAnswer: boolean;
  /** HTTP/1.0 with "Connection: keep-alive": the answer says "Connection: keep-alive" (Go's wants10KeepAlive). */
  readonly http10KeepAlive: boolean;
  /** "Expect: 100-continue" on HTTP/1.1 with a body: Go answers without reading the body, then closes. */
  readonly expectContinue: boolean;
  /** An Expect other than 100-continue (RFC 9110 section 10.1.1): answered 417, then closed, as Go does. */
  readonly expectationFailed: boolean;
  /** The request itself asks to close (Go's Request.Close): an unread Content-Length body is then not read before closing. */
  readonly requestClose: boolean;
}

/** A head that cannot be served: the status to answer with, and why (for the body). */
export interface HeadError {
  readonly status: 400 | 431 | 501 | 505;
  readonly reason: string;
}

export type HeadResult =
  | { readonly head: RequestHead; readonly semantics: RequestSemantics; readonly consumedBytes: number }
  | { readonly error: HeadError }
  /** The head is not complete yet; read more. The lines before `checkedBytes` are well-formed: pass it back to check only new lines. */
  | { readonly incomplete: true; readonly checkedBytes: number };

/** RFC 3986 section 3.1 scheme, then ":" (Go's getScheme). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*:/;
/** A "%" not followed by two hex digits (RFC 3986 section 2.1; Go's url.unescape refuses it). */
const BAD_PERCENT_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/** What Go's url.Parse lets stand unescaped in a host (RFC 3986 reg-name, IP literal and port characters, and bytes past ASCII). */
const URL_HOST = /^[0-9A-Za-z!$&'()*+,;=:[\]<>"\-_.~%\x80-\xff]*$/;
/** In a host, Go accepts a %-escape only of a byte past ASCII, or "%25" (an IPv6 zone). */
const URL_HOST_ASCII_ESCAPE = /%(?!25)[0-7]/;
/** RFC 3986 section 3.2.1 userinfo characters (Go's validUserinfo). */
const URL_USERINFO = /^[0-9A-Za-z\-._:~!$&'()*+,;=%@]*$/;
/** Go's httpguts.ValidHostHeader: the bytes that may appear in a Host value (RFC 3986 host and port characters). */
const VALID_HOST = /^[0-9A-Za-z!$%&'()*+,\-.:;=[\]_~]*$/;
/** RFC 9112 section 5.2: obs-fold lines start with SP or HTAB. */
const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const SLASH = 0x2f;
/** Go's Content-Length: strconv.ParseUint(value, 10, 63). */
const MAX_CONTENT_LENGTH = (1n << 63n) - 1n;

/**
 * Looks for a complete head at the start of `buffer` (at most `maxHeadBytes`
 * long, counting empty lines before it; longer is 431) and checks it as Go's
 * server does. Lines may end in CRLF or a bare LF, as Go accepts. Each line is
 * checked as soon as it is complete: a malformed request line or a field line
 * without a colon is a 400 before the rest of the head arrives, as with Go.
 * `checkedBytes` is what an earlier call returned for the same buffer.
 */
export function readRequestHead(buffer: Buffer, maxHeadBytes: number, checkedBytes = 0): HeadResult {
  const headStart = skipEmptyLines(buffer);
  const limit = Math.min(buffer.length, maxHeadBytes);
  const scanStart = Math.max(checkedBytes, headStart);
  // The lines an earlier call checked are read again only once the head is complete; the common head, complete in
  // one read, is decoded once, its request line parsed once (measured: the allocations per request decide CPU here).
  const requestLineEnd = scanStart > headStart ? buffer.indexOf(LF, headStart) : -1;
  let requestLine: RequestLine | undefined;
  const fieldLines: string[] = [];
  for (let lineStart = scanStart; ; ) {
    const lineEnd = buffer.indexOf(LF, lineStart);
    if (lineEnd < 0 || lineEnd >= limit) {
      return buffer.length > maxHeadBytes ? { error: { status: 431, reason: 'request header fields too large' } } : { incomplete: true, checkedBytes: lineStart };
    }
    const line = lineText(buffer, lineStart, lineEnd);
    if (lineStart === headStart) {
      const parsed = parseRequestLine(line);
      if (typeof parsed === 'string') return { error: { status: 400, reason: parsed } };
      requestLine = parsed;
    } else if (line === '') {
      if (requestLine) return readCompleteHead(requestLine, fieldLines, lineEnd + 1);
      return readCompleteHead(...linesBefore(buffer, headStart, scanStart, fieldLines), lineEnd + 1);
    } else {
      const problem = checkFieldLine(line, requestLine ? fieldLines.length === 0 : lineStart === requestLineEnd + 1);
      if (problem) return { error: { status: 400, reason: problem } };
      fieldLines.push(line);
    }
    lineStart = lineEnd + 1;
  }
}

/** The request line and every field line of a head whose lines before `scanStart` an earlier call checked; `laterLines` follow them. */
function linesBefore(buffer: Buffer, headStart: number, scanStart: number, laterLines: string[]): [RequestLine, string[]] {
  const lines: string[] = [];
  for (let start = headStart; start < scanStart; ) {
    const lf = buffer.indexOf(LF, start);
    lines.push(lineText(buffer, start, lf));
    start = lf + 1;
  }
  return [parseRequestLine(lines[0]) as RequestLine, [...lines.slice(1), ...laterLines]];
}

/** Where the request line starts: after empty lines, which RFC 9112 section 2.2 says a server SHOULD ignore. */
function skipEmptyLines(buffer: Buffer): number {
  let at = 0;
  for (;;) {
    if (buffer[at] === LF) at += 1;
    else if (buffer[at] === CR && buffer[at + 1] === LF) at += 2;
    else return at;
  }
}

/** The line's text (latin1, byte for byte) without its LF and one CR before it. */
function lineText(buffer: Buffer, start: number, lfAt: number): string {
  const end = lfAt > start && buffer[lfAt - 1] === CR ? lfAt - 1 : lfAt;
  return buffer.toString('latin1', start, end);
}

interface RequestLine {
  readonly method: string;
  readonly target: string;
  readonly major: number;
  readonly minor: number;
}

/**
 * RFC 9112 section 3: method SP request-target SP HTTP-version, read as Go
 * reads it (split at the first two spaces; the version exactly HTTP/d.d).
 */
function parseRequestLine(line: string): RequestLine | string {
  const firstSpace = line.indexOf(' ');
  const secondSpace = firstSpace < 0 ? -1 : line.indexOf(' ', firstSpace + 1);
  if (secondSpace < 0) return `malformed request line ${JSON.stringify(line)}`;
  const method = line.slice(0, firstSpace);
  if (!isToken(method)) return `invalid method ${JSON.stringify(method)}`;
  // Go's ParseHTTPVersion: exactly "HTTP/" digit "." digit.
  const at = secondSpace + 1;
  if (line.length - at !== 8 || !line.startsWith('HTTP/', at) || !isDigitAt(line, at + 5) || line[at + 6] !== '.' || !isDigitAt(line, at + 7)) {
    return `malformed HTTP version ${JSON.stringify(line.slice(at))}`;
  }
  const target = line.slice(firstSpace + 1, secondSpace);
  const targetProblem = checkTarget(method === 'CONNECT' && !target.startsWith('/') ? `http://${target}` : target);
  if (targetProblem) return targetProblem;
  return { method, target, major: line.charCodeAt(at + 5) - 0x30, minor: line.charCodeAt(at + 7) - 0x30 };
}

/**
 * RFC 9112 section 3.2: origin-form, absolute-form (any scheme, as Go's
 * url.ParseRequestURI), authority-form (CONNECT, checked as "http://" plus
 * it) or "*". Refused as Go refuses: empty, control bytes, a relative path,
 * a "%" not followed by two hex digits, a port that is not digits.
 */
function checkTarget(target: string): string | undefined {
  if (target === '') return badTarget('empty', target);
  if (hasControlChar(target)) return badTarget('control character', target);
  if (target === '*') return undefined;
  let rest = target;
  const scheme = target.charCodeAt(0) === SLASH ? null : SCHEME.exec(target); // a scheme starts with a letter
  if (target.startsWith(':')) return badTarget('missing scheme', target);
  if (scheme) rest = target.slice(scheme[0].length);
  const queryAt = rest.indexOf('?');
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  if (!rest.startsWith('/')) return scheme ? undefined : badTarget('not an absolute path', target);
  if (scheme && rest.startsWith('//')) {
    const authorityEnd = rest.indexOf('/', 2);
    const authority = rest.slice(2, authorityEnd < 0 ? undefined : authorityEnd);
    const at = authority.lastIndexOf('@');
    const host = authority.slice(at + 1);
    if (at >= 0 && !URL_USERINFO.test(authority.slice(0, at))) return badTarget('invalid userinfo', target);
    if (BAD_PERCENT_ESCAPE.test(authority)) return badTarget('invalid URL escape', target);
    // RFC 3986 section 3.2.2: an IP literal in brackets, then an optional ":port"; else the port follows the last ":".
    let port = '';
    if (host.startsWith('[')) {
      const close = host.lastIndexOf(']');
      if (close < 0) return badTarget('missing "]" in host', target);
      port = host.slice(close + 1);
    } else if (host.includes(':')) {
      port = host.slice(host.lastIndexOf(':'));
    }
    if (port !== '' && !/^:[0-9]*$/.test(port)) return badTarget('invalid port', target);
    const zoneAt = host.indexOf('%25');
    if (!URL_HOST.test(host) || URL_HOST_ASCII_ESCAPE.test(zoneAt < 0 ? host : host.slice(0, zoneAt))) return badTarget('invalid host', target);
    rest = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  }
  if (rest.includes('%') && BAD_PERCENT_ESCAPE.test(rest)) return badTarget('invalid URL escape', target);
  return undefined;
}

function badTarget(what: string, target: string): string {
  return `${what} in request target ${JSON.stringify(target)}`;
}

/**
 * A field line as it completes (RFC 9112 section 5): the first one must not
 * start with whitespace; a later one that does is obs-fold (section 5.2,
 * joined to the previous value with SP, as Go does); any other must have a
 * colon. Names and values are checked when the head is complete.
 */
function checkFieldLine(line: string, first: boolean): string | undefined {
  const folded = isObsFold(line);
  if (folded && first) return `malformed first header line ${JSON.stringify(line)}`;
  if (!folded && !line.includes(':')) return `malformed header line (no colon) ${JSON.stringify(line)}`;
  return undefined;
}

/** RFC 9112 section 5.2: a field line that starts with SP or HTAB continues the one before (obs-fold). */
function isObsFold(line: string): boolean {
  return line.charCodeAt(0) === SP || line.charCodeAt(0) === HTAB;
}

/** OWS (RFC 9110 section 5.6.3) is SP and HTAB only. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === SP || text.charCodeAt(start) === HTAB)) start++;
  while (end > start && (text.charCodeAt(end - 1) === SP || text.charCodeAt(end - 1) === HTAB)) end--;
  return text.slice(start, end);
}

function trimLeadingOws(text: string): string {
  let start = 0;
  while (start < text.length && (text.charCodeAt(start) === SP || text.charCodeAt(start) === HTAB)) start++;
  return text.slice(start);
}

/** Go's textproto.TrimString (used on Content-Length and Trailer values): SP, HTAB, CR, LF. */
function trimAsciiSpace(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

interface Field {
  readonly name: string;
  /** Lower case: equal for two names when Go's canonical keys are (token names); others are refused anyway. */
  readonly key: string;
  value: string;
}

function readCompleteHead(requestLine: RequestLine, fieldLines: readonly string[], consumedBytes: number): HeadResult {
  const { method, target, major, minor } = requestLine;

  // Field lines; obs-fold joined with SP (RFC 9112 section 5.2 allows this or 400; Go joins): each line
  // loses its own OWS at both ends, the joined value its leading OWS (so a fold of only OWS leaves a trailing SP, as in Go).
  // One pass collects the fields the rules below read, in wire order; their lists are made only when such a field
  // comes (each array costs a backing store: the allocations per request decide the CPU per check, measured).
  const fields: Field[] = [];
  let hosts: string[] | undefined;
  let transferEncodings: string[] | undefined;
  let contentLengths: Field[] | undefined;
  let trailers: string[] | undefined;
  let connections: string[] | undefined;
  let expect: string | undefined;
  for (let i = 0; i < fieldLines.length; ) {
    let line = trimOws(fieldLines[i++]);
    while (i < fieldLines.length && isObsFold(fieldLines[i])) line += ` ${trimOws(fieldLines[i++])}`;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    // Go skips a field with an empty name rather than refusing it (textproto ReadMIMEHeader); so do we.
    if (name === '') continue;
    const field: Field = { name, key: name.toLowerCase(), value: trimLeadingOws(line.slice(colon + 1)) };
    fields.push(field);
    switch (field.key) {
      case 'host':
        (hosts ??= []).push(field.value);
        break;
      case 'transfer-encoding':
        (transferEncodings ??= []).push(field.value);
        break;
      case 'content-length':
        (contentLengths ??= []).push(field);
        break;
      case 'trailer':
        (trailers ??= []).push(field.value);
        break;
      case 'connection':
        (connections ??= []).push(field.value);
        break;
      case 'expect':
        expect ??= field.value; // Go reads only the first Expect field
        break;
    }
  }
  const hostCount = hosts?.length ?? 0;

  if (hosts && hosts.length > 1) return badRequest(`too many Host headers: ${JSON.stringify(hosts)}`);

  // RFC 9112 section 6.1, as Go's transfer.go: only for HTTP/1.1 and later; one field, exactly "chunked"; it overrides Content-Length.
  const atLeast11 = major > 1 || (major === 1 && minor >= 1);
  let chunked = false;
  if (transferEncodings && atLeast11) {
    if (transferEncodings.length !== 1) return { error: { status: 501, reason: `too many transfer encodings: ${JSON.stringify(transferEncodings)}` } };
    if (transferEncodings[0].toLowerCase() !== 'chunked') return { error: { status: 501, reason: `unsupported transfer encoding: ${JSON.stringify(transferEncodings[0])}` } };
    chunked = true;
  }
  // Fields the transfer rules consumed, which the field checks below skip (Go deletes them from the header first).
  const droppedTransferEncoding = transferEncodings !== undefined;
  let droppedContentLength = chunked;

  // RFC 9110 section 8.6: Content-Length = 1*DIGIT; repeated fields must agree.
  let body: RequestBody = chunked ? CHUNKED_BODY : NO_BODY;
  if (!chunked && contentLengths) {
    const first = trimAsciiSpace(contentLengths[0].value);
    if (contentLengths.some((f) => trimAsciiSpace(f.value) !== first)) {
      return badRequest(`multiple Content-Length headers with different values: ${JSON.stringify(contentLengths.map((f) => f.value))}`);
    }
    if (contentLengths.length > 1) for (const f of contentLengths) f.value = first;
    if (first === '') {
      droppedContentLength = true;
    } else {
      const length = /^[0-9]+$/.test(first) ? BigInt(first) : undefined;
      if (length === undefined || length > MAX_CONTENT_LENGTH) return badRequest(`bad Content-Length ${JSON.stringify(first)}`);
      if (length > 0n) body = { kind: 'length', bytes: length };
    }
  }
  if (chunked) {
    // RFC 9110 section 6.6.2: these may not be sent as trailers (Go refuses the request).
    for (const value of trailers ?? []) {
      for (const element of value.split(',').map(trimAsciiSpace)) {
        if (['transfer-encoding', 'trailer', 'content-length'].includes(element.toLowerCase())) return badRequest(`bad trailer key ${JSON.stringify(element)}`);
      }
    }
  }
  const droppedTrailer = chunked;

  // "PRI * HTTP/2.0" with no fields is the HTTP/2 preface: Go's HTTP/1 server lets it through to the handler, then closes.
  const h2Preface = method === 'PRI' && target === '*' && major === 2 && minor === 0 && fields.length === 0;
  if (major !== 1 && !(method === 'PRI' && target === '*' && major === 2 && minor === 0)) {
    return { error: { status: 505, reason: `unsupported protocol version HTTP/${major}.${minor}` } };
  }
  // RFC 9112 section 3.2: a server MUST respond 400 to an HTTP/1.1 request without Host or with more than one.
  if (atLeast11 && hostCount === 0 && !h2Preface && method !== 'CONNECT') return badRequest('missing required Host header');
  if (hosts && hostCount === 1 && !VALID_HOST.test(hosts[0])) return badRequest(`malformed Host header ${JSON.stringify(hosts[0])}`);
  for (const field of fields) {
    if ((field.key === 'transfer-encoding' && droppedTransferEncoding) || (field.key === 'content-length' && droppedContentLength) || (field.key === 'trailer' && droppedTrailer)) continue;
    if (!isToken(field.name)) return badRequest(`invalid header name ${JSON.stringify(field.name)}`);
    if (hasInvalidFieldValueChar(field.value)) return badRequest(`invalid header value ${JSON.stringify(field.value)} in ${field.name}`);
  }

  // RFC 9110 section 10.1.1; Go answers 417 to any other expectation.
  const expectsContinue = expect !== undefined && hasToken(expect, '100-continue');

  // RFC 9112 section 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" (Go: the first Connection field decides that).
  const firstConnection = connections?.[0] ?? '';
  const http10KeepAlive = major === 1 && minor === 0 && hasToken(firstConnection, 'keep-alive');
  const requestCloses = h2Preface || (major === 1 && minor === 0 ? listsToken(connections, 'close') || !listsToken(connections, 'keep-alive') : listsToken(connections, 'close'));
  const wantsClose = requestCloses || hasToken(firstConnection, 'close');

  const headers = new Map<string, string>();
  for (const field of fields) {
    const earlier = headers.get(field.key);
    headers.set(field.key, earlier === undefined ? field.value : `${earlier}, ${field.value}`);
  }
  const pathAndQuery = method === 'CONNECT' && !target.startsWith('/') ? authorityFormPathOf(target) : originFormOf(target);
  const queryStart = pathAndQuery.indexOf('?');
  return {
    head: {
      method,
      target,
      path: queryStart < 0 ? pathAndQuery : pathAndQuery.slice(0, queryStart),
      query: queryStart < 0 ? '' : pathAndQuery.slice(queryStart + 1),
      majorVersion: major,
      minorVersion: minor,
      headers,
    },
    semantics: {
      body,
      closeAfterAnswer: !http10KeepAlive && (!atLeast11 || wantsClose),
      http10KeepAlive,
      expectContinue: expectsContinue && atLeast11 && body.kind !== 'none',
      expectationFailed: !expectsContinue && expect !== undefined && expect !== '',
      requestClose: requestCloses,
    },
    consumedBytes,
  };
}

function badRequest(reason: string): HeadResult {
  return { error: { status: 400, reason } };
}

const NO_BODY: RequestBody = { kind: 'none' };
const CHUNKED_BODY: RequestBody = { kind: 'chunked' };

/** Whether any of the Connection field values lists `token` as an element (RFC 9110 section 7.6.1). */
function listsToken(connections: readonly string[] | undefined, token: string): boolean {
  if (connections === undefined) return false;
  for (const value of connections) {
    // Each comma-separated element, its OWS trimmed, compared without case (the token is lower-case ASCII).
    for (let start = 0; start <= value.length; ) {
      const comma = value.indexOf(',', start);
      const end = comma < 0 ? value.length : comma;
      let from = start;
      let to = end;
      while (from < to && (value.charCodeAt(from) === SP || value.charCodeAt(from) === HTAB)) from++;
      while (to > from && (value.charCodeAt(to - 1) === SP || value.charCodeAt(to - 1) === HTAB)) to--;
      if (to - from === token.length && value.slice(from, to).toLowerCase() === token) return true;
      start = end + 1;
    }
  }
  return false;
}

/**
 * Go's hasToken: `token` appears in `value`, case-insensitively, bounded by
 * the value's ends, SP, HTAB or ",".
 */
function hasToken(value: string, token: string): boolean {
  if (value === '') return false;
  const lower = value.toLowerCase();
  for (let at = lower.indexOf(token); at >= 0; at = lower.indexOf(token, at + 1)) {
    if (isTokenBoundary(lower, at - 1) && isTokenBoundary(lower, at + token.length)) return true;
  }
  return false;
}

function isTokenBoundary(text: string, at: number): boolean {
  return at < 0 || at >= text.length || text[at] === ' ' || text[at] === '\t' || text[at] === ',';
}

/** The path Go finds in a CONNECT target that does not start with "/": it reads it as "http://" + target (usually "": no path). */
function authorityFormPathOf(target: string): string {
  const pathAt = target.search(/[/?]/);
  return pathAt < 0 ? '' : target.slice(pathAt);
}

/**
 * "/a?b" for "/a?b" and "scheme://host/a?b" (absolute form), "*" for "*";
 * as Go's URL.Path, the path is "" when the absolute form has none
 * ("http://host?b": "?b"), and for an opaque form ("scheme:x").
 */
function originFormOf(target: string): string {
  if (target.startsWith('/') || target === '*') return target;
  const scheme = SCHEME.exec(target);
  if (!scheme) return '';
  const rest = target.slice(scheme[0].length);
  const queryAt = rest.indexOf('?');
  const query = queryAt < 0 ? '' : rest.slice(queryAt);
  const beforeQuery = queryAt < 0 ? rest : rest.slice(0, queryAt);
  if (beforeQuery.startsWith('//')) {
    const pathAt = beforeQuery.indexOf('/', 2);
    return (pathAt < 0 ? '' : beforeQuery.slice(pathAt)) + query;
  }
  return (beforeQuery.startsWith('/') ? beforeQuery : '') + query;
}
