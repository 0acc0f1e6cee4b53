// HPACK encoding of the sidecar's request headers: every field as a
// "literal header field without indexing - new name" with raw strings
// (RFC 7541 section 6.2.2). The requests are a handful of short fields, so
// neither the dynamic table nor Huffman coding would save anything worth
// the code, and the driver's decoder keeps no state for us. Blocks are
// written into a caller's buffer, so a call allocates one buffer for its
// whole request.

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
export function headerBlockBytes(fields: readonly (readonly [string, string])[]): number {
  let bytes = 0;
  for (const [name, value] of fields) bytes += 1 + integerBytes(name.length) + name.length + integerBytes(value.length) + value.length;
  return bytes;
}

/** Writes fields (names lower-case, pseudo-headers first, latin1 text) at `offset`; returns the new offset. */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[], target: Buffer, offset: number): number {
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
