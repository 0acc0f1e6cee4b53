// Target: the verdict of a Probe call through CsiConnection (our HTTP/2
// client, HPACK decoder and gRPC response rules, as the sidecar calls it)
// against grpc-go's on the same scripted HTTP/2 answer. A raw server on a unix
// socket plays each generated answer, frame by frame, to whichever client
// connects: SETTINGS (or not) first, then once the request's HEADERS arrived,
// response HEADERS with generated fields (:status values, content-types,
// grpc-status and grpc-message in headers or trailers, malformed names and
// values), DATA with gRPC message framing (compressed flag, lengths), and
// WINDOW_UPDATE, RST_STREAM, GOAWAY, PING, PRIORITY, unknown frames in between;
// then it half-closes or holds the connection.
//
// Compared: healthy (the response bytes) or the gRPC status code; the text too
// where grpc-go's words are the contract (the driver's grpc-message, the
// protocol failures call-failures.ts words as grpc-go does).
//
// The oracle is Debian's grpc-go (1.33.3). Where it differs from the grpc-go
// the Go sidecar is built with today (internal/transport/http2_client.go
// operateHeaders since 1.5x) ours follows today's grpc-go, and where RFC 9113
// asks more than grpc-go checks ours follows the RFC (docs/design.md, "gRPC answers"):
// those inputs are recognised below (`mustFail`) and must fail on our side
// with the status named there.

