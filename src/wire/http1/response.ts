// The answers the sidecar sends, and their bytes on the wire: the headers Go's
// net/http would send for them (Date, Content-Length, Content-Type).

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  /** Content-Type and anything else the answer needs; Date and Content-Length are added. */
  readonly headers: Readonly<Record<string, string>>;
}

const TEXT_PLAIN = 'text/plain; charset=utf-8';

const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  301: 'Moved Permanently',
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** The Connection header an answer carries, if any (RFC 9112 section 9.3). */
export type ConnectionHeader = 'close' | 'keep-alive' | undefined;

export function textResponse(status: number, body: string, extraHeaders: Readonly<Record<string, string>> = {}): HttpResponse {
  return { status, body, headers: { 'Content-Type': TEXT_PLAIN, ...extraHeaders } };
}

/** Go's http.NotFound: "404 page not found\n". */
export function notFoundResponse(): HttpResponse {
  return textResponse(404, '404 page not found\n', { 'X-Content-Type-Options': 'nosniff' });
}

/** An answer to a request the server could not take (400, 408, 417, 431, 501, 505): "<code> <reason>", then the connection closes. */
export function clientErrorResponse(status: number): HttpResponse {
  return textResponse(status, `${status} ${REASON_PHRASES[status] ?? ''}`.trimEnd());
}

let cachedDate = { second: -1, text: '' };

/** The Date header's value (RFC 9110 IMF-fixdate), computed at most once a second. */
function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedDate.second) cachedDate = { second, text: new Date(second * 1000).toUTCString() };
  return cachedDate.text;
}

/** The response's bytes; without a body for HEAD; with the Connection header given (Go's choice: see server-connection.ts). */
export function serializeResponse(response: HttpResponse, options: { readonly headRequest: boolean; readonly connection: ConnectionHeader }): Buffer {
  let head = `HTTP/1.1 ${response.status} ${REASON_PHRASES[response.status] ?? 'Status'}\r\n`;
  for (const name in response.headers) head += `${name}: ${response.headers[name]}\r\n`;
  head += `Date: ${httpDate(Date.now())}\r\nContent-Length: ${Buffer.byteLength(response.body, 'utf8')}\r\n`;
  if (options.connection !== undefined) head += `Connection: ${options.connection}\r\n`;
  head += '\r\n';
  // The head is ASCII, so head and body encode as one UTF-8 string: one buffer, no copy.
  return Buffer.from(options.headRequest ? head : head + response.body, 'utf8');
}
