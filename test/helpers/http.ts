// One HTTP request on a fresh connection (no pooling), so each call is what a kubelet probe does.

import * as http from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly elapsedMs: number;
}

export function httpRequest(url: string, method = 'GET', timeoutMs = 20_000): Promise<HttpResult> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers, elapsedMs: performance.now() - startedAt }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}