import fc from 'fast-check';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { normalizeCsiAddress, type CsiAddress } from '../../src/csi/address';
import { CARDINALITY_VIOLATION_TEXT, CsiCallError } from '../../src/csi/call-failures';
import { CsiConnection } from '../../src/csi/connection';
import { PROBE_METHOD } from '../../src/csi/identity-messages';
import { Logger } from '../../src/log/logger';
import { grpcCodeName } from '../../src/wire/grpc/status';
import { buildGoProgram } from '../helpers/go-program';
import { dataFrame, END_HEADERS, END_STREAM, FRAME, goawayFrame, grpcMessageFrame, headerBlock, headersFrame, pingFrame, rstStreamFrame, windowUpdateFrame } from '../helpers/http2-answer';
import { rawFrame } from '../helpers/raw-http2-server';
import type { DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

/** Each side's deadline: long enough for a complete answer on a busy machine, short enough to buy many inputs. */
const CALL_TIMEOUT_MS = 1_000;

type Fields = [string, string][];

/** A frame of the answer; `stream` is the call's stream, 0, or a stream the client never opened. */
type Step =
  | { readonly headers: Fields; readonly endStream: boolean; readonly framing?: Framing }
  | { readonly data: Buffer; readonly endStream: boolean; readonly framing?: Framing }
  | { readonly windowUpdate: number; readonly onConnection: boolean }
  | { readonly rstStream: number; readonly onConnection: boolean }
  | { readonly goaway: number }
  | { readonly ping: true }
  | { readonly priorityBytes: number; readonly onConnection: boolean }
  | { readonly unknownType: true }
  /** A frame of a type whose payload length is fixed or bounded, with a wrong length (RFC 9113 section 4.2, 6). */
  | { readonly badLength: 'ping' | 'window-update' | 'rst-stream' | 'settings' | 'goaway' | 'data' }
  | { readonly idleData: true };

/** How a HEADERS or DATA frame is laid out: padded, HEADERS with priority fields or its block split into a CONTINUATION. */
interface Framing {
  readonly padBytes?: number;
  readonly priority?: boolean;
  readonly continuation?: boolean;
}

interface Answer {
  /** First frame: the server preface (SETTINGS), or a PING where it belongs. */
  readonly preface: 'settings' | 'settings-max-frame-size-1' | 'ping';
  readonly steps: readonly Step[];
  /** After the steps: half-close the connection, or keep it open until the client gives up. */
  readonly then: 'close' | 'hold';
}

const PROBE_READY = Buffer.from([0x0a, 0x02, 0x08, 0x01]);
const utf8AsBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const httpStatus = fc.oneof(
  { weight: 12, arbitrary: fc.constant('200') },
  { weight: 4, arbitrary: fc.constantFrom('503', '404', '400', '401', '403', '429', '502', '504', '500', '302', '418', '299', '204') },
  { weight: 2, arbitrary: fc.constantFrom('0200', '20', '2000', 'abc', '', ' 200', '200 ', '+200', '-200', '100', '103', '101', '999') },
);
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/grpc') },
  { weight: 3, arbitrary: fc.constantFrom('application/grpc+proto', 'application/grpc;charset=utf-8', 'application/grpc+') },
  { weight: 3, arbitrary: fc.constantFrom('application/json', 'application/grpcx', 'application/grpc-web', 'text/html', '', 'Application/grpc', 'application/grpc ') },
);
const grpcStatusValue = fc.oneof(
  { weight: 10, arbitrary: fc.constant('0') },
  { weight: 4, arbitrary: fc.constantFrom('14', '2', '5', '16', '17', '00', '4294967295') },
  { weight: 2, arbitrary: fc.constantFrom('+0', '-1', 'x', '', ' 0', '4294967296', '1.0') },
);
const grpcMessageValue = fc.oneof(
  fc.constantFrom('plain text', 'volume%20busy%2C%20100%25', 'bad%zz%2', '100%', '%C3%A9t%C3%A9', '%E2%28%A1', '%'),
  fc.constantFrom(utf8AsBytes('café'), utf8AsBytes('ünïcode ✓'), '\xff\xfe'),
  fc.string({ maxLength: 8 }).map((text) => text.replace(/[\x00-\x1f\x7f]/g, '')),
);
/** Fields that break RFC 9113 section 8.2 or 8.3, or that are only metadata. */
const oddField: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.constantFrom<[string, string]>(['x-md', 'value'], ['grpc-encoding', 'gzip'], ['grpc-encoding', 'identity'], ['content-length', '4'], ['x-md', 'a\tb']),
  fc.constantFrom<[string, string]>(['X-Upper', 'v'], ['x-md', 'line\nbreak'], ['x-md', 'nul\0'], ['x-md', 'cr\r'], ['x-md', 'del\x7f'], ['bad name', 'v'], ['', 'v']),
  fc.constantFrom<[string, string]>([':path', '/x'], [':status', '200'], [':authority', 'x']),
  fc.constantFrom<[string, string]>(['connection', 'close'], ['transfer-encoding', 'chunked'], ['te', 'trailers']),
  fc.tuple(fc.constantFrom('x-trace-bin', 'a-bin'), fc.constantFrom('', 'AA', 'AAA', 'AAAA', 'AA==', 'AAA=', 'A', 'A===', 'AA=', 'AA=A', '!!', 'AB-_', 'YWJj\n')),
);
const framing: fc.Arbitrary<Framing | undefined> = fc.option(
  fc.record({ padBytes: fc.option(fc.constantFrom(0, 3), { nil: undefined }), priority: fc.boolean(), continuation: fc.boolean() }, { requiredKeys: [] }),
  { freq: 4, nil: undefined },
);

/** Response headers: :status, content-type, sometimes grpc-status/grpc-message, odd fields anywhere. */
const responseHeaders: fc.Arbitrary<Fields> = fc
  .record({
    status: fc.option(httpStatus, { freq: 8, nil: undefined }),
    contentType: fc.option(contentType, { freq: 8, nil: undefined }),
    grpcStatus: fc.option(grpcStatusValue, { freq: 2, nil: undefined }),
    grpcMessage: fc.option(grpcMessageValue, { freq: 2, nil: undefined }),
    odd: fc.array(fc.tuple(oddField, fc.nat(4)), { maxLength: 2 }),
  })
  .map(({ status, contentType, grpcStatus, grpcMessage, odd }) => {
    const fields: Fields = [];
    if (status !== undefined) fields.push([':status', status]);
    if (contentType !== undefined) fields.push(['content-type', contentType]);
    if (grpcStatus !== undefined) fields.push(['grpc-status', grpcStatus]);
    if (grpcMessage !== undefined) fields.push(['grpc-message', grpcMessage]);
    for (const [field, at] of odd) fields.splice(Math.min(at, fields.length), 0, field);
    return fields;
  });

