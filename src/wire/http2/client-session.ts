// The client side of one HTTP/2 connection (RFC 9113) over a socket from
// node:net: the preface and settings, streams that carry one request each,
// flow control, PING, GOAWAY and RST_STREAM. Enough for gRPC's unary calls,
// and no more: no server push, no priorities, no request bodies beyond a
// window.
//
// A response reaches the stream's handler only as HTTP/2 allows it (RFC 9113
// section 8.1 and 8.2): informational (1xx) answers skipped, then the final
// response headers, DATA, and at most one trailers block, which ends the
// stream; field names and values valid, pseudo-header fields first and only
// :status (and none in trailers). A response that breaks these is malformed:
// the stream is reset (PROTOCOL_ERROR) and ends as a stream-error, as do
// frames that section 6 makes stream errors.
//
// Written by hand instead of using node:http2: loading node:http2 costs
// 10 MiB of resident memory on Node 24 (it loads tls, crypto and nghttp2;
// measured, docs/design.md), paid by every pod on every node, for a sidecar
// that sends one small request every few seconds.
//
// Bounded: a frame is at most 16 KiB (FRAME_SIZE_ERROR past it), a header
// block at most MAX_HEADER_BLOCK_BYTES, the header table at most its default
// 4 KiB; DATA is handed on as it arrives, never kept here; what we write and
// the driver has not read (PING and SETTINGS acknowledgements to a peer that
// sends them and never reads) at most MAX_UNSENT_BYTES.
//
// The socket reads into one reused buffer (net's `onread`, set up in
// ../transports/http2-transport.ts) instead of a new one per read: under a flood of checks,
// per-read buffers held 11 MiB of ArrayBuffers until collected (measured,
// 20,000 Probes on Node 24), node:http2 none.

import type * as net from 'node:net';
import {
  CONNECTION_PREFACE,
  ConnectionError,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_WINDOW_BYTES,
  encodeFrame,
  encodeGoaway,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  Frame,
  FRAME_HEADER_BYTES,
  FrameReader,
  FrameType,
  Setting,
  writeFrameHeader,
} from './frames';
import { HeaderField, HpackDecoder } from '../hpack/decoder';
import { hasInvalidFieldValueChar, isLowerCaseToken, isThreeDigits } from '../http-semantics/field-chars';
import { headerBlock } from '../hpack/encoder';
import { HpackError } from '../hpack/error';
import { quoteGo } from '../../go/quote';

/** The most a header block (HEADERS and its CONTINUATIONs) may take, compressed or decoded. */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** HPACK's default table size, which we keep (the most a size update may ask for). */
const HEADER_TABLE_BYTES = 4_096;
/** Received bytes a window may lack before we give them back with WINDOW_UPDATE (half the default window). */
const WINDOW_UPDATE_THRESHOLD_BYTES = 32 * 1024;
const MAX_WINDOW_BYTES = 2 ** 31 - 1;
/** The largest SETTINGS_MAX_FRAME_SIZE a peer may announce (2^24-1, RFC 9113 section 6.5.2). */
const MAX_FRAME_SIZE_SETTING = 2 ** 24 - 1;
const PING_PAYLOAD_BYTES = 8;
/**
 * Bytes written and not yet taken by the driver. A call writes about 250; only
 * a peer that sends frames demanding an answer (PING, SETTINGS) and reads none
 * of them gets near this, and would otherwise grow our buffer without end.
 */
const MAX_UNSENT_BYTES = 64 * 1024;

/** How a stream ended. */
export type StreamEnd =
  | { readonly kind: 'ended' } // the driver sent END_STREAM
  | { readonly kind: 'reset'; readonly errorCode: number } // the driver sent RST_STREAM
  // The driver broke a rule for this stream (RFC 9113 section 5.4.2): we reset it with `errorCode`; `reason` says which.
  | { readonly kind: 'stream-error'; readonly errorCode: number; readonly reason: string }
  | { readonly kind: 'refused-by-goaway' } // GOAWAY excluded it: the driver never read it
  // The connection closed. `connectErrno`: connect()'s error code when it never opened; `setupErrno`: the code of
  // another step's error that kept it from opening (getaddrinfo's ENOTFOUND, EAI_AGAIN). At most one is set.
  | { readonly kind: 'connection-lost'; readonly reason: string | undefined; readonly connectErrno: string | undefined; readonly setupErrno: string | undefined }
  | { readonly kind: 'cancelled' }; // we reset it

