// Target: the sidecar's HTTP/1.1 server (src/wire/http1/) against Go's
// net/http server (what upstream livenessprobe serves with) and, reported
// separately, against node:http (llhttp). The same raw byte stream goes to
// each on a new loopback connection: request lines, header fields with odd
// bytes, optional whitespace, obs-fold, Content-Length / Transfer-Encoding
// combinations, bodies, pipelined requests, HTTP versions, with or without a
// half-close after them. Compared: the status of every answer in order, its
// Connection header, and whether the server closed the connection.
//
// Left out by construction (deliberate deviations, docs/design.md, "Connections and memory"):
// heads over 8 KiB (ours 431, Go's limit is 1 MiB), bodies over 64 KiB (ours
// closes after the answer, Go reads up to 256 KiB), empty lines before a
// request line (RFC 9112 section 2.2: ignored here; Go ignores them only
// after a POST), and routing (unclean paths, percent-decoding: src/http/server.ts).

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { buildGoProgram } from '../helpers/go-program';
import { startOurServer } from '../helpers/http1-server';
import { exchangeUntilQuiet, RawOutcome, summarizeResponses, verdictOf } from '../helpers/raw-http';
import type { Comparator, DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

/** A generated exchange: the bytes sent on one connection (in pieces, cut at `splitAt`), then a FIN or not. */
export interface RawExchangeInput {
  readonly bytes: string;
  readonly splitAt: readonly number[];
  readonly halfClose: boolean;
}

/** Loopback answers take well under a millisecond; silence this long means the server keeps the connection and waits. */
const QUIET_MS = 60;
/** A disagreement is confirmed with a longer wait, so that a slow scheduler is not taken for one. */
const CONFIRM_QUIET_MS = 400;

/** Mostly what a client sends, sometimes a near miss: the deeper checks are reached only past the early ones. */
function mostly<T>(usual: readonly T[], odd: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
}

const SP = mostly([' '], ['  ', '\t', '\v']);
const LINE_END = mostly(['\r\n', '\r\n', '\n'], ['\r', '\r\r\n']);
const METHOD = mostly(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'CONNECT', 'get'], ['G(T', 'GE T', '', 'PRI', 'M\x80']);
const TARGET = mostly(
  ['/healthz', '/healthz?verbose=1', '/nothing', '*', 'http://h/healthz', 'HTTP://h:9808/healthz?x', 'ftp://h/healthz', '/healthz#frag', '/h\x80'],
  [
    'healthz', '', '/heal\x7fthz', '/health\x00z', '/healthz?a b', '/healthz%zz', '/healthz%2', '/healthz?%zz', 'http://h:x/healthz', 'http://[::1/healthz',
    ':/healthz', 'http://h%zz/healthz', 'http://h%41/healthz', 'http://h%c3%a9/healthz', 'http://h{/healthz', 'http://h#x/healthz', 'http://[::1]x/healthz',
    'http://[::1]:80/healthz', 'http://[fe80::1%25en0]/healthz', 'http://u:p@h/healthz', 'http://u{@h/healthz', 'http://h:/healthz', 'http://h:80:90/healthz',
    'http://h\x80/healthz', 'http:/healthz', 'x-y.z+w://h/healthz', '1http://h/healthz',
  ],
);
const VERSION = mostly(
  ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/3.0'],
  ['http/1.1', 'HTTP/1.10', 'HTTP/11', 'HTTP/1.1 ', ' HTTP/1.1', 'HTTP/1', 'HTTP/a.1', 'HTTP/1.1\x00'],
);
const OWS = mostly(['', ' ', ' ', '\t', '  ', ' \t'], ['\v', '\f', '\x00', '\r', '\x85', '\xa0']);
const NAME = mostly(
  ['Host', 'host', 'HOST', 'Content-Length', 'content-length', 'Transfer-Encoding', 'Connection', 'Expect', 'X-Other', 'Trailer'],
  ['Host ', 'Host\t', ' Host', 'Ho st', 'H(st', 'X-\x80', '', 'Content-Length ', 'Transfer-Encoding\t'],
);
const VALUES: Readonly<Record<string, readonly string[]>> = {
  host: ['h', 'h', 'h:9808', '', 'h h', 'h/x', '[::1]:80', 'h\x80', 'a@b'],
  'content-length': ['0', '1', '2', '5', '5', '05', '+5', '-1', '5 5', '5,5', '5, 5', '0x5', '', '99999999999999999999', '5.0', '１'],
  'transfer-encoding': ['chunked', 'chunked', 'Chunked', 'identity', 'gzip, chunked', 'chunked, chunked', 'chunked ,', 'xchunked', ''],
  connection: ['close', 'keep-alive', 'Keep-Alive', 'close, keep-alive', 'upgrade', 'keep-alive, close', 'xclose', 'te, close', ''],
  expect: ['100-continue', '100-Continue', 'x', ''],
  trailer: ['X', 'Content-Length', ''],
};
const FIELD_TEXT = mostly(['v', 'a b', 'x\ty', 'x\x80y'], ['x\x00y', 'x\x7fy', 'x\x01y', 'x\vy', 'x\ry']);