const trailers: fc.Arbitrary<Fields> = fc
  .record({
    grpcStatus: fc.option(grpcStatusValue, { freq: 10, nil: undefined }),
    grpcMessage: fc.option(grpcMessageValue, { freq: 2, nil: undefined }),
    odd: fc.array(fc.tuple(oddField, fc.nat(2)), { maxLength: 1 }),
  })
  .map(({ grpcStatus, grpcMessage, odd }) => {
    const fields: Fields = [];
    if (grpcStatus !== undefined) fields.push(['grpc-status', grpcStatus]);
    if (grpcMessage !== undefined) fields.push(['grpc-message', grpcMessage]);
    for (const [field, at] of odd) fields.splice(Math.min(at, fields.length), 0, field);
    return fields;
  });

/** The DATA of the answer: gRPC frames (flag, announced length), cut into one or two DATA frames. */
const dataPayloads: fc.Arbitrary<Buffer[]> = fc
  .record({
    messages: fc.array(
      fc.record({
        message: fc.oneof({ weight: 8, arbitrary: fc.constant(PROBE_READY) }, { weight: 2, arbitrary: fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)) }),
        flag: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2, 255) }),
        lengthDelta: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2, 5_000_000) }),
      }),
      { minLength: 0, maxLength: 2 },
    ),
    cut: fc.option(fc.nat(20), { freq: 3, nil: undefined }),
  })
  .map(({ messages, cut }) => {
    const bytes = Buffer.concat(messages.map(({ message, flag, lengthDelta }) => grpcMessageFrame(message, flag, Math.max(0, message.length + lengthDelta))));
    if (cut === undefined || cut >= bytes.length) return bytes.length === 0 && messages.length === 0 ? [] : [bytes];
    return [bytes.subarray(0, cut), bytes.subarray(cut)];
  });

const extraStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ windowUpdate: fc.constantFrom(0, 1, 65_535, 2 ** 31 - 1), onConnection: fc.boolean() }),
  fc.record({ rstStream: fc.constantFrom(0, 1, 2, 7, 8, 11, 0x77), onConnection: fc.boolean() }),
  fc.record({ goaway: fc.constantFrom(0, 2) }),
  fc.constant({ ping: true as const }),
  fc.record({ priorityBytes: fc.constantFrom(5, 4), onConnection: fc.boolean() }),
  fc.constant({ unknownType: true as const }),
  fc.record({ badLength: fc.constantFrom('ping' as const, 'window-update' as const, 'rst-stream' as const, 'settings' as const, 'goaway' as const, 'data' as const) }),
  fc.constant({ idleData: true as const }),
);

/** A well-formed answer's skeleton, bent in one or two places. */
const answers: fc.Arbitrary<Answer> = fc
  .record({
    preface: fc.oneof({ weight: 20, arbitrary: fc.constant('settings' as const) }, { weight: 1, arbitrary: fc.constantFrom('settings-max-frame-size-1' as const, 'ping' as const) }),
    headers: responseHeaders,
    headersFraming: framing,
    dataFraming: framing,
    trailersFraming: framing,
    trailersOnly: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    data: dataPayloads,
    dataEndsStream: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    trailers: fc.option(trailers, { freq: 12, nil: undefined }),
    trailersEndStream: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    secondTrailers: fc.option(trailers, { freq: 1, nil: undefined }),
    extras: fc.array(fc.tuple(extraStep, fc.nat(5)), { maxLength: 2 }),
    then: fc.oneof({ weight: 12, arbitrary: fc.constant('close' as const) }, { weight: 1, arbitrary: fc.constant('hold' as const) }),
  })
  .map(({ preface, headers, headersFraming, dataFraming, trailersFraming, trailersOnly, data, dataEndsStream, trailers, trailersEndStream, secondTrailers, extras, then }) => {
    const steps: Step[] = [{ headers, endStream: trailersOnly, framing: headersFraming }];
    if (!trailersOnly) {
      data.forEach((chunk, index) => steps.push({ data: chunk, endStream: dataEndsStream && index === data.length - 1, framing: dataFraming }));
      if (trailers) steps.push({ headers: trailers, endStream: trailersEndStream, framing: trailersFraming });
      if (secondTrailers) steps.push({ headers: secondTrailers, endStream: true });
    }
    for (const [step, at] of extras) steps.splice(Math.min(at, steps.length), 0, step);
    return { preface, steps, then };
  });