export interface StreamHandler {
  /**
   * A header block, fields in wire order: the final response headers first
   * (`endStream` for a headers-only response), then possibly trailers
   * (`endStream` always). Informational (1xx) responses are not delivered.
   */
  headers(fields: readonly HeaderField[], endStream: boolean): void;
  data(chunk: Buffer): void;
  /** Called once, last. */
  end(end: StreamEnd): void;
}

export interface SessionEvents {
  connected(): void;
  goaway(): void;
  /** The socket closed; `connectError` is set when it never connected. */
  closed(connectError: NodeJS.ErrnoException | undefined): void;
}

export class ClientStream {
  /** Bytes received and not yet given back with WINDOW_UPDATE. */
  unackedBytes = 0;
  /** What the driver may still send on this stream. */
  receiveWindow = DEFAULT_WINDOW_BYTES;
  /** Request bytes not yet sent for lack of window, and what the driver lets us send. */
  pendingBody: Buffer;
  sendWindow: number;
  /** Set once the final (non-1xx) response headers arrived: a later HEADERS is trailers. */
  finalHeadersReceived = false;
  private ended = false;

  constructor(
    readonly id: number,
    private readonly session: Http2ClientSession,
    private readonly handler: StreamHandler,
    body: Buffer,
    initialSendWindow: number,
  ) {
    this.pendingBody = body;
    this.sendWindow = initialSendWindow;
  }

  /** Resets the stream (RST_STREAM with `errorCode`, CANCEL by default) and ends it as cancelled. */
  cancel(errorCode: number = ErrorCode.CANCEL): void {
    if (this.ended) return;
    this.session.resetStream(this, errorCode);
    this.finish({ kind: 'cancelled' });
  }

  deliverHeaders(fields: readonly HeaderField[], endStream: boolean): void {
    if (!this.ended) this.handler.headers(fields, endStream);
  }

  deliverData(chunk: Buffer): void {
    if (!this.ended && chunk.length > 0) this.handler.data(chunk);
  }

  finish(end: StreamEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.session.forgetStream(this);
    this.handler.end(end);
  }
}

export class Http2ClientSession {
  /** Invariant: holds the streams that have not ended, and only those. */
  private readonly streams = new Map<number, ClientStream>();
  private nextStreamId = 1;
  private readonly reader = new FrameReader();
  private readonly decoder = new HpackDecoder(HEADER_TABLE_BYTES, MAX_HEADER_BLOCK_BYTES);
  /** A header block being received: HEADERS without END_HEADERS, then CONTINUATIONs. */
  private headerBlock: { readonly streamId: number; readonly endStream: boolean; readonly fragments: Buffer[]; bytes: number } | undefined;
  /** Set once the server's preface (its first SETTINGS) arrived. */
  private serverPrefaceReceived = false;
  private connectionSendWindow = DEFAULT_WINDOW_BYTES;
  private connectionReceiveWindow = DEFAULT_WINDOW_BYTES;
  private connectionUnackedBytes = 0;
  private peerInitialWindow = DEFAULT_WINDOW_BYTES;
  private readonly pings = new Map<string, (err?: Error) => void>();
  private pingCount = 0;
  private socketError: NodeJS.ErrnoException | undefined;
  /** Why we tore the connection down, for the streams it ends. */
  private closeReason: string | undefined;

