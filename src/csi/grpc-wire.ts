// The parts of gRPC's HTTP/2 protocol a unary call needs, written by hand
// because the only maintained implementations come inside full gRPC stacks
// (grpc-js), which are what the HTTP/2 transport exists to avoid. Source:
// grpc/grpc doc/PROTOCOL-HTTP2.md and doc/http-grpc-status-mapping.md.

import {
  STATUS_CANCELLED,
  STATUS_INTERNAL,
  STATUS_PERMISSION_DENIED,
  STATUS_RESOURCE_EXHAUSTED,
  STATUS_UNAUTHENTICATED,
  STATUS_UNAVAILABLE,
  STATUS_UNIMPLEMENTED,
  STATUS_UNKNOWN,
} from './grpc-status';

/**
 * The largest answer accepted. The CSI spec ("Size Limits") caps strings at
 * 128 bytes and a map<string, string> at 4 KiB, so a GetPluginInfo answer
 * (name, vendor_version, manifest) stays under about 16 KiB even with the
 * protobuf framing of a manifest of one-byte entries, and a Probe answer is 4
 * bytes. 64 KiB leaves room for drivers that bend the limits; grpc-go's 4 MiB
 * default let a driver keep 4 MiB per call in flight (300 such answers: RSS
 * peak 162 MB on Node 24, measured). A larger answer is ResourceExhausted, in
 * grpc-go's words.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

const FRAME_HEADER_BYTES = 5;

/** "Length-Prefixed-Message → Compressed-Flag Message-Length Message" */
export function frameMessage(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame.writeUInt8(0, 0); // not compressed
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** A status a response broke the protocol with, found while reading it. */
export interface WireViolation {
  readonly code: number;
  readonly message: string;
}

/**
 * grpc-go's words (Internal) when a unary call's answer goes on past its one
 * message: a streaming handler registered by mistake, or DATA without end.
 */
export const CARDINALITY_VIOLATION_TEXT = 'cardinality violation: expected <EOF> for non server-streaming RPCs, but received another message';

/**
 * Collects the one length-prefixed message of a unary answer from DATA
 * chunks, which may split the message or its 5-byte header anywhere. A byte
 * past that message is a violation at once, so what a call holds is bounded
 * by one message (MAX_RECEIVE_MESSAGE_BYTES), however long the driver goes on.
 */
export class MessageDeframer {
  /** Invariant: at most one message. */
  readonly messages: Buffer[] = [];
  /** Set once a frame is unacceptable; later chunks are ignored. */
  violation: WireViolation | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The response's grpc-encoding header, named when a compressed message is refused. */
  responseEncoding: string | undefined;

  push(chunk: Buffer): void {
    if (this.violation) return;
    if (this.messages.length > 0 && chunk.length > 0) return this.fail(STATUS_INTERNAL, CARDINALITY_VIOLATION_TEXT);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= FRAME_HEADER_BYTES) {
      if (this.pending[0].length < FRAME_HEADER_BYTES) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
      const header = this.pending[0];
      const compressed = header.readUInt8(0);
      const length = header.readUInt32BE(1);
      if (compressed > 1) return this.fail(STATUS_INTERNAL, `invalid gRPC frame: compressed flag ${compressed} is neither 0 nor 1`);
      if (compressed === 1) {
        // The sidecar sends no grpc-accept-encoding, so a compressed answer is a protocol error.
        const encoding = this.responseEncoding ?? 'identity';
        return this.fail(STATUS_INTERNAL, `the driver sent a compressed message (grpc-encoding "${encoding}") although none was asked for`);
      }
      if (length > MAX_RECEIVE_MESSAGE_BYTES) {
        return this.fail(STATUS_RESOURCE_EXHAUSTED, `grpc: received message larger than max (${length} vs. ${MAX_RECEIVE_MESSAGE_BYTES})`);
      }
      // Joined only once the whole frame is here, so a message in many chunks is copied once.
      if (this.pendingBytes < FRAME_HEADER_BYTES + length) return;
      const buffered = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      // Copied out, so that the chunk around it is not kept alive by the message.
      this.messages.push(Buffer.from(buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)));
      this.pending = [];
      this.pendingBytes = 0;
      if (buffered.length > FRAME_HEADER_BYTES + length) return this.fail(STATUS_INTERNAL, CARDINALITY_VIOLATION_TEXT);
      return;
    }
  }

  /** Bytes of a frame begun but not finished. */
  get incompleteBytes(): number {
    return this.pendingBytes;
  }

  private fail(code: number, message: string): void {
    this.violation = { code, message };
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** "Timeout → TimeoutValue TimeoutUnit": at most 8 digits, so long deadlines use a coarser unit. */
export function formatGrpcTimeout(timeoutMs: number): string {
  const ms = Math.max(0, Math.ceil(timeoutMs));
  const units: readonly [string, number][] = [
    ['m', 1],
    ['S', 1_000],
    ['M', 60_000],
    ['H', 3_600_000],
  ];
  for (const [unit, msPerUnit] of units) {
    const value = Math.ceil(ms / msPerUnit);
    if (value < 100_000_000) return `${value}${unit}`;
  }
  return '99999999H';
}

/**
 * grpc-message is percent-encoded UTF-8; a malformed escape is kept as it is
 * ("When decoding invalid values, implementations MUST NOT error").
 */
export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const hex = encoded.slice(i + 1, i + 3);
    if (encoded[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(encoded[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** http-grpc-status-mapping.md: the status of a response that is not HTTP 200. */
export function grpcCodeForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return STATUS_INTERNAL;
    case 401:
      return STATUS_UNAUTHENTICATED;
    case 403:
      return STATUS_PERMISSION_DENIED;
    case 404:
      return STATUS_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return STATUS_UNAVAILABLE;
    default:
      return STATUS_UNKNOWN;
  }
}

const RST_STREAM_CODE_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** PROTOCOL-HTTP2.md "Errors": the status of a stream the server reset. */
export function statusForRstStream(rstCode: number): WireViolation {
  const name = RST_STREAM_CODE_NAMES[rstCode] ?? `0x${rstCode.toString(16)}`;
  const message = `stream terminated by RST_STREAM with error code: ${name}`;
  switch (name) {
    case 'REFUSED_STREAM':
      return { code: STATUS_UNAVAILABLE, message };
    case 'CANCEL':
      return { code: STATUS_CANCELLED, message };
    case 'ENHANCE_YOUR_CALM':
      return { code: STATUS_RESOURCE_EXHAUSTED, message };
    case 'INADEQUATE_SECURITY':
      return { code: STATUS_PERMISSION_DENIED, message };
    default:
      return { code: STATUS_INTERNAL, message };
  }
}
