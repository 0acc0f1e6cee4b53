// HPACK header block decoding (RFC 7541), for the response headers and
// trailers a driver sends. Written by hand: the only standalone HPACK
// packages on npm are unmaintained (last releases 2015-2016), and the one
// maintained implementation, Node's nghttp2 binding, comes only with
// node:http2, which costs 10 MiB of resident memory on Node 24 (measured;
// docs/design.md, "The CSI transport").
//
// Bounded: the dynamic table holds at most the size we advertise
// (SETTINGS_HEADER_TABLE_SIZE, 4,096 bytes by default), and a block's
// decoded fields at most `maxHeaderListBytes` (RFC 7541 section 4.1 sizes).

import { HpackError } from './error';
import { decodeHuffman } from './huffman';

/** RFC 7541 Appendix A. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** "The size of an entry is the sum of its name's length in octets, its value's length in octets, and 32." */
const ENTRY_OVERHEAD_BYTES = 32;

export type HeaderField = readonly [name: string, value: string];

export class HpackDecoder {
  /** Newest first. Invariant: tableBytes is the sum of the entries' sizes and at most tableLimitBytes. */
  private readonly dynamicTable: HeaderField[] = [];
  private tableBytes = 0;
  private tableLimitBytes: number;

  constructor(
    /** The SETTINGS_HEADER_TABLE_SIZE we advertise: the most a size update may ask for. */
    private readonly maxTableBytes: number,
    /** The most one block may decode to (RFC 7541 entry sizes); past it, HpackError. */
    private readonly maxHeaderListBytes: number,
  ) {
    this.tableLimitBytes = maxTableBytes;
  }

  /** Decodes one complete header block; throws HpackError. */
  decode(block: Buffer): HeaderField[] {
    const reader = new BlockReader(block);
    const fields: HeaderField[] = [];
    let listBytes = 0;
    let fieldSeen = false;
    while (!reader.done) {
      const first = reader.peek();
      let field: HeaderField;
      if (first & 0x80) {
        field = this.entry(reader.integer(7)); // indexed
      } else if (first & 0x40) {
        field = this.literal(reader, 6);
        this.insert(field); // with incremental indexing
      } else if (first & 0x20) {
        // "This dynamic table size update MUST occur at the beginning of the first header block following the change"
        if (fieldSeen) throw new HpackError('dynamic table size update after a header field');
        const size = reader.integer(5);
        if (size > this.maxTableBytes) throw new HpackError(`dynamic table size update to ${size} exceeds the ${this.maxTableBytes} advertised`);
        this.tableLimitBytes = size;
        this.evictTo(size);
        continue;
      } else {
        field = this.literal(reader, 4); // without indexing (0000) or never indexed (0001)
      }
      fieldSeen = true;
      listBytes += field[0].length + field[1].length + ENTRY_OVERHEAD_BYTES;
      if (listBytes > this.maxHeaderListBytes) throw new HpackError(`header list larger than ${this.maxHeaderListBytes} bytes`);
      fields.push(field);
    }
    return fields;
  }

  private literal(reader: BlockReader, prefixBits: number): HeaderField {
    const nameIndex = reader.integer(prefixBits);
    const name = nameIndex === 0 ? reader.string() : this.entry(nameIndex)[0];
    return [name, reader.string()];
  }

  private entry(index: number): HeaderField {
    if (index === 0) throw new HpackError('header index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    const entry = this.dynamicTable[index - STATIC_TABLE.length - 1];
    if (!entry) throw new HpackError(`header index ${index} is past the table`);
    return entry;
  }

  private insert(field: HeaderField): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD_BYTES;
    // "an attempt to add an entry larger than the maximum size causes the table to be emptied"
    this.evictTo(Math.max(0, this.tableLimitBytes - size));
    if (size <= this.tableLimitBytes) {
      this.dynamicTable.unshift(field);
      this.tableBytes += size;
    }
  }

  private evictTo(limitBytes: number): void {
    while (this.tableBytes > limitBytes) {
      const [name, value] = this.dynamicTable.pop()!;
      this.tableBytes -= name.length + value.length + ENTRY_OVERHEAD_BYTES;
    }
  }
}

/** Reads HPACK's primitives: prefixed integers (section 5.1) and string literals (section 5.2). */
class BlockReader {
  private position = 0;

  constructor(private readonly block: Buffer) {}

  get done(): boolean {
    return this.position >= this.block.length;
  }

  peek(): number {
    return this.block[this.position];
  }

  integer(prefixBits: number): number {
    const prefixMax = (1 << prefixBits) - 1;
    let value = this.byte() & prefixMax;
    if (value < prefixMax) return value;
    for (let shift = 0; ; shift += 7) {
      // Header sizes and indexes fit in far fewer bits; a longer integer is an attack or garbage.
      if (shift > 21) throw new HpackError('integer longer than 4 continuation bytes');
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** A string literal, as latin1: header bytes map one to one onto characters. */
  string(): string {
    const huffman = (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    if (this.position + length > this.block.length) throw new HpackError('string literal runs past the header block');
    const start = this.position;
    this.position += length;
    return huffman ? decodeHuffman(this.block.subarray(start, this.position)) : this.block.toString('latin1', start, this.position);
  }

  private byte(): number {
    if (this.done) throw new HpackError('header block ends inside a field');
    return this.block[this.position++];
  }
}
