// Target: the protobuf wire-format reader (src/wire/protobuf/reader.ts) through
// the two CSI Identity answers decoded with it (src/csi/identity-messages.ts)
// against protobuf-go unmarshalling the same bytes as csi.v1.GetPluginInfoResponse
// and csi.v1.ProbeResponse. Inputs are field lists built from the wire format's
// pieces (known and unknown field numbers, every wire type, the right and the
// wrong wire type for a known field, repeats, groups, embedded BoolValues and map
// entries, strings valid and not UTF-8, overlong and over-long varints, lengths
// that lie, truncation) serialized to bytes, and raw random bytes. Verdicts
// compared: error or not, and when not, every field's value. Error texts are ours.

import fc from 'fast-check';
import { decodeGetPluginInfoResponse, decodeProbeResponse } from '../../src/csi/identity-messages';
import { buildGoProgram } from '../helpers/go-program';
import type { DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

/** One field as it goes on the wire; `tagWireType` may differ from the value's (a lie). */
type WireField =
  | { readonly kind: 'varint'; readonly field: number; readonly value: Uint8Array }
  | { readonly kind: 'fixed'; readonly field: number; readonly value: Uint8Array }
  | { readonly kind: 'bytes'; readonly field: number; readonly payload: Uint8Array; readonly lengthDelta: number }
  | { readonly kind: 'group'; readonly field: number; readonly endField: number | null; readonly fields: readonly WireField[] }
  | { readonly kind: 'tag'; readonly field: number; readonly wireType: number }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

function varintBytes(value: bigint, padding = 0): number[] {
  const out: number[] = [];
  do {
    const low = Number(value & 0x7fn);
    value >>= 7n;
    out.push(value > 0n ? low | 0x80 : low);
  } while (value > 0n);
  // An overlong but valid form: the same value with zero groups appended (up to 10 bytes in all).
  for (let i = 0; i < padding && out.length < 10; i++) {
    out[out.length - 1] |= 0x80;
    out.push(0);
  }
  return out;
}

const tagBytes = (field: number, wireType: number) => varintBytes((BigInt(field) << 3n) | BigInt(wireType));

function serialize(fields: readonly WireField[]): number[] {
  const out: number[] = [];
  for (const f of fields) {
    switch (f.kind) {
      case 'varint':
        out.push(...tagBytes(f.field, 0), ...f.value);
        break;
      case 'fixed':
        out.push(...tagBytes(f.field, f.value.length === 8 ? 1 : 5), ...f.value);
        break;
      case 'bytes':
        out.push(...tagBytes(f.field, 2), ...varintBytes(BigInt(Math.max(0, f.payload.length + f.lengthDelta))), ...f.payload);
        break;
      case 'group':
        out.push(...tagBytes(f.field, 3), ...serialize(f.fields), ...tagBytes(f.endField ?? f.field, 4));
        break;
      case 'tag':
        out.push(...tagBytes(f.field, f.wireType));
        break;
      case 'raw':
        out.push(...f.bytes);
    }
  }
  return out;
}

/** The fields the two messages know (1, 2, 3), their neighbours, and the edges of the field-number range. */
const fieldNumber = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 1, 2, 3) },
  { weight: 2, arbitrary: fc.integer({ min: 4, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 15, 16, 2 ** 29 - 1, 2 ** 29, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 60) },
);

/** Varint values for bools and unknown varints, in valid, overlong and over-long forms. */
const varintValue = fc.oneof(
  fc.tuple(fc.constantFrom(0n, 1n, 2n, 127n, 128n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n), fc.nat({ max: 9 })).map(([v, pad]) => Uint8Array.from(varintBytes(v, pad % 3 === 0 ? pad : 0))),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => Uint8Array.from(varintBytes(v))),
  // Ten bytes whose last carries more than bit 63, eleven bytes, or a varint cut short.
  fc.constantFrom(
    Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]),
    Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
    Uint8Array.from([0x80]),
  ),
);

/** String payloads: UTF-8 text, and bytes that are not UTF-8 (surrogates, overlong forms, stray continuation bytes). */
const stringPayload = fc.oneof(
  fc.string({ maxLength: 8, unit: 'binary' }).map((s) => Uint8Array.from(Buffer.from(s, 'utf8'))),
  fc.constantFrom('', 'a', 'hostpath.csi.k8s.io', 'é', '\u{10ffff}').map((s) => Uint8Array.from(Buffer.from(s, 'utf8'))),
  fc.uint8Array({ maxLength: 6 }),
  fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf0, 0x9f, 0x98, 0x80]).map((b) => Uint8Array.from(b)),
);

const lengthDelta = fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) });

