// HTTP/2 framing (RFC 9113 section 4 and 6) for the client side of one
// connection: the frame types, flags, settings and error codes the sidecar
// uses, frame encoding, and a reader that cuts a byte stream into frames.
// Part of the hand-written client (client-session.ts says why).

export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** "The initial value for SETTINGS_MAX_FRAME_SIZE is 2^14 (16,384) octets": the most we accept. */
export const DEFAULT_MAX_FRAME_BYTES = 16_384;
/** The flow-control window every stream and the connection start with. */
export const DEFAULT_WINDOW_BYTES = 65_535;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Writes a frame header at `offset` of `target`. */
export function writeFrameHeader(target: Buffer, offset: number, payloadBytes: number, type: number, flags: number, streamId: number): void {
  target.writeUIntBE(payloadBytes, offset, 3);
  target.writeUInt8(type, offset + 3);
  target.writeUInt8(flags, offset + 4);
  target.writeUInt32BE(streamId & 0x7fffffff, offset + 5);
}

export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, 0, payload.length, type, flags, streamId);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeSettings(settings: readonly (readonly [number, number])[]): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], index) => {
    payload.writeUInt16BE(id, 6 * index);
    payload.writeUInt32BE(value, 6 * index + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function encodeRstStream(streamId: number, errorCode: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(errorCode, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function encodeGoaway(lastStreamId: number, errorCode: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(errorCode, 4);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/** A frame that breaks the protocol for the whole connection (RFC 9113 section 5.4.1). */
export class ConnectionError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Cuts the connection's bytes into frames. Holds at most one frame's bytes
 * (DEFAULT_MAX_FRAME_BYTES plus its header): a longer frame is a
 * FRAME_SIZE_ERROR before any of its payload is kept.
 *
 * The chunks pushed live in the socket's one reused read buffer, so what is
 * kept past a push is copied, and a frame's payload may be a view into that
 * buffer: valid until the next push(), copied by whoever keeps it.
 */
export class FrameReader {
  /** The bytes being read: the last chunk pushed, after the held bytes of a frame begun in earlier reads. */
  private input: Buffer = EMPTY;
  /** Where the next frame starts in `input`. */
  private offset = 0;
  /** Bytes of a frame not complete at the end of a read, copied out of the read buffer. Invariant: under one frame. */
  private held: Buffer | undefined;

  /** Adds bytes read; then call next() until it returns undefined. */
  push(chunk: Buffer): void {
    this.input = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = undefined;
    this.offset = 0;
  }

  /**
   * The next complete frame of what was pushed, in order; undefined once the
   * rest is incomplete (it is then kept, copied). A frame that breaks a rule
   * (a FRAME_SIZE_ERROR, thrown as ConnectionError) fails only when reached,
   * after the frames before it, as a peer reading the stream in order sees them.
   * No generator and no array per read: the allocations per check decide its CPU.
   */
  next(): Frame | undefined {
    const input = this.input;
    const at = this.offset;
    const available = input.length - at;
    if (available >= FRAME_HEADER_BYTES) {
      const length = input.readUIntBE(at, 3);
      if (length > DEFAULT_MAX_FRAME_BYTES) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `the driver sent a ${length}-byte frame; at most ${DEFAULT_MAX_FRAME_BYTES} were allowed`);
      const total = FRAME_HEADER_BYTES + length;
      if (available >= total) {
        this.offset = at + total;
        return { type: input[at + 3], flags: input[at + 4], streamId: input.readUInt32BE(at + 5) & 0x7fffffff, payload: input.subarray(at + FRAME_HEADER_BYTES, at + total) };
      }
    }
    if (available > 0) this.held = Buffer.from(input.subarray(at));
    this.input = EMPTY;
    this.offset = 0;
    return undefined;
  }
}
