// The HPACK decoder (src/wire/hpack/) against RFC 7541 and against hpack.js,
// an independent encoder: random header lists, Huffman coded or not, indexed
// or not, over many blocks that share one dynamic table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as hpack from 'hpack.js';
import { HpackDecoder } from '../../src/wire/hpack/decoder';
import { encodeHeaderBlock, headerBlock, headerBlockBytes } from '../../src/wire/hpack/encoder';
import { decodeHuffman, huffmanCodes } from '../../src/wire/hpack/huffman';

test('Huffman codes built from the code lengths are RFC 7541 Appendix B and hpack.js table', () => {
  const codes = huffmanCodes();
  // Rows of Appendix B: (sym) code as hex [len].
  const rows: readonly [number, number, number][] = [[0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [48, 0x0, 5], [97, 0x3, 5], [256, 0x3fffffff, 30]];
  for (const [symbol, code, length] of rows) assert.deepEqual(codes[symbol], [code, length], `symbol ${symbol}`);
  assert.deepEqual(
    codes.map(([code, length]) => [length, code]),
    hpack.huffman.encode.map(([length, code]) => [length, code]),
  );
});

/** A reproducible pseudo-random sequence (xorshift32). */
function randomSource(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
}

test('decodes what hpack.js encodes: 500 blocks sharing a dynamic table, every byte value, sizes that evict', () => {
  const random = randomSource(7);
  const text = (length: number) => Array.from({ length }, () => String.fromCharCode(random(256))).join('');
  const names = [':status', 'content-type', 'grpc-status', 'grpc-message', 'grpc-encoding', 'x-custom-' + text(3).replace(/[^a-z]/g, 'a')];
  const encoder = hpack.compressor.create({ table: { maxSize: 4096 } });
  const decoder = new HpackDecoder(4096, 64 * 1024);
  for (let block = 0; block < 500; block++) {
    if (block === 250) encoder.updateTableSize(256); // the decoder must follow a smaller table, evicting
    const fields = Array.from({ length: 1 + random(6) }, () => ({
      name: names[random(names.length)],
      value: random(4) === 0 ? text(random(300)) : ['200', 'application/grpc', '0', 'ok', ''][random(5)],
      huffman: random(2) === 0,
      neverIndex: random(5) === 0,
    }));
    encoder.write(fields);
    const encoded = encoder.read()!;
    assert.deepEqual(
      decoder.decode(encoded),
      fields.map(({ name, value }) => [name, value]),
      `block ${block}`,
    );
  }
});

test('Huffman: every byte value round-trips through hpack.js; EOS and bad padding are errors', () => {
  const all = Array.from({ length: 256 }, (_, byte) => String.fromCharCode(byte)).join('');
  const encoder = hpack.compressor.create({ table: { maxSize: 4096 } });
  encoder.write([{ name: 'grpc-message', value: all, huffman: true, neverIndex: true }]);
  assert.deepEqual(new HpackDecoder(4096, 64 * 1024).decode(encoder.read()!), [['grpc-message', all]]);

  assert.equal(decodeHuffman(Buffer.from([0x1f])), 'a'); // 00011 + 111 padding
  assert.throws(() => decodeHuffman(Buffer.from([0xff, 0xff, 0xff, 0xff])), { message: 'Huffman-coded string contains EOS' });
  assert.throws(() => decodeHuffman(Buffer.from([0x18])), { message: 'Huffman-coded string has invalid padding' }); // 00011 + 000
  assert.throws(() => decodeHuffman(Buffer.from([0x1f, 0xff])), { message: 'Huffman-coded string has invalid padding' }); // 11 bits of padding
});

test('malformed blocks are HpackErrors, and a block past the header list limit is refused', () => {
  const decoder = () => new HpackDecoder(4096, 100);
  const cases: readonly [number[], RegExp][] = [
    [[0x80], /header index 0/],
    [[0xbe], /past the table/], // index 62: the dynamic table is empty
    [[0x3f, 0xe2, 0x1f], /exceeds the 4096 advertised/], // size update to 4097 = 31 + 0x62 + (0x1f << 7)
    [[0x82, 0x20], /size update after a header field/],
    [[0x00, 0x05, 0x61], /runs past the header block/],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], /integer longer than/],
    [[0x40], /ends inside a field/],
  ];
  for (const [bytes, message] of cases) assert.throws(() => decoder().decode(Buffer.from(bytes)), { code: 'ERR_HPACK', message }, String(bytes));
  const long = Buffer.alloc(headerBlockBytes([['a', 'x'.repeat(100)]]));
  encodeHeaderBlock([['a', 'x'.repeat(100)]], long, 0);
  assert.throws(() => decoder().decode(long), { message: /header list larger than 100 bytes/ });
});

test('the request encoder writes literals without indexing that hpack.js-compatible decoders read back', () => {
  const fields: [string, string][] = [[':method', 'POST'], [':path', '/csi.v1.Identity/Probe'], ['grpc-timeout', '3000m'], ['x-long', 'v'.repeat(300)]];
  const block = Buffer.alloc(headerBlockBytes(fields));
  const end = encodeHeaderBlock(fields, block, 0);
  assert.deepEqual(new HpackDecoder(4096, 64 * 1024).decode(block.subarray(0, end)), fields);
});

test('a field list is encoded once: the same block for the same list, read back as it, a new block for a new list', () => {
  const fields: [string, string][] = [[':method', 'POST'], [':path', '/csi.v1.Identity/Probe'], ['grpc-timeout', '3000m']];
  const block = headerBlock(fields);
  assert.equal(headerBlock(fields), block);
  assert.deepEqual(new HpackDecoder(4096, 64 * 1024).decode(block), fields);
  const other: [string, string][] = [[':method', 'POST'], [':path', '/csi.v1.Identity/Probe'], ['grpc-timeout', '2999m']];
  assert.notEqual(headerBlock(other), block);
  assert.deepEqual(new HpackDecoder(4096, 64 * 1024).decode(headerBlock(other)), other);
});
