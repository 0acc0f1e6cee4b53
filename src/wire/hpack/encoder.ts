// HPACK encoding of the sidecar's request headers: every field as a
// "literal header field without indexing - new name" with raw strings
// (RFC 7541 section 6.2.2). The requests are a handful of short fields, so
// neither the dynamic table nor Huffman coding would save anything worth
// the code, and the driver's decoder keeps no state for us. So a block is a
// function of its fields alone, and the block of a field list is kept for as
// long as the caller keeps the list: the sidecar sends the same list call
// after call, and encoding it anew took about 4,500 instructions a check in
// the encoder's code (callgrind, Node 24.21).

type FieldList = readonly (readonly [string, string])[];

/** Writes a prefixed integer (RFC 7541 section 5.1) at `offset`; `flags` fills the bits above the prefix. Returns the new offset. */
function writeInteger(target: Buffer, offset: number, value: number, prefixBits: number, flags: number): number {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    target[offset] = flags | value;
    return offset + 1;
  }
  target[offset++] = flags | prefixMax;
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    target[offset++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[offset] = rest;
  return offset + 1;
}

/** The most bytes a prefixed integer of `value` takes (1 byte of prefix, 7 bits per byte after it). */
const integerBytes = (value: number) => 1 + Math.ceil(Math.log2(value + 2) / 7);

/** The most bytes encodeHeaderBlock writes for `fields`. */
export function headerBlockBytes(fields: FieldList): number {
  let bytes = 0;
  for (const [name, value] of fields) bytes += 1 + integerBytes(name.length) + name.length + integerBytes(value.length) + value.length;
  return bytes;
}

/** Encoded blocks by field list; an entry goes when its list is collected. */
const encodedBlocks = new WeakMap<FieldList, Buffer>();

/**
 * The header block of `fields` (names lower-case, pseudo-headers first,
 * latin1 text), the same Buffer for the same list object: neither the list
 * nor its entries may change once encoded (the sidecar's lists are frozen,
 * entries too). The Buffer must not be written to either; it may share
 * Buffer's pool with other small buffers, which never write over it.
 */
export function headerBlock(fields: FieldList): Buffer {
  let block = encodedBlocks.get(fields);
  if (block === undefined) {
    const bytes = Buffer.allocUnsafe(headerBlockBytes(fields));
    block = bytes.subarray(0, encodeHeaderBlock(fields, bytes, 0));
    encodedBlocks.set(fields, block);
  }
  return block;
}

/** Writes fields (names lower-case, pseudo-headers first, latin1 text) at `offset`; returns the new offset. */
export function encodeHeaderBlock(fields: FieldList, target: Buffer, offset: number): number {
  for (const [name, value] of fields) {
    target[offset++] = 0x00; // literal without indexing, new name
    offset = writeString(target, offset, name);
    offset = writeString(target, offset, value);
  }
  return offset;
}

function writeString(target: Buffer, offset: number, text: string): number {
  offset = writeInteger(target, offset, text.length, 7, 0x00); // H = 0: raw
  return offset + target.write(text, offset, 'latin1');
}
