// gRPC message framing (grpc/grpc doc/PROTOCOL-HTTP2.md, "Length-Prefixed-
// Message") and the grpc-timeout header, for unary calls. Written by hand
// because the only maintained implementations come inside full gRPC stacks
// (grpc-js), which are what the sidecar's own HTTP/2 client exists to avoid.
// Knows nothing of who calls: a broken answer is a GrpcWireProblem.

import type { GrpcWireProblem } from './wire-error';

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
 * by one message (at most `maxMessageBytes`), however long the peer goes on.
 *
 * A chunk is valid only during push() (it may be a view into the socket's
 * reused read buffer): what is kept past it is copied.
 */
export class MessageDeframer {
  /** Invariant: at most one message. */
  readonly messages: Buffer[] = [];
  /** Set once a frame is unacceptable; later chunks are ignored. */
  violation: GrpcWireProblem | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while the last pending chunk is the caller's (pushed, not yet copied). */
  private lastChunkBorrowed = false;

  /** The response's grpc-encoding header, named when a compressed message is refused. */
  responseEncoding: string | undefined;

  /** `maxMessageBytes`: the longest message accepted; a longer one is message-too-large before any of it is kept. */
  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Buffer): void {
    if (this.violation) return;
    if (this.messages.length > 0 && chunk.length > 0) return this.fail({ kind: 'cardinality-violation' });
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
      if (compressed > 1) return this.fail({ kind: 'invalid-compressed-flag', flag: compressed });
      if (compressed === 1) return this.fail({ kind: 'unasked-compression', encoding: this.responseEncoding });
      if (length > this.maxMessageBytes) return this.fail({ kind: 'message-too-large', length, limitBytes: this.maxMessageBytes });
      // Joined only once the whole frame is here, so a message in many chunks is copied once more.
      if (this.pendingBytes < FRAME_HEADER_BYTES + length) return this.ownLastChunk();
      const buffered = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      // Copied out, so that the chunk around it is not kept alive by the message.
      this.messages.push(Buffer.from(buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)));
      this.pending = [];
      this.pendingBytes = 0;
      if (buffered.length > FRAME_HEADER_BYTES + length) return this.fail({ kind: 'cardinality-violation' });
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

  private fail(violation: GrpcWireProblem): void {
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