  connected = false;
  goawayReceived = false;
  /** Set by close(): no new streams; the socket ends once the last stream has. */
  closing = false;
  destroyed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly events: SessionEvents,
  ) {
    socket.setNoDelay(true);
    socket.write(Buffer.concat([CONNECTION_PREFACE, encodeSettings([[Setting.ENABLE_PUSH, 0], [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK_BYTES]])]));
    socket.once('connect', () => {
      this.connected = true;
      this.events.connected();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err;
    });
    socket.once('close', () => this.onSocketClosed());
  }

  /** Whether new streams may be opened. */
  get usable(): boolean {
    return !this.destroyed && !this.closing && !this.goawayReceived;
  }

  /**
   * Opens a stream with the request headers and a non-empty body (its last
   * DATA frame carries END_STREAM), written in one buffer when the windows
   * allow. `fields` is encoded once per list object (hpack/encoder.ts
   * headerBlock), so a list must not change after its first request.
   * Throws when !usable.
   */
  request(fields: readonly (readonly [string, string])[], body: Buffer, handler: StreamHandler): ClientStream {
    if (!this.usable) throw new Error('the HTTP/2 session no longer takes new streams');
    if (this.nextStreamId > MAX_WINDOW_BYTES) throw new Error('the HTTP/2 session has used up its stream identifiers');
    const stream = new ClientStream(this.nextStreamId, this, handler, body, this.peerInitialWindow);
    this.nextStreamId += 2;
    this.streams.set(stream.id, stream);
    const block = headerBlock(fields);
    const out = Buffer.allocUnsafe(2 * FRAME_HEADER_BYTES + block.length + body.length);
    out.set(block, FRAME_HEADER_BYTES);
    const blockEnd = FRAME_HEADER_BYTES + block.length;
    writeFrameHeader(out, 0, blockEnd - FRAME_HEADER_BYTES, FrameType.HEADERS, Flag.END_HEADERS, stream.id);
    const end = this.writeSendableBody(stream, out, blockEnd);
    this.socket.write(out.subarray(0, end));
    return stream;
  }

  /** Sends a PING; `callback` gets its ACK, or an error when the session ends first. */
  ping(callback: (err?: Error) => void): void {
    if (this.destroyed) return callback(new Error('the HTTP/2 session is closed'));
    const payload = Buffer.alloc(PING_PAYLOAD_BYTES);
    payload.writeUInt32BE(++this.pingCount, 4);
    this.pings.set(payload.toString('hex'), callback);
    this.socket.write(encodeFrame(FrameType.PING, 0, 0, payload));
  }

  /** No new streams; the connection ends (GOAWAY, then the socket) once the streams in flight have. */
  close(): void {
    this.closing = true;
    if (this.streams.size === 0) this.shutDown();
  }

  /** Ends the connection now; streams in flight end as connection-lost with `reason`. */
  destroy(reason?: string): void {
    if (this.destroyed) return;
    this.closeReason ??= reason;
    this.destroyed = true;
    this.socket.destroy();
  }

  resetStream(stream: ClientStream, errorCode: number): void {
    if (!this.destroyed) this.socket.write(encodeRstStream(stream.id, errorCode));
  }

  /** A stream error (RFC 9113 section 5.4.2): RST_STREAM with `errorCode`, and the stream ends saying `reason`. */
  private streamError(stream: ClientStream, errorCode: number, reason: string): void {
    this.resetStream(stream, errorCode);
    stream.finish({ kind: 'stream-error', errorCode, reason });
  }

  /**
   * "idle": a stream identifier we have not opened (section 5.1.1: ours are
   * odd and increasing; the server opens none, since push is disabled).
   * "Receiving any frame other than HEADERS or PRIORITY on a stream in this
   * state MUST be treated as a connection error of type PROTOCOL_ERROR", and
   * a HEADERS there would be a server opening a stream, which it may not.
   */
  private failIfIdle(frame: Frame, what: string): void {
    if (frame.streamId % 2 === 0 || frame.streamId >= this.nextStreamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `${what} on stream ${frame.streamId}, which the sidecar never opened`);
    }
  }

  forgetStream(stream: ClientStream): void {
    this.streams.delete(stream.id);
    if (this.streams.size === 0 && (this.closing || this.goawayReceived)) this.shutDown();
  }

  private shutDown(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.socket.end(encodeGoaway(0, ErrorCode.NO_ERROR), () => this.socket.destroy());
  }

  /** Bytes read from the socket; `chunk` is valid only during this call (a reused read buffer). */
  receive(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
      for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) {
        if (this.destroyed) return;
        this.handleFrame(frame);
      }
      const unsent = this.socket.writableLength;
      if (unsent > MAX_UNSENT_BYTES) {
        throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `the driver does not read what the sidecar sends (${unsent} bytes waiting; at most ${MAX_UNSENT_BYTES})`);
      }
    } catch (err) {
      // Runs in a socket event: a throw would end the process. Whatever broke, the connection ends with the reason.
      const errorCode = err instanceof ConnectionError ? err.errorCode : err instanceof HpackError ? ErrorCode.COMPRESSION_ERROR : ErrorCode.INTERNAL_ERROR;
      const message = err instanceof Error ? err.message : String(err);
      this.closeReason =
        err instanceof ConnectionError || err instanceof HpackError ? `the driver broke the HTTP/2 protocol: ${message}` : `the sidecar failed reading the driver's answer: ${message}`;
      this.socket.write(encodeGoaway(0, errorCode));
      this.destroy();
    }
  }

  private handleFrame(frame: Frame): void {
    if (!this.serverPrefaceReceived) {
      // Section 3.4: "The server connection preface consists of a potentially empty SETTINGS frame that MUST be the first
      // frame the server sends"; otherwise, a connection error of type PROTOCOL_ERROR.
      if (frame.type !== FrameType.SETTINGS || frame.flags & Flag.ACK) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `the first frame is of type ${frame.type}, not SETTINGS`);
      this.serverPrefaceReceived = true;
    }
    if (this.headerBlock && frame.type !== FrameType.CONTINUATION) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a header block was interrupted by another frame');
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.onData(frame);
      case FrameType.HEADERS:
        return this.onHeaders(frame);
      case FrameType.CONTINUATION:
        return this.onContinuation(frame);
      case FrameType.RST_STREAM:
        // Section 6.4: "If a RST_STREAM frame is received with a stream identifier of 0x00, the recipient MUST treat this as a
        // connection error of type PROTOCOL_ERROR", "... length other than 4 octets MUST be treated as a connection error of
        // type FRAME_SIZE_ERROR", and one on an idle stream is a PROTOCOL_ERROR too.
        if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (frame.payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM payload is not 4 bytes');
        this.failIfIdle(frame, 'RST_STREAM');
        return this.streams.get(frame.streamId)?.finish({ kind: 'reset', errorCode: frame.payload.readUInt32BE(0) });
      case FrameType.PRIORITY:
        return this.onPriority(frame);
      case FrameType.SETTINGS:
        return this.onSettings(frame);
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE although push is disabled');
      case FrameType.PING:
        return this.onPing(frame);
      case FrameType.GOAWAY:
        return this.onGoaway(frame);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(frame);
      default:
        return; // "Implementations MUST ignore and discard frames of unknown types" (section 5.5)
    }
  }

  /** PRIORITY is deprecated (section 5.3.2) and ignored, but its framing rules still hold (section 6.3). */
  private onPriority(frame: Frame): void {
    if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
    // "A PRIORITY frame with a length other than 5 octets MUST be treated as a stream error of type FRAME_SIZE_ERROR."
    if (frame.payload.length !== 5) {
      const stream = this.streams.get(frame.streamId);
      if (stream) this.streamError(stream, ErrorCode.FRAME_SIZE_ERROR, `PRIORITY payload is ${frame.payload.length} bytes, not 5`);
    }
  }

  /** The payload without padding (PADDED flag: a pad-length byte first, padding last). */
  private unpadded(frame: Frame, extraHeadBytes = 0): Buffer {
    let payload = frame.payload;
    // Section 4.2: a frame "too small to contain mandatory frame data" (the pad length, a HEADERS frame's priority
    // fields) is a FRAME_SIZE_ERROR, a connection error for frames that carry header blocks or DATA's flow control.
    const padLengthBytes = frame.flags & Flag.PADDED ? 1 : 0;
    if (payload.length < padLengthBytes + extraHeadBytes) {
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `a ${payload.length}-byte frame of type ${frame.type} lacks its pad length or priority fields`);
    }
    if (padLengthBytes) {
      const padBytes = payload.readUInt8(0);
      // Sections 6.1 and 6.2: "If the length of the padding is the length of the frame payload or greater, the recipient
      // MUST treat this as a connection error of type PROTOCOL_ERROR."
      if (padBytes + 1 + extraHeadBytes > payload.length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
      payload = payload.subarray(1, payload.length - padBytes);
    }
    return payload.subarray(extraHeadBytes);
  }

  private onData(frame: Frame): void {
    if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    this.failIfIdle(frame, 'DATA');
    // Flow control counts the whole payload, padding included.
    this.connectionReceiveWindow -= frame.payload.length;
    if (this.connectionReceiveWindow < 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the driver sent past the connection window');
    this.connectionUnackedBytes += frame.payload.length;
    if (this.connectionUnackedBytes >= WINDOW_UPDATE_THRESHOLD_BYTES) {
      this.socket.write(encodeWindowUpdate(0, this.connectionUnackedBytes));
      this.connectionReceiveWindow += this.connectionUnackedBytes;
      this.connectionUnackedBytes = 0;
    }
    const stream = this.streams.get(frame.streamId);
    if (!stream) return; // a stream we reset or finished: its window no longer matters, the bytes are dropped
    stream.receiveWindow -= frame.payload.length;
    if (stream.receiveWindow < 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the driver sent past a stream window');
    // Section 8.1: a response is HEADERS first; DATA before the final response headers makes it malformed.
    if (!stream.finalHeadersReceived) return this.streamError(stream, ErrorCode.PROTOCOL_ERROR, 'DATA before the response headers');
    stream.deliverData(this.unpadded(frame)); // a view into the read buffer: the deframer copies what it keeps
    const endStream = (frame.flags & Flag.END_STREAM) !== 0;
    stream.unackedBytes += frame.payload.length;
    if (!endStream && stream.unackedBytes >= WINDOW_UPDATE_THRESHOLD_BYTES && this.streams.has(stream.id)) {
      this.socket.write(encodeWindowUpdate(stream.id, stream.unackedBytes));
      stream.receiveWindow += stream.unackedBytes;
      stream.unackedBytes = 0;
    }
    if (endStream) stream.finish({ kind: 'ended' });
  }

  private onHeaders(frame: Frame): void {
    if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    this.failIfIdle(frame, 'HEADERS');
    const fragment = this.unpadded(frame, frame.flags & Flag.PRIORITY ? 5 : 0);
    this.headerBlock = { streamId: frame.streamId, endStream: (frame.flags & Flag.END_STREAM) !== 0, fragments: [], bytes: 0 };
    this.addFragment(fragment, (frame.flags & Flag.END_HEADERS) !== 0);
  }

  private onContinuation(frame: Frame): void {
    if (!this.headerBlock || this.headerBlock.streamId !== frame.streamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION without a header block before it');
    }
    this.addFragment(frame.payload, (frame.flags & Flag.END_HEADERS) !== 0);
  }

  private addFragment(fragment: Buffer, endHeaders: boolean): void {
    const block = this.headerBlock!;
    block.bytes += fragment.length;
    // A CONTINUATION flood would otherwise grow without end.
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block larger than ${MAX_HEADER_BLOCK_BYTES} bytes`);
    block.fragments.push(endHeaders ? fragment : Buffer.from(fragment)); // kept past this read: copied out of the read buffer
    if (!endHeaders) return;
    this.headerBlock = undefined;
    // Decoded even for a stream we no longer track: the header table is the connection's.
    const fields = this.decoder.decode(block.fragments.length === 1 ? block.fragments[0] : Buffer.concat(block.fragments, block.bytes));
    const stream = this.streams.get(block.streamId);
    if (!stream) return;
    const trailers = stream.finalHeadersReceived;
    const malformed = fieldSectionProblem(fields, trailers);
    if (malformed) return this.streamError(stream, ErrorCode.PROTOCOL_ERROR, malformed);
    if (!trailers) {
      const status = fields.length > 0 && fields[0][0] === ':status' ? fields[0][1] : undefined;
      if (status !== undefined && status[0] === '1' && isThreeDigits(status)) {
        // Section 8.1: "An endpoint that receives a HEADERS frame with the END_STREAM flag set that carries an informational
        // status code is malformed"; section 8.6: HTTP/2 has no 101 (Switching Protocols). Other 1xx answers are skipped.
        if (block.endStream || status === '101') return this.streamError(stream, ErrorCode.PROTOCOL_ERROR, `informational response ${status}${block.endStream ? ' ended the stream' : ''}`);
        return;
      }
      stream.finalHeadersReceived = true;
    } else if (!block.endStream) {
      // Section 8.1: after the final response headers, only trailers, which carry END_STREAM, may come as HEADERS.
      return this.streamError(stream, ErrorCode.PROTOCOL_ERROR, 'a HEADERS frame cannot appear in the middle of a stream');
    }
    stream.deliverHeaders(fields, block.endStream);
    if (block.endStream) stream.finish({ kind: 'ended' });
  }

  private onSettings(frame: Frame): void {
    if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (frame.flags & Flag.ACK) {
      if (frame.payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (frame.payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS payload is not a multiple of 6 bytes');
    for (let offset = 0; offset < frame.payload.length; offset += 6) {
      const id = frame.payload.readUInt16BE(offset);
      const value = frame.payload.readUInt32BE(offset + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_BYTES) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} is too large`);
        const change = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += change;
      } else if (id === Setting.ENABLE_PUSH && value !== 0) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a server may not enable push');
      } else if (id === Setting.MAX_FRAME_SIZE && (value < DEFAULT_MAX_FRAME_BYTES || value > MAX_FRAME_SIZE_SETTING)) {
        // Section 6.5.2: "Values outside this range MUST be treated as a connection error of type PROTOCOL_ERROR."
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} is outside 16384..16777215`);
      }
      // HEADER_TABLE_SIZE: our encoder keeps no table. MAX_FRAME_SIZE: our frames are far below the minimum.
      // MAX_CONCURRENT_STREAMS: a stream past it is refused (REFUSED_STREAM) and retried. Others: ignored.
    }
    this.socket.write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    this.flushBodies();
  }

  private onPing(frame: Frame): void {
    if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (frame.payload.length !== PING_PAYLOAD_BYTES) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING payload is not 8 bytes');
    if (!(frame.flags & Flag.ACK)) {
      this.socket.write(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
      return;
    }
    const key = frame.payload.toString('hex');
    const callback = this.pings.get(key);
    this.pings.delete(key);
    callback?.();
  }

  private onGoaway(frame: Frame): void {
    if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream'); // section 6.8
    if (frame.payload.length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY payload shorter than 8 bytes');
    const lastStreamId = frame.payload.readUInt32BE(0) & 0x7fffffff;
    const firstTime = !this.goawayReceived;
    this.goawayReceived = true;
    // "streams ... with identifiers higher than the last stream identifier ... were not processed"
    for (const stream of [...this.streams.values()]) if (stream.id > lastStreamId) stream.finish({ kind: 'refused-by-goaway' });
    if (firstTime) this.events.goaway();
    if (this.streams.size === 0) this.shutDown();
  }

  private onWindowUpdate(frame: Frame): void {
    if (frame.payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload is not 4 bytes');
    const increment = frame.payload.readUInt32BE(0) & 0x7fffffff;
    // Section 6.9: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window increment of 0 as a
    // stream error of type PROTOCOL_ERROR; errors on the connection flow-control window MUST be treated as a connection error."
    if (frame.streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE with an increment of 0 on the connection');
      this.connectionSendWindow += increment;
      if (this.connectionSendWindow > MAX_WINDOW_BYTES) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window past 2^31-1');
    } else {
      this.failIfIdle(frame, 'WINDOW_UPDATE');
      const stream = this.streams.get(frame.streamId);
      if (!stream) return; // a closed stream: "WINDOW_UPDATE can be sent by a peer that has sent a frame with the END_STREAM flag set"
      if (increment === 0) return this.streamError(stream, ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE with an increment of 0');
      stream.sendWindow += increment;
      // Section 6.9.1: a stream window past 2^31-1 is a stream error of type FLOW_CONTROL_ERROR.
      if (stream.sendWindow > MAX_WINDOW_BYTES) return this.streamError(stream, ErrorCode.FLOW_CONTROL_ERROR, 'stream window past 2^31-1');
    }
    this.flushBodies();
  }

  private flushBodies(): void {
    for (const stream of this.streams.values()) {
      if (stream.pendingBody.length === 0) continue;
      const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + stream.pendingBody.length);
      const end = this.writeSendableBody(stream, out, 0);
      if (end > 0) this.socket.write(out.subarray(0, end));
    }
  }

  /**
   * Writes at `offset` one DATA frame with as much of the stream's pending
   * body as the windows allow (END_STREAM when that is all of it); returns
   * the new offset, unchanged when the windows allow nothing.
   */
  private writeSendableBody(stream: ClientStream, target: Buffer, offset: number): number {
    const length = Math.min(stream.pendingBody.length, stream.sendWindow, this.connectionSendWindow);
    if (length <= 0) return offset;
    stream.pendingBody.copy(target, offset + FRAME_HEADER_BYTES, 0, length);
    stream.pendingBody = stream.pendingBody.subarray(length);
    stream.sendWindow -= length;
    this.connectionSendWindow -= length;
    writeFrameHeader(target, offset, length, FrameType.DATA, stream.pendingBody.length === 0 ? Flag.END_STREAM : 0, stream.id);
    return offset + FRAME_HEADER_BYTES + length;
  }

  private onSocketClosed(): void {
    this.destroyed = true;
    const neverConnected = !this.connected;
    const err = this.socketError;
    const neverConnectedErrno = neverConnected && typeof err?.code === 'string' ? err.code : undefined;
    const connectErrno = err?.syscall === 'connect' ? neverConnectedErrno : undefined;
    const setupErrno = err?.syscall === 'connect' ? undefined : neverConnectedErrno;
    const reason = this.closeReason ?? err?.message;
    for (const stream of [...this.streams.values()]) stream.finish({ kind: 'connection-lost', reason, connectErrno, setupErrno });
    for (const callback of this.pings.values()) callback(new Error('the HTTP/2 session closed'));
    this.pings.clear();
    this.events.closed(neverConnected ? (err ?? new Error('closed while connecting')) : undefined);
  }
}

/**
 * What makes a response's field section malformed (RFC 9113 section 8.2.1,
 * 8.2.2, 8.3 and 8.1), or undefined. Not checked: section 8.2.1's "A field
 * value MUST NOT start or end with an ASCII whitespace character", since
 * grpc-go servers send such grpc-message values themselves (they
 * percent-encode neither SP nor HTAB), and a driver's status would turn into
 * a protocol failure. The texts are those of Go's
 * golang.org/x/net/http2, which grpc-go reports. `trailers`: the section
 * ends a response whose headers came before, and so may carry no
 * pseudo-header field.
 */
export function fieldSectionProblem(fields: readonly HeaderField[], trailers: boolean): string | undefined {
  let sawRegular = false;
  let pseudo: string[] | undefined; // trailers and most answers hold at most :status: made only when one comes
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (hasInvalidFieldValueChar(value)) return `invalid header field value for ${quoteWire(name)}`;
    // Section 8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields";
    // "any message containing connection-specific header fields MUST be treated as malformed".
    if (CONNECTION_SPECIFIC_FIELDS.has(name)) return `connection-specific header field ${quoteWire(name)}`;
    if (name.startsWith(':')) {
      // "All pseudo-header fields MUST appear in a field block before all regular field lines."
      if (sawRegular) return 'pseudo header field after regular';
      if (trailers) return `pseudo-header field ${quoteWire(name)} in trailers`;
      (pseudo ??= []).push(name);
    } else {
      sawRegular = true;
      if (!isLowerCaseToken(name)) return `invalid header field name ${quoteWire(name)}`;
    }
  }
  // Section 8.3: "the same pseudo-header field name MUST NOT appear more than once"; ":status" is the one response
  // pseudo-header field ("Pseudo-header fields defined for requests MUST NOT appear in responses"). Checked in
  // x/net/http2's order, so that the words match where it sees the problem too.
  if (pseudo === undefined) return undefined;
  for (const [index, name] of pseudo.entries()) {
    if (!PSEUDO_HEADER_FIELDS.has(name)) return `invalid pseudo-header ${quoteWire(name)}`;
    if (pseudo.indexOf(name) !== index) return `duplicate pseudo-header ${quoteWire(name)}`;
  }
  const requestField = pseudo.find((name) => name !== ':status');
  if (requestField !== undefined) return pseudo.includes(':status') ? 'mix of request and response pseudo headers' : `invalid pseudo-header ${quoteWire(requestField)}`;
  return undefined;
}

/** RFC 9113 section 8.2.2's connection-specific fields; te is allowed in requests only (as "trailers"). */
const CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te']);

/** RFC 9113 section 8.3: the request pseudo-header fields and the response's one. */
const PSEUDO_HEADER_FIELDS: ReadonlySet<string> = new Set([':method', ':scheme', ':authority', ':path', ':status']);

/** A field name (one character per byte) as Go's %q prints it. */
const quoteWire = (name: string) => quoteGo(Buffer.from(name, 'latin1').toString('utf8'));
