// A minimal protobuf wire-format reader: tags, varints, length-delimited
// fields, and skipping what we do not read.
//
// Written by hand instead of using protobufjs/minimal: the sidecar reads two
// tiny messages, and loading protobufjs costs about 2.3 MiB of resident memory
// in every pod (measured; see README "Performance").

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufDecodeError extends Error {
  readonly code = 'ERR_PROTOBUF_DECODE';
}

export class WireReader {
  private position = 0;

  constructor(
    private readonly bytes: Buffer,
    /** Reading stops here: the end of the buffer or of an embedded message. */
    private readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  /** Reads a field tag. */
  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    return { field: Math.floor(tag / 8), wireType: tag % 8 };
  }

  /** Reads a varint as a number (exact up to 2^53, enough for tags, lengths and bools). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new ProtobufDecodeError('truncated varint');
      const byte = this.bytes[this.position++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** Reads a length-delimited field's length and returns a reader over just its bytes, moving past them. */
  embedded(): WireReader {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new ProtobufDecodeError('length-delimited field runs past the end');
    this.position += length;
    const inner = new WireReader(this.bytes, start + length);
    inner.position = start;
    return inner;
  }

  string(): string {
    const inner = this.embedded();
    return this.bytes.toString('utf8', inner.position, inner.end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.embedded();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(count: number): void {
    if (this.position + count > this.end) throw new ProtobufDecodeError('truncated fixed-width field');
    this.position += count;
  }
}
