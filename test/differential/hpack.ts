// Target: our HPACK decoder (src/wire/hpack/) against Python's hpack (Debian
// python3-hpack) on generated header block sequences decoded by one decoder
// each (the dynamic table carries over): indexed fields (static, dynamic,
// 0, past the table), literals with and without indexing and never indexed,
// new and indexed names, Huffman and raw strings (with bad padding and EOS
// too), dynamic table size updates (in range, past 4096, after a field),
// eviction, truncated blocks and integers, long integers. Both must decode
// to the same header list, or both refuse the block.
//
// One limit of ours is not Python's (RFC 7541 section 5.1 allows it:
// "Integer encodings that exceed implementation limits -- in value or octet
// length -- MUST be treated as decoding errors"): an integer of more than 4
// continuation bytes. Python reads any; such inputs must be refused by ours
// and are not compared further.

import fc from 'fast-check';
import hpackJs from 'hpack.js';
import * as path from 'node:path';
import { HpackDecoder } from '../../src/wire/hpack/decoder';
import { TEST_SOURCE_DIR } from '../helpers/go-program';
import type { DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

/** Python's hpack Decoder defaults, which ours is given too: a 4,096-byte table and header lists up to 65,536 bytes. */
const TABLE_BYTES = 4_096;
const MAX_HEADER_LIST_BYTES = 65_536;

type Representation =
  | { readonly indexed: number }
  | { readonly literal: 'incremental' | 'without' | 'never'; readonly nameIndex: number; readonly name: Bytes; readonly value: Bytes }
  | { readonly sizeUpdate: number; readonly extraContinuation?: number }
  | { readonly raw: number[] };

interface Bytes {
  readonly text: Buffer;
  readonly huffman: boolean;
  /** Huffman only: how the padding is bent. */
  readonly padding: 'ok' | 'zeros' | 'extra-byte' | 'eos';
}

interface BlockSequence {
  readonly blocks: readonly { readonly representations: readonly Representation[]; readonly truncateBy: number }[];
}

const HUFFMAN_CODES = hpackJs.huffman.encode; // [bit length, code] per symbol: an implementation independent of ours

function integer(value: number, prefixBits: number, flags: number, extraContinuation = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max && extraContinuation === 0) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  // Redundant continuation bytes (a value's high zero bits): a long encoding of the same integer.
  for (let i = 0; i < extraContinuation; i++) out.push(0x80 | rest), (rest = 0);
  out.push(rest);
  return out;
}

function huffmanEncode(text: Buffer, padding: Bytes['padding']): number[] {
  const bits: number[] = [];
  for (const byte of text) {
    const [length, code] = HUFFMAN_CODES[byte];
    for (let i = length - 1; i >= 0; i--) bits.push(Math.floor(code / 2 ** i) % 2);
  }
  if (padding === 'eos') {
    const [length, code] = HUFFMAN_CODES[256];
    for (let i = length - 1; i >= 0; i--) bits.push(Math.floor(code / 2 ** i) % 2);
  }
  while (bits.length % 8 !== 0) bits.push(padding === 'zeros' ? 0 : 1);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((acc, bit) => acc * 2 + bit, 0));
  if (padding === 'extra-byte') out.push(0xff);
  return out;
}

function stringLiteral(bytes: Bytes): number[] {
  const encoded = bytes.huffman ? huffmanEncode(bytes.text, bytes.padding) : [...bytes.text];
  return [...integer(encoded.length, 7, bytes.huffman ? 0x80 : 0), ...encoded];
}

function encode(representation: Representation): number[] {
  if ('indexed' in representation) return integer(representation.indexed, 7, 0x80);
  if ('sizeUpdate' in representation) return integer(representation.sizeUpdate, 5, 0x20, representation.extraContinuation ?? 0);
  if ('raw' in representation) return representation.raw;
  const [prefixBits, flags] = representation.literal === 'incremental' ? [6, 0x40] : representation.literal === 'never' ? [4, 0x10] : [4, 0x00];
  const name = representation.nameIndex === 0 ? stringLiteral(representation.name) : [];
  return [...integer(representation.nameIndex, prefixBits, flags), ...name, ...stringLiteral(representation.value)];
}

