// The parts of gRPC's HTTP/2 protocol a unary call needs, written by hand
// because the only maintained implementations come inside full gRPC stacks
// (grpc-js), which are what the HTTP/2 transport exists to avoid. Source:
// grpc/grpc doc/PROTOCOL-HTTP2.md and doc/http-grpc-status-mapping.md.

import { cardinalityViolation, CsiCallError, invalidCompressedFlag, messageTooLarge, unaskedCompression } from './call-failures';

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

/**
 * Collects the one length-prefixed message of a unary answer from DATA
 * chunks, which may split the message or its 5-byte header anywhere. A byte
 * past that message is a violation at once, so what a call holds is bounded
 * by one message (MAX_RECEIVE_MESSAGE_BYTES), however long the driver goes on.
 *
 * A chunk is valid only during push() (it may be a view into the socket's
 * reused read buffer): what is kept past it is copied.
 */
export class MessageDeframer {
  /** Invariant: at most one message. */
  readonly messages: Buffer[] = [];
  /** Set once a frame is unacceptable; later chunks are ignored. */
  violation: CsiCallError | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while the last pending chunk is the caller's (pushed, not yet copied). */
  private lastChunkBorrowed = false;

  /** The response's grpc-encoding header, named when a compressed message is refused. */
  responseEncoding: string | undefined;

  push(chunk: Buffer): void {
    if (this.violation) return;
    if (this.messages.length > 0 && chunk.length > 0) return this.fail(cardinalityViolation());
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.lastChunkBorrowed = true;
    while (this.pendingBytes >= FRAME_HEADER_BYTES) {
      if (this.pending[0].length < FRAME_HEADER_BYTES) {
        this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
        this.lastChunkBorrowed = false;
      }
      const header = this.pending[0];
      const compressed = header.readUInt8(0);
      const length = header.readUInt32BE(1);
      if (compressed > 1) return this.fail(invalidCompressedFlag(compressed));
      if (compressed === 1) return this.fail(unaskedCompression(this.responseEncoding));
      if (length > MAX_RECEIVE_MESSAGE_BYTES) return this.fail(messageTooLarge(length, MAX_RECEIVE_MESSAGE_BYTES));
      // Joined only once the whole frame is here, so a message in many chunks is copied once more.
      if (this.pendingBytes < FRAME_HEADER_BYTES + length) return this.ownLastChunk();
      const buffered = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      // Copied out, so that the chunk around it is not kept alive by the message.
      this.messages.push(Buffer.from(buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)));
      this.pending = [];
      this.pendingBytes = 0;
      if (buffered.length > FRAME_HEADER_BYTES + length) return this.fail(cardinalityViolation());
      return;
    }
    this.ownLastChunk();
  }

  /** Copies the chunk just pushed, if it is still pending: the caller's buffer is reused after push(). */
  private ownLastChunk(): void {
    if (!this.lastChunkBorrowed || this.pending.length === 0) return;
    this.pending[this.pending.length - 1] = Buffer.from(this.pending[this.pending.length - 1]);
    this.lastChunkBorrowed = false;
  }

  /** Bytes of a frame begun but not finished. */
  get incompleteBytes(): number {
    return this.pendingBytes;
  }

  private fail(violation: CsiCallError): void {
    this.violation = violation;
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