const field = fc
  .record({ name: NAME, before: OWS, after: OWS, valueIndex: fc.nat(), other: FIELD_TEXT, fold: fc.option(fc.constantFrom(' folded', '\tfolded', ' ', '  \t'), { freq: 12 }), end: LINE_END })
  .map(({ name, before, after, valueIndex, other, fold, end }) => {
    const values = VALUES[name.trim().toLowerCase()];
    const value = values ? values[valueIndex % values.length] : other;
    return `${name}:${before}${value}${after}${fold === null ? '' : `\r\n${fold}`}${end}`;
  });

/** A body: plain bytes, or chunked (valid or near it). */
const BODY = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.constantFrom('abcde', 'ab', 'x', 'abcdefghij') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '5\r\nabcde\r\n0\r\n\r\n', '0\r\n\r\n', '5;ext=1\r\nabcde\r\n0\r\n\r\n', '5\r\nabcde\r\n0\r\nX-T: 1\r\n\r\n', '5\r\nabcde\r\n0\r\n',
      '5\nabcde\n0\n\n', 'A\r\n0123456789\r\n0\r\n\r\n', 'a\r\n0123456789\r\n0\r\n\r\n', '5 \r\nabcde\r\n0\r\n\r\n', 'x\r\nabcde\r\n0\r\n\r\n',
      '5\r\nabcdef\r\n0\r\n\r\n', '-5\r\nabcde\r\n0\r\n\r\n', '0x5\r\nabcde\r\n0\r\n\r\n', '5\r\nabc', 'ffffffffffffffffff\r\nab\r\n0\r\n\r\n',
      '00000000000000000005\r\nabcde\r\n0\r\n\r\n',
    ),
  },
);

const request = fc
  .record({
    method: METHOD, sp1: SP, target: TARGET, sp2: SP, version: VERSION, lineEnd: LINE_END,
    host: fc.boolean(), fields: fc.array(field, { maxLength: 4 }), headEnd: LINE_END, body: BODY,
  })
  .map((r) => `${r.method}${r.sp1}${r.target}${r.sp2}${r.version}${r.lineEnd}${r.host ? 'Host: h\r\n' : ''}${r.fields.join('')}${r.headEnd}${r.body}`);

/** A well-formed request with the fields that decide keep-alive, Expect and framing: the semantics past the parser. */
const PLAUSIBLE = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS', 'PUT'),
    target: fc.constantFrom('/healthz', '/nothing', '*', 'http://h/healthz'),
    version: fc.constantFrom('1.0', '1.1', '1.1'),
    host: fc.boolean(),
    connections: fc.array(fc.constantFrom('close', 'keep-alive', 'Keep-Alive', 'keep-alive, close', 'close, keep-alive', 'upgrade', 'te, keep-alive', 'CLOSE', ' ', 'keep-alive;q'), { maxLength: 2 }),
    expect: fc.option(fc.constantFrom('100-continue', '100-continue, x', 'x', ''), { freq: 4 }),
    body: fc.constantFrom('', '', 'cl', 'cl0', 'chunked', 'te-cl', 'cl-short'),
    // Stray line ends after a POST (Go drops up to four CR/LF bytes then; elsewhere they are a deliberate deviation).
    strayAfterPost: fc.constantFrom('', '', '\r\n', '\n', '\r\r\n', '\n\r', '\r', '\r\n\r\n'),
  })
  .map((r) => {
    const fields = [r.host ? 'Host: h' : '', ...r.connections.map((c) => `Connection: ${c}`), r.expect === null ? '' : `Expect: ${r.expect}`];
    const framing: Record<string, [string, string]> = {
      '': ['', ''],
      cl: ['Content-Length: 5', 'abcde'],
      cl0: ['Content-Length: 0', ''],
      chunked: ['Transfer-Encoding: chunked', '5\r\nabcde\r\n0\r\n\r\n'],
      'te-cl': ['Transfer-Encoding: chunked\r\nContent-Length: 3', '3\r\nabc\r\n0\r\n\r\n'],
      'cl-short': ['Content-Length: 5', 'abc'],
    };
    const [field, body] = framing[r.body];
    const stray = r.method === 'POST' ? r.strayAfterPost : '';
    const head = `${r.method} ${r.target} HTTP/${r.version}\r\n${[...fields, field].filter((f) => f !== '').map((f) => `${f}\r\n`).join('')}\r\n`;
    // A body cut short only ends a pipeline: before another request it would shift every later one.
    const piece = (strayEnd: string): Piece =>
      r.body === 'cl-short' ? { text: `${head}${body}`, beforeAnother: `${head}${body}de${strayEnd}` } : { text: `${head}${body}${strayEnd}` };
    // Glued to bytes that end mid-line, the method is another ("cPOST"): the stray line ends no longer follow a POST.
    return stray === '' ? piece('') : { ...piece(stray), glued: piece('') };
  });

/** One request's bytes: `beforeAnother` when another follows, `glued` when the bytes before it end mid-line. */
interface Piece {
  readonly text: string;
  readonly beforeAnother?: string;
  readonly glued?: Piece;
}

