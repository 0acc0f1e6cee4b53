// HPACK's Huffman code (RFC 7541 section 5.2 and Appendix B): decoding only;
// the sidecar sends its few header strings raw.
//
// The code is canonical: codes of one length are consecutive in symbol
// order, and each length's first code follows the last shorter one. So the
// 257 code lengths of Appendix B determine every code, and the table below
// is just those lengths; the unit test checks the codes built from them
// against Appendix B's and against an independent encoder.

import { HpackError } from './error';

/** Code length in bits of each symbol 0-255 and of EOS (256), from RFC 7541 Appendix B. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6,
  12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13,
  14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14,
  13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23,
  23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22,
  22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27,
  27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27,
  27, 26, 30,
];

const EOS = 256;

/** The canonical codes: [code, length] per symbol. */
export function huffmanCodes(): readonly (readonly [number, number])[] {
  const symbols = CODE_LENGTHS.map((_, symbol) => symbol).sort((a, b) => CODE_LENGTHS[a] - CODE_LENGTHS[b] || a - b);
  const codes: [number, number][] = new Array(CODE_LENGTHS.length);
  let code = 0;
  let length = CODE_LENGTHS[symbols[0]];
  symbols.forEach((symbol, index) => {
    if (index > 0) code = (code + 1) * 2 ** (CODE_LENGTHS[symbol] - length);
    length = CODE_LENGTHS[symbol];
    codes[symbol] = [code, length];
  });
  return codes;
}

/**
 * The code as a binary tree in one array: node n's children are at
 * tree[2n] (bit 0) and tree[2n + 1] (bit 1); a value >= 0 is an inner node,
 * a value < 0 a leaf holding -(symbol + 1). Node 0 is the root.
 */
function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 2 * CODE_LENGTHS.length).fill(0);
  let nodes = 1;
  huffmanCodes().forEach(([code, length], symbol) => {
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) % 2);
      if (bit === 0) tree[slot] = -(symbol + 1);
      else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot];
      }
    }
  });
  return tree;
}

let decodeTree: Int32Array | undefined;

/** Decodes a Huffman-coded string literal into a latin1 string; throws HpackError on EOS, bad padding or a cut code. */
export function decodeHuffman(input: Buffer): string {
  const tree = (decodeTree ??= buildTree());
  let output = '';
  let node = 0;
  /** Bits read since the last whole symbol, and whether they were all 1s (a valid padding so far). */
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      const next = tree[2 * node + one];
      pendingBits++;
      pendingAllOnes &&= one === 1;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) throw new HpackError('Huffman-coded string contains EOS');
        output += String.fromCharCode(symbol);
        node = 0;
        pendingBits = 0;
        pendingAllOnes = true;
      } else {
        node = next;
      }
    }
  }
  // "Padding strictly longer than 7 bits MUST be treated as a decoding error", and it must be EOS's leading 1s.
  if (pendingBits > 7 || !pendingAllOnes) throw new HpackError('Huffman-coded string has invalid padding');
  return output;
}