const { fields } = fc.letrec<{ fields: readonly WireField[]; field: WireField }>((tie) => ({
  fields: fc.array(tie('field'), { maxLength: 5 }),
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('varint' as const), field: fieldNumber, value: varintValue }),
    fc.record({ kind: fc.constant('fixed' as const), field: fieldNumber, value: fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 8, maxLength: 8 })) }),
    fc.record({ kind: fc.constant('bytes' as const), field: fieldNumber, payload: stringPayload, lengthDelta }),
    // An embedded message: a BoolValue as `ready`, a map entry as `manifest`, or anything.
    fc.record({ kind: fc.constant('bytes' as const), field: fieldNumber, payload: tie('fields').map((inner) => Uint8Array.from(serialize(inner as readonly WireField[]))), lengthDelta }),
    fc.record({ kind: fc.constant('group' as const), field: fieldNumber, endField: fc.option(fieldNumber, { freq: 6 }), fields: tie('fields') as fc.Arbitrary<readonly WireField[]> }),
    fc.record({ kind: fc.constant('tag' as const), field: fieldNumber, wireType: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 3 }) }),
  ),
}));

/** The bytes under test, as hex (printed as is when a disagreement is shown). */
const messageHex = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fields, fc.option(fc.nat(), { freq: 8 })).map(([list, cut]) => {
    const bytes = serialize(list);
    return Buffer.from(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1))).toString('hex');
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('hex')) },
);

interface GoAnswer {
  readonly info: { ok: boolean; err?: string; nameHex: string; vendorVersionHex: string; manifestHex: Record<string, string> | null };
  readonly probe: { ok: boolean; err?: string; ready?: 'absent' | 'true' | 'false' };
}

const utf8Hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

function ourInfoVerdict(bytes: Buffer): string {
  try {
    const info = decodeGetPluginInfoResponse(bytes);
    const manifest = [...info.manifest].map(([k, v]) => `${utf8Hex(k)}=${utf8Hex(v)}`).sort();
    return `ok name=${utf8Hex(info.name)} vendor_version=${utf8Hex(info.vendorVersion)} manifest={${manifest.join(',')}}`;
  } catch (err) {
    return `error (${(err as Error).message})`;
  }
}

function goInfoVerdict(answer: GoAnswer['info']): string {
  if (!answer.ok) return `error (${answer.err})`;
  const manifest = Object.entries(answer.manifestHex ?? {}).map(([k, v]) => `${k}=${v}`).sort();
  return `ok name=${answer.nameHex} vendor_version=${answer.vendorVersionHex} manifest={${manifest.join(',')}}`;
}

function ourProbeVerdict(bytes: Buffer): string {
  try {
    const { ready } = decodeProbeResponse(bytes);
    return `ok ready=${ready === undefined ? 'absent' : String(ready)}`;
  } catch (err) {
    return `error (${(err as Error).message})`;
  }
}

const goProbeVerdict = (answer: GoAnswer['probe']) => (answer.ok ? `ok ready=${answer.ready}` : `error (${answer.err})`);

/** Error texts differ on purpose (ours name the rule and the byte); the verdict is "error" or the values. */
const verdictOnly = (verdict: string) => (verdict.startsWith('error') ? 'error' : verdict);

export const protobufTarget: DifferentialTarget<string> = {
  name: 'protobuf',
  description: 'src/csi/identity-messages.ts on src/wire/protobuf/reader.ts vs protobuf-go unmarshalling GetPluginInfoResponse and ProbeResponse',
  inputs: messageHex,
  async open() {
    const oracle = new OracleProcess('go protobuf', buildGoProgram('differential/oracles/go-protobuf', 'oracle-go-protobuf'));
    return {
      async compare(hex) {
        const go = await oracle.ask<GoAnswer>({ bytes: hex });
        const bytes = Buffer.from(hex, 'hex');
        const differences: string[] = [];
        const [oursInfo, theirsInfo] = [ourInfoVerdict(bytes), goInfoVerdict(go.info)];
        if (verdictOnly(oursInfo) !== verdictOnly(theirsInfo)) differences.push(`GetPluginInfoResponse: ours ${oursInfo}; protobuf-go ${theirsInfo}`);
        const [oursProbe, theirsProbe] = [ourProbeVerdict(bytes), goProbeVerdict(go.probe)];
        if (verdictOnly(oursProbe) !== verdictOnly(theirsProbe)) differences.push(`ProbeResponse: ours ${oursProbe}; protobuf-go ${theirsProbe}`);
        return differences.length === 0 ? undefined : `bytes ${hex}: ${differences.join('; ')}`;
      },
      close: () => oracle.close(),
    };
  },
};