/** The bytes of one step on the call's stream `streamId`. */
function stepBytes(step: Step, streamId: number): Buffer {
  if ('headers' in step) return step.framing ? framedHeaders(streamId, step.headers, step.endStream, step.framing) : headersFrame(streamId, step.headers, step.endStream);
  if ('data' in step) return step.framing?.padBytes !== undefined ? paddedData(streamId, step.data, step.endStream, step.framing.padBytes) : dataFrame(streamId, step.data, step.endStream);
  if ('windowUpdate' in step) return windowUpdateFrame(step.onConnection ? 0 : streamId, step.windowUpdate);
  if ('rstStream' in step) return rstStreamFrame(step.onConnection ? 0 : streamId, step.rstStream);
  if ('goaway' in step) return goawayFrame(step.goaway === 0 ? 0 : streamId, 0);
  if ('ping' in step) return pingFrame();
  if ('priorityBytes' in step) return rawFrame(FRAME.PRIORITY, 0, step.onConnection ? 0 : streamId, Buffer.alloc(step.priorityBytes));
  if ('unknownType' in step) return rawFrame(0xb, 0, streamId, Buffer.from('ignored'));
  if ('badLength' in step) {
    switch (step.badLength) {
      case 'ping':
        return rawFrame(FRAME.PING, 0, 0, Buffer.alloc(7));
      case 'window-update':
        return rawFrame(FRAME.WINDOW_UPDATE, 0, streamId, Buffer.from([0, 0, 1]));
      case 'rst-stream':
        return rawFrame(FRAME.RST_STREAM, 0, streamId, Buffer.alloc(5));
      case 'settings':
        return rawFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(5));
      case 'goaway':
        return rawFrame(FRAME.GOAWAY, 0, 0, Buffer.alloc(7));
      case 'data':
        return rawFrame(FRAME.DATA, 0, streamId, Buffer.alloc(16_385)); // past the 16,384 SETTINGS_MAX_FRAME_SIZE allows
    }
  }
  return dataFrame(streamId + 2, grpcMessageFrame(PROBE_READY)); // a stream the client never opened
}

const PADDED = 0x8;
const PRIORITY = 0x20;

function withPadding(payload: Buffer, padBytes: number): Buffer {
  return Buffer.concat([Buffer.from([padBytes]), payload, Buffer.alloc(padBytes)]);
}

function paddedData(streamId: number, payload: Buffer, endStream: boolean, padBytes: number): Buffer {
  return rawFrame(FRAME.DATA, PADDED | (endStream ? END_STREAM : 0), streamId, withPadding(payload, padBytes));
}

/** HEADERS with padding or priority fields, its block split into a CONTINUATION where asked. */
function framedHeaders(streamId: number, fields: Fields, endStream: boolean, framing: Framing): Buffer {
  const block = headerBlock(fields);
  const cut = framing.continuation ? Math.floor(block.length / 2) : block.length;
  let first = block.subarray(0, cut);
  let flags = (endStream ? END_STREAM : 0) | (framing.continuation ? 0 : END_HEADERS);
  if (framing.priority) (first = Buffer.concat([Buffer.from([0, 0, 0, 0, 15]), first])), (flags |= PRIORITY);
  if (framing.padBytes !== undefined) (first = withPadding(first, framing.padBytes)), (flags |= PADDED);
  const headers = rawFrame(FRAME.HEADERS, flags, streamId, first);
  return framing.continuation ? Buffer.concat([headers, rawFrame(FRAME.CONTINUATION, END_HEADERS, streamId, block.subarray(cut))]) : headers;
}

function prefaceBytes(preface: Answer['preface']): Buffer {
  if (preface === 'ping') return pingFrame();
  const settings = Buffer.alloc(preface === 'settings' ? 0 : 6);
  if (preface === 'settings-max-frame-size-1') settings.writeUInt16BE(0x5, 0), settings.writeUInt32BE(1, 2);
  return rawFrame(FRAME.SETTINGS, 0, 0, settings);
}