/** Any bytes, mostly of the HTTP alphabet, ending in an empty line now and then. */
const ANY_BYTES = fc
  .string({ unit: fc.oneof(fc.constantFrom(' ', ':', '/', '\r', '\n', '\t', 'G', 'E', 'T', 'H', 'P', '1', '.', '0'), fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c))), maxLength: 60 })
  // Not starting with a line end: empty lines before a request line are a deliberate difference (see above).
  .map((text) => text.replace(/^[\r\n]+/, ''))
  .filter((text) => text !== '')
  .chain((text) => fc.constantFrom('', '\r\n\r\n', '\n\n').map((end) => `${text}${end}`));

/** A well-formed GET /healthz, mixed in so that pipelines show what a server made of the bytes before it. */
const PLAIN_GET = fc.constantFrom('GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n', 'GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n');

export const rawExchangeInputs: fc.Arbitrary<RawExchangeInput> = fc.record({
  bytes: fc
    .array(
      fc.oneof(
        { weight: 3, arbitrary: request.map((text) => ({ text })) },
        { weight: 2, arbitrary: PLAUSIBLE },
        { weight: 1, arbitrary: PLAIN_GET.map((text) => ({ text })) },
        { weight: 1, arbitrary: ANY_BYTES.map((text) => ({ text })) },
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((requests: readonly Piece[]) =>
      requests.reduce((sent, r, i) => {
        const chosen = r.glued !== undefined && sent !== '' && !sent.endsWith('\n') ? r.glued : r;
        return sent + (i < requests.length - 1 ? (chosen.beforeAnother ?? chosen.text) : chosen.text);
      }, ''),
    ),
  splitAt: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.nat({ max: 400 }), { maxLength: 3 }) }),
  halfClose: fc.boolean(),
});

/**
 * The verdict compared with node:http: the statuses only. What node:http adds
 * around llhttp (a "Connection: keep-alive" on every answer, closing at a
 * client's FIN without answering what is still queued) is its own policy,
 * not the parser's.
 */
export function statusesOf(outcome: RawOutcome): string {
  return `[${summarizeResponses(outcome.received).map((r) => r.status).join(', ')}]`;
}

/** Compares our server with the one at `theirPort` on each input. */
function comparatorAgainst(
  ourPort: number,
  theirPort: number,
  theirName: string,
  verdict: (outcome: RawOutcome) => string,
  close: () => Promise<void>,
): Comparator<RawExchangeInput> {
  const verdicts = async (input: RawExchangeInput, quietMs: number) => {
    const bytes = Buffer.from(input.bytes, 'latin1');
    const [ours, theirs] = await Promise.all([
      exchangeUntilQuiet(ourPort, bytes, { halfClose: input.halfClose, quietMs, splitAt: input.splitAt }),
      exchangeUntilQuiet(theirPort, bytes, { halfClose: input.halfClose, quietMs, splitAt: input.splitAt }),
    ]);
    return { ours: verdict(ours), theirs: verdict(theirs) };
  };
  return {
    async compare(input) {
      let { ours, theirs } = await verdicts(input, QUIET_MS);
      if (ours !== theirs) ({ ours, theirs } = await verdicts(input, CONFIRM_QUIET_MS));
      if (ours === theirs) return undefined;
      const split = input.splitAt.length > 0 ? ` (cut at ${input.splitAt.join(', ')})` : '';
      return `${JSON.stringify(input.bytes)}${split}${input.halfClose ? ' + FIN' : ''}: ours ${ours}; ${theirName} ${theirs}`;
    },
    close,
  };
}

export const http1VsGoTarget: DifferentialTarget<RawExchangeInput> = {
  name: 'http1-vs-go',
  description: "src/wire/http1/ server vs Go's net/http server (ServeMux, /healthz), raw bytes over loopback",
  inputs: rawExchangeInputs,
  async open() {
    const oracle = new OracleProcess('go net/http', buildGoProgram('differential/oracles/go-http-server', 'oracle-go-http-server'));
    const { port: goPort } = await oracle.ask<{ port: number }>({ op: 'port' });
    const ours = await startOurServer();
    return comparatorAgainst(ours.port, goPort, 'Go', verdictOf, async () => {
      await ours.close();
      await oracle.close();
    });
  },
};

export const http1VsLlhttpTarget: DifferentialTarget<RawExchangeInput> = {
  name: 'http1-vs-llhttp',
  description: 'src/wire/http1/ server vs node:http (llhttp) answering /healthz, raw bytes over loopback; statuses only; where they differ from Go, Go decides',
  informational: true,
  inputs: rawExchangeInputs,
  async open() {
    const node = http.createServer((req, res) => {
      const path = (req.url ?? '').replace(/^[a-z]+:\/\/[^/?#]*/i, '').split('?')[0];
      res.writeHead(path === '/healthz' ? 200 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(path === '/healthz' ? 'ok' : '404 page not found\n');
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    const ours = await startOurServer();
    return comparatorAgainst(ours.port, (node.address() as AddressInfo).port, 'llhttp', statusesOf, async () => {
      await ours.close();
      node.closeAllConnections();
      await new Promise<void>((resolve) => node.close(() => resolve()));
    });
  },
};
