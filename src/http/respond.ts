// Plain-text responses with the headers Go's net/http would send for them.

import type { ServerResponse } from 'node:http';

export function sendText(response: ServerResponse, status: number, body: string, extraHeaders: Record<string, string> = {}): void {
  if (response.destroyed) return; // the client went away while the check ran
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  response.end(body); // Node drops the body of a HEAD response by itself
}

/** Go's http.NotFound: "404 page not found\n". */
export function sendNotFound(response: ServerResponse): void {
  sendText(response, 404, '404 page not found\n', { 'X-Content-Type-Options': 'nosniff' });
}
