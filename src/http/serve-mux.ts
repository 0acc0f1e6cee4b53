// Which handler answers a request, by Go's http.ServeMux rules for exact
// patterns such as "/healthz", as Go up to 1.21 applies them (net/http
// server.go, ServeMux.Handler and cleanPath), the Go that built upstream
// v2.12.0. Go 1.22 and later clean the escaped path and unescape it per
// segment, so "/%2e/healthz" and "/%2F/healthz" are 404 there, 301 to
// "/healthz" here; every other case is the same:
// - the path is matched decoded: "/%68ealthz" is "/healthz" (url.Parse
//   unescapes the path; an invalid escape is a 400 before any handler);
// - a path that is not clean ("//healthz", "/./healthz", "/x/../healthz")
//   is answered 301 with the clean path, the query kept, whatever it names;
//   clients follow it (the kubelet does);
// - "OPTIONS *" is answered 200 with no body (serverHandler's
//   globalOptionsHandler); any other method on "*" is 400 with no body
//   (ServeMux.ServeHTTP); anything else unknown is Go's 404.

import type { RequestHead } from '../wire/http1/request-head';
import { clientErrorResponse, HttpResponse, notFoundResponse } from '../wire/http1/response';
import type { CancelSignal } from '../cancel-signal';

/** What the server knows of a request besides its head. */
export interface RequestConditions {
  /**
   * The connection budget is half full or more and this is its connection's
   * first request: an answer that does not wait frees a descriptor for the
   * next client, the kubelet's among them (connection-budget.ts).
   */
  readonly budgetPressed: boolean;
}

/** The conditions of a request served with room to spare. */
export const UNPRESSED: RequestConditions = { budgetPressed: false };

/** Answers a routed request; `clientGone` aborts once the client has closed or half-closed its connection. */
export type RouteHandler = (request: RequestHead, clientGone: CancelSignal, conditions: RequestConditions) => HttpResponse | Promise<HttpResponse>;

/** Bytes a path keeps unescaped when Go writes a URL (url.shouldEscape, encodePath mode). */
const PATH_BYTE_KEPT = /[A-Za-z0-9\-_.~$&+,/:;=@]/;

/** Go's url.unescape for a path: undefined when a "%" is not followed by two hex digits. */
function decodePath(rawPath: string): string | undefined {
  if (!rawPath.includes('%')) return rawPath;
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) return undefined;
  // Escapes decode to bytes, and the bytes to text as Go keeps them (a string of bytes).
  const bytes: number[] = [];
  const raw = Buffer.from(rawPath, 'latin1');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25) {
      bytes.push(parseInt(raw.toString('latin1', i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes).toString('latin1');
}

/** Go's path.Clean (lexical: "." and ".." elements, repeated slashes), for rooted paths. */
function cleanRootedPath(path: string): string {
  const out: string[] = [];
  for (const element of path.split('/')) {
    if (element === '' || element === '.') continue;
    if (element === '..') out.pop();
    else out.push(element);
  }
  return `/${out.join('/')}`;
}

/** What makes a rooted path unclean: an empty element ("//") or a "." or ".." element. */
const UNCLEAN_ELEMENT = /\/\/|\/\.\.?(\/|$)/;

/** Go's cleanPath: rooted, cleaned, with a trailing slash kept. */
export function cleanPath(path: string): string {
  if (path.startsWith('/') && !UNCLEAN_ELEMENT.test(path)) return path; // every /healthz a kubelet sends
  if (path === '') return '/';
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const clean = cleanRootedPath(rooted);
  return rooted.endsWith('/') && clean !== '/' ? `${clean}/` : clean;
}

/** The path as Go writes it into a URL (EscapedPath): bytes outside the kept set as %XX. */
function escapePath(path: string): string {
  let escaped = '';
  for (const byte of Buffer.from(path, 'latin1')) {
    const c = String.fromCharCode(byte);
    escaped += PATH_BYTE_KEPT.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}

/** Go's htmlEscape, for the link in a redirect's body. */
function escapeHtml(text: string): string {
  return text.replace(/[&'<>"]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' })[c]!);
}

/** Go's http.Redirect with 301: Location, and for GET a short HTML body (HEAD: its Content-Type only). */
export function movedPermanentlyResponse(location: string, method: string): HttpResponse {
  const withBody = method === 'GET' || method === 'HEAD';
  return {
    status: 301,
    body: method === 'GET' ? `<a href="${escapeHtml(location)}">Moved Permanently</a>.\n\n` : '',
    headers: withBody ? { 'Content-Type': 'text/html; charset=utf-8', Location: location } : { Location: location },
  };
}

/** Go's answer to "OPTIONS *": 200, no body. */
const OPTIONS_ASTERISK_RESPONSE: HttpResponse = { status: 200, body: '', headers: {} };
/** ServeMux's answer to "*" with any other method: 400, no body. */
const ASTERISK_RESPONSE: HttpResponse = { status: 400, body: '', headers: {} };

/**
 * Routes one request to the handler of its exact path in `routes`, or
 * answers it as Go's ServeMux would (redirect, 404, 400). Throws nothing.
 */
export function serveRequest(
  routes: ReadonlyMap<string, RouteHandler>,
  head: RequestHead,
  clientGone: CancelSignal,
  conditions: RequestConditions = UNPRESSED,
): HttpResponse | Promise<HttpResponse> {
  if (head.target === '*') return head.method === 'OPTIONS' ? OPTIONS_ASTERISK_RESPONSE : ASTERISK_RESPONSE;
  const path = decodePath(head.path);
  if (path === undefined) return clientErrorResponse(400);
  const clean = head.method === 'CONNECT' ? path : cleanPath(path); // "CONNECT requests are not canonicalized"
  if (clean !== path) return movedPermanentlyResponse(escapePath(clean) + (head.query === '' ? '' : `?${head.query}`), head.method);
  const handler = routes.get(path);
  return handler ? handler(head, clientGone, conditions) : notFoundResponse();
}