/** Plays the current answer to every connection: the preface at once, the rest after the request's HEADERS. */
class ScriptedAnswerServer {
  answer: Answer | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(socketPath: string): Promise<ScriptedAnswerServer> {
    const server = net.createServer();
    const scripted = new ScriptedAnswerServer(server);
    server.on('connection', (socket) => scripted.serve(socket));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return scripted;
  }

  private serve(socket: net.Socket): void {
    const answer = this.answer!;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(prefaceBytes(answer.preface));
    let buffered = Buffer.alloc(0);
    let prefaceRead = false;
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      buffered = Buffer.concat([buffered, chunk]);
      if (!prefaceRead) {
        if (buffered.length < 24) return;
        buffered = buffered.subarray(24);
        prefaceRead = true;
      }
      while (!answered && buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
        const type = buffered[3];
        const streamId = buffered.readUInt32BE(5) & 0x7fffffff;
        buffered = buffered.subarray(9 + buffered.readUIntBE(0, 3));
        if (type !== FRAME.HEADERS) continue;
        answered = true;
        socket.write(Buffer.concat(answer.steps.map((step) => stepBytes(step, streamId))));
        if (answer.then === 'close') socket.end();
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

type Verdict = { readonly ok: true; readonly response: Buffer } | { readonly ok: false; readonly code: number; readonly message: string };

const describe = (v: Verdict) => (v.ok ? `ok ${v.response.toString('hex') || '(empty)'}` : `${grpcCodeName(v.code)} ${JSON.stringify(v.message)}`);

/**
 * grpc-go texts not compared: Debian's grpc-go words these differently from
 * today's grpc-go, or says something of its own connection handling
 * (deadline, closing) where ours names the cause.
 */
const UNCOMPARED_TEXTS = [
  /^transport: /,
  /^malformed header/,
  /^unexpected HTTP status/,
  /: HTTP status code \d+/,
  /^connection error/,
  /^transport is closing$/,
  /^the connection is draining$/,
  /^all SubConns/,
  /^context deadline exceeded$/,
  /^received invalid frame$/,
  /^stream terminated by RST_STREAM/,
  /^grpc: received message larger than max/, // the same rule, with grpc-go's 4 MiB limit against our 64 KiB // ours: a transport rule broken first, where grpc-go resets later
];

const OK_WITHOUT_MESSAGE_TEXT = 'cardinality violation: received no response message from non-server-streaming RPC';

/** grpc-go's HTTPStatusConvTab, Internal for a missing or malformed :status. */
function codeForHttpStatus(status: string | undefined): number {
  if (status === undefined || !/^[0-9]{3}$/.test(status)) return 13;
  const table: Record<string, number> = { '400': 13, '401': 16, '403': 7, '404': 12, '429': 14, '502': 14, '503': 14, '504': 14 };
  return table[status] ?? 2;
}

const ANY_FAILURE = -1;

/**
 * The steps the client reads before the call's stream ends (the first that
 * ends it: END_STREAM, or RST_STREAM on it); later ones cannot change the verdict.
 */
function deliveredSteps(answer: Answer): readonly Step[] {
  const end = answer.steps.findIndex((s) => (('headers' in s || 'data' in s) && s.endStream) || ('rstStream' in s && !s.onConnection));
  return end < 0 ? answer.steps : answer.steps.slice(0, end + 1);
}

/**
 * Inputs on which ours follows today's grpc-go or RFC 9113 where Debian's
 * grpc-go does not (see the header comment), so that ours must fail whatever
 * grpc-go says: the statuses ours may fail with (ANY_FAILURE: any); empty when
 * none of these applies. Several may apply; ours reports the first rule broken
 * in wire order.
 */
function mustFail(answer: Answer, badBinaryValues: ReadonlySet<string>): Set<number> {
  const codes = new Set<number>();
  const steps = deliveredSteps(answer);
  const headerSteps = steps.filter((s): s is Extract<Step, { headers: Fields }> => 'headers' in s);
  if (answer.preface !== 'settings') codes.add(14); // RFC 9113 section 3.4 / 6.5.2: connection errors
  if (steps.some((s) => 'idleData' in s)) codes.add(14); // section 5.1: DATA on a stream never opened, a connection error
  // Section 6.3: a PRIORITY of the wrong length is a stream error (x/net/http2: a connection error).
  if (steps.some((s) => 'priorityBytes' in s && !s.onConnection && s.priorityBytes !== 5)) codes.add(ANY_FAILURE);
  // Section 6.9.1: a window past 2^31-1 (grpc-go does not check).
  if (steps.some((s) => 'windowUpdate' in s && s.windowUpdate === 2 ** 31 - 1)) codes.add(ANY_FAILURE);
  const first = headerSteps[0];
  const firstIndex = first === undefined ? steps.length : steps.indexOf(first);
  if (steps.slice(0, firstIndex).some((s) => 'data' in s)) codes.add(13); // section 8.1: DATA before the response headers
  // Section 8.2.2: connection-specific fields make a message malformed (grpc-go takes them).
  if (headerSteps.some((h) => h.headers.some(([name]) => ['connection', 'transfer-encoding', 'te'].includes(name)))) codes.add(13);
  // Section 8.1: no pseudo-header fields in trailers (a 1xx answer's HEADERS is not trailers).
  const status = first?.headers.find(([name]) => name === ':status')?.[1];
  const informational = status !== undefined && /^1[0-9][0-9]$/.test(status);
  // Section 8.1: a 1xx answer that ends the stream is malformed; section 8.6: HTTP/2 has no 101.
  if (informational && (status === '101' || first.endStream)) codes.add(13);
  if (!informational && headerSteps.slice(1).some((h) => h.headers.some(([name]) => name.startsWith(':')))) codes.add(13);
  // Today's grpc-go: :status must be exactly 200 on a gRPC content-type too (Debian's grpc-go ignores it there).
  // A 1xx answer is skipped (section 8.1), so the next HEADERS decides.
  if (first !== undefined && !informational && status !== '200') codes.add(codeForHttpStatus(status));
  // grpc-status read as 1*DIGIT up to 2^32-1 (Debian's grpc-go reads it with strconv.Atoi, which takes a sign and
  // wraps larger values), a malformed one failing the call where it is read (today's grpc-go).
  // Today's grpc-go fails a call whose binary metadata does not decode (Debian's only logs it); `badBinaryValues`
  // are those Go's base64 refuses, asked of the oracle.
  if (headerSteps.some((h) => h.headers.some(([name, value]) => name.endsWith('-bin') && badBinaryValues.has(value)))) codes.add(13);
  const malformedStatus = (value: string) => !/^[0-9]+$/.test(value) || Number(value) > 2 ** 32 - 1;
  if (headerSteps.some((h) => h.headers.some(([name, value]) => name === 'grpc-status' && malformedStatus(value)))) codes.add(13);
  return codes;
}

/**
 * Section 8.1: a 1xx answer is informational and skipped, the next HEADERS
 * decides; grpc-go fails the call on it ("unexpected HTTP status"), so the
 * verdicts are not compared.
 */
function skipsInformational(answer: Answer): boolean {
  const first = answer.steps.find((s): s is Extract<Step, { headers: Fields }> => 'headers' in s);
  const status = first?.headers.find(([name]) => name === ':status')?.[1];
  return status !== undefined && /^1[0-9][0-9]$/.test(status);
}

/**
 * REFUSED_STREAM: grpc-go retries the call transparently as often as the
 * deadline allows (Debian's grpc-go even after the response headers); ours
 * sends it once more, then reports the refusal (docs/design.md, "The CSI transport"). Both
 * fail; the status is not compared.
 */
function refusesStream(answer: Answer): boolean {
  return answer.steps.some((s) => 'rstStream' in s && s.rstStream === 7 && !s.onConnection);
}

/** Our receive limit (64 KiB, docs/design.md) fails messages grpc-go's 4 MiB takes: ResourceExhausted, in grpc-go's words. */
const OUR_LIMIT_TEXT = /^grpc: received message larger than max \((\d+) vs\. 65536\)$/;

/** The same verdict: the same bytes, or the same status (and text, where grpc-go's words are the contract). */
function agree(our: Verdict, go: Verdict): boolean {
  if (our.ok || go.ok) return our.ok && go.ok && our.response.equals(go.response);
  // Status OK and no message: Debian's grpc-go hands io.EOF up (Unknown "EOF"); today's says Internal, as ours.
  if (go.code === 2 && go.message === 'EOF') return our.code === 13 && our.message === OK_WITHOUT_MESSAGE_TEXT;
  // A second message: Debian's grpc-go says Unknown in older words; today's says Internal, as ours.
  if (go.code === 2 && go.message === 'grpc: client streaming protocol violation: get <nil>, want <EOF>') return our.code === 13 && our.message === CARDINALITY_VIOLATION_TEXT;
  return our.code === go.code && (our.message === go.message || UNCOMPARED_TEXTS.some((pattern) => pattern.test(go.message)));
}

export const grpcVerdictTarget: DifferentialTarget<Answer> = {
  name: 'grpc-verdict',
  description: "a Probe through CsiConnection (src/wire/http2, hpack, grpc) vs grpc-go's Invoke on the same scripted HTTP/2 answer",
  inputs: answers,
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-verdict-'));
    const socketPath = path.join(dir, 'csi.sock');
    const server = await ScriptedAnswerServer.start(socketPath);
    const oracle = new OracleProcess('grpc-go client', buildGoProgram('differential/oracles/go-grpc-client', 'oracle-go-grpc-client'));
    const address = normalizeCsiAddress(socketPath) as CsiAddress;
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    const logger = new Logger({ format: 'text', verbosity: 0, infoStream: discard, errorStream: discard });

    async function ours(): Promise<Verdict> {
      const connection = new CsiConnection(address, logger, undefined);
      try {
        const response = await connection.unaryCall(PROBE_METHOD, Buffer.alloc(0), (bytes) => bytes, { timeoutMs: CALL_TIMEOUT_MS });
        return { ok: true, response };
      } catch (err) {
        if (!(err instanceof CsiCallError)) throw err;
        return { ok: false, code: err.grpcCode, message: err.description };
      } finally {
        connection.close();
      }
    }

    async function theirs(): Promise<Verdict> {
      const answer = await oracle.ask<{ code: number; message?: string; response?: string }>({ socket: socketPath, timeoutMs: CALL_TIMEOUT_MS });
      if (answer.code === 0) return { ok: true, response: Buffer.from(answer.response ?? '', 'base64') };
      // The message's bytes as UTF-8, invalid sequences replaced, as ours reads them.
      return { ok: false, code: answer.code, message: Buffer.from(answer.message ?? '', 'base64').toString('utf8') };
    }

    return {
      async compare(answer) {
        server.answer = answer;
        const our = await ours();
        const go = await theirs();
        const binaryValues = [...new Set(answer.steps.flatMap((s) => ('headers' in s ? s.headers.filter(([name]) => name.endsWith('-bin')).map(([, value]) => value) : [])))];
        const decodes = binaryValues.length === 0 ? [] : (await oracle.ask<{ valid: boolean[] }>({ op: 'bin', values: binaryValues })).valid;
        const expected = mustFail(answer, new Set(binaryValues.filter((_, index) => !decodes[index])));
        if (expected.size > 0) {
          // Both fail: which rule fails first may differ (grpc-go checks fewer), so any status will do.
          if (!our.ok && (expected.has(ANY_FAILURE) || expected.has(our.code) || !go.ok)) return undefined;
          return `ours ${describe(our)}; expected a failure with ${[...expected].map((code) => (code === ANY_FAILURE ? 'any status' : grpcCodeName(code))).join(' or ')} (grpc-go ${describe(go)})`;
        }
        if (agree(our, go)) return undefined;
        if (!our.ok && OUR_LIMIT_TEXT.test(our.message) && Number(OUR_LIMIT_TEXT.exec(our.message)![1]) <= 4 * 1024 * 1024) return undefined;
        if (!our.ok && !go.ok && refusesStream(answer)) return undefined;
        if (skipsInformational(answer)) return undefined;
        return `ours ${describe(our)}; grpc-go ${describe(go)}`;
      },
      async close() {
        await oracle.close();
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