const text = fc.oneof(
  fc.constantFrom('', 'grpc-status', 'content-type', 'application/grpc', '0', 'x-md', 'café', ':status', 'a'.repeat(40)).map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
  fc.integer({ min: 1000, max: 4200 }).map((n) => Buffer.alloc(n, 0x61)), // fills, overflows and empties the table
);
const bytes: fc.Arbitrary<Bytes> = fc.record({
  text,
  huffman: fc.boolean(),
  padding: fc.oneof({ weight: 12, arbitrary: fc.constant('ok' as const) }, { weight: 1, arbitrary: fc.constantFrom('zeros' as const, 'extra-byte' as const, 'eos' as const) }),
});
const representation: fc.Arbitrary<Representation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      indexed: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 1, max: 61 }) },
        { weight: 2, arbitrary: fc.integer({ min: 62, max: 64 }) }, // the dynamic table's newest entries
        { weight: 1, arbitrary: fc.constantFrom(0, 70, 127, 128, 5000, 2 ** 28) },
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      literal: fc.constantFrom('incremental' as const, 'without' as const, 'never' as const),
      nameIndex: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 61 }) }, { weight: 1, arbitrary: fc.integer({ min: 62, max: 66 }) }),
      name: bytes,
      value: bytes,
    }),
  },
  { weight: 1, arbitrary: fc.record({ sizeUpdate: fc.constantFrom(0, 32, 100, 4096, 4097, 2 ** 20) }) },
  // The same sizes in longer encodings (redundant continuation bytes): RFC 7541 lets a decoder refuse past its limit.
  { weight: 1, arbitrary: fc.record({ sizeUpdate: fc.constantFrom(31, 100, 4096), extraContinuation: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ raw: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }) }) }, // anything at all
);
const sequences: fc.Arbitrary<BlockSequence> = fc.record({
  blocks: fc.array(
    fc.record({
      representations: fc.array(representation, { maxLength: 5 }),
      truncateBy: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

function blockBytes(block: BlockSequence['blocks'][number]): Buffer {
  const bytes = block.representations.flatMap(encode);
  return Buffer.from(bytes.slice(0, Math.max(0, bytes.length - block.truncateBy)));
}

type Outcome = { readonly headers: readonly (readonly [string, string])[] } | { readonly error: string };

const describe = (outcomes: readonly Outcome[]) => JSON.stringify(outcomes.map((o) => ('error' in o ? `error ${o.error}` : o.headers)));

export const hpackTarget: DifferentialTarget<BlockSequence> = {
  name: 'hpack',
  description: "src/wire/hpack/decoder.ts vs Python's hpack (python3-hpack) on generated header block sequences",
  inputs: sequences,
  async open() {
    const oracle = new OracleProcess('python hpack', '/usr/bin/python3', [path.join(TEST_SOURCE_DIR, 'differential', 'oracles', 'python-hpack', 'oracle.py')]);
    return {
      async compare(sequence) {
        const blocks = sequence.blocks.map(blockBytes);
        const decoder = new HpackDecoder(TABLE_BYTES, MAX_HEADER_LIST_BYTES);
        const ours: Outcome[] = [];
        for (const block of blocks) {
          try {
            ours.push({ headers: decoder.decode(block).map(([name, value]) => [Buffer.from(name, 'latin1').toString('hex'), Buffer.from(value, 'latin1').toString('hex')]) });
          } catch (err) {
            ours.push({ error: (err as Error).message });
            break;
          }
        }
        const theirs = await oracle.ask<Outcome[]>({ blocks: blocks.map((block) => block.toString('hex')) });
        const same =
          ours.length === theirs.length &&
          ours.every((o, i) => {
            const t = theirs[i];
            if ('error' in o || 'error' in t) return 'error' in o && 'error' in t;
            return JSON.stringify(o.headers) === JSON.stringify(t.headers);
          });
        if (same) return undefined;
        // RFC 7541 section 5.1: our limit on an integer's length.
        const last = ours[ours.length - 1];
        if ('error' in last && last.error === 'integer longer than 4 continuation bytes') return undefined;
        return `blocks ${blocks.map((b) => b.toString('hex')).join(' ')}: ours ${describe(ours)}; Python hpack ${describe(theirs)}`;
      },
      close: () => oracle.close(),
    };
  },
};
