// Target: the sidecar's routing (src/http/serve-mux.ts, after the request
// head is read by src/wire/http1/request-head.ts) against Go's net/http
// ReadRequest and ServeMux with upstream's handlers, over request targets
// built from path pieces: dot segments, repeated slashes, escapes (valid,
// invalid, of dots, slashes and letters), queries, fragments, the absolute
// form and "*". Compared: status, Location, Content-Type and body.

import fc from 'fast-check';
import { serveRequest } from '../../src/http/serve-mux';
import { textResponse } from '../../src/wire/http1/response';
import { readRequestHead } from '../../src/wire/http1/request-head';
import { buildGoProgram } from '../helpers/go-program';
import type { DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

interface RoutingAnswer {
  readonly status: number;
  readonly location?: string;
  readonly contentType?: string;
  readonly body?: string;
}

const ROUTES = new Map([
  ['/healthz', () => textResponse(200, 'ok')],
  ['/metrics', () => textResponse(200, 'ok')],
]);
const NEVER_GONE = new AbortController().signal;

const segment = fc.oneof(
  fc.constantFrom('', '.', '..', 'healthz', 'metrics', 'x', '%2e', '%2E%2e', '%68ealthz', 'health%7a', '%2f', '%2F', '%zz', '%', '%4', '%00', '%20', '%c3%a9'),
  fc.constantFrom('healthz#x', 'a;b', 'a=b', "it's", '(x)', '*', '!', '~', 'a+b', '%25', '%3F', '%23'),
  fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,6}$/),
);
const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
const target = fc.oneof(
  { weight: 6, arbitrary: path },
  { weight: 2, arbitrary: fc.tuple(path, fc.constantFrom('?', '?verbose', '?a=b&c', '?x=%zz', '?/../')).map(([p, q]) => p + q) },
  { weight: 1, arbitrary: path.map((p) => `http://h${p}`) },
  { weight: 1, arbitrary: fc.constant('*') },
);

export const serveMuxTarget: DifferentialTarget<{ method: string; target: string }> = {
  name: 'serve-mux',
  description: "src/http/serve-mux.ts vs Go's http.ReadRequest and ServeMux (Go 1.19, the same rules as upstream's Go)",
  inputs: fc.record({ method: fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'CONNECT'), target }),
  async open() {
    const oracle = new OracleProcess('go serve-mux', buildGoProgram('differential/oracles/go-serve-mux', 'oracle-go-serve-mux'));
    return {
      async compare({ method, target: requestTarget }) {
        const head = `${method} ${requestTarget} HTTP/1.1\r\nHost: x\r\n\r\n`;
        const go = await oracle.ask<RoutingAnswer>({ head });
        const read = readRequestHead(Buffer.from(head, 'latin1'), 8 * 1024);
        let ours: RoutingAnswer;
        if ('head' in read) {
          const response = await serveRequest(ROUTES, read.head, NEVER_GONE);
          ours = { status: response.status, location: response.headers.Location, contentType: response.headers['Content-Type'], body: method === 'HEAD' ? '' : response.body };
        } else {
          ours = { status: 'error' in read ? read.error.status : 0 };
        }
        const normalize = (a: RoutingAnswer) => JSON.stringify([a.status, a.location ?? '', a.status === 400 ? '' : (a.contentType ?? ''), a.status === 400 || a.status === 404 ? '' : (a.body ?? '')]);
        return normalize(ours) === normalize(go) ? undefined : `${method} ${requestTarget}: ours ${normalize(ours)}, Go ${normalize(go)}`;
      },
      close: () => oracle.close(),
    };
  },
};
